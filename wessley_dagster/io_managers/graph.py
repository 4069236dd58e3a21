"""Graph IO manager: writes a job's GraphPayload to Neo4j/ArcadeDB (idempotent, stale parts
removed) and hands downstream steps a `GraphView` for queries instead of a copy of the graph."""

from dataclasses import dataclass
from typing import Any

from dagster import ConfigurableIOManager, InitResourceContext, InputContext, OutputContext, ResourceDependency

from wessley_dagster.domain.bundle import split_partition_key
from wessley_dagster.domain.graph_model import GraphPayload
from wessley_dagster.resources.graph import GraphResource
from wessley_dagster.retries import is_transient, retry_only_transient
from wessley_dagster.stores.graph import GraphStore

COUNT_PREFIX = "graph/"


def loaded_graph_counts(metadata: dict[str, Any]) -> dict[str, int]:
    """A job's own node and relationship counts as this IO manager recorded them when it loaded
    the graph (the project's shared Vehicle left out)."""
    counts = {k.removeprefix(COUNT_PREFIX): int(v) for k, v in metadata.items() if k.startswith(COUNT_PREFIX)}
    counts.pop("Vehicle", None)
    return counts


@dataclass(frozen=True)
class GraphView:
    """One job's graph, for downstream assets: counts and the connectivity queries."""

    store: GraphStore
    project_id: str
    job_id: str

    def counts(self) -> dict[str, int]:
        return self.store.counts(self.project_id, self.job_id)

    def net_members(self, net: str) -> list[dict[str, Any]]:
        return self.store.net_members(self.project_id, net, self.job_id)

    def reach(self, component_id: str, pin: str | None = None, hops: int = 1) -> list[dict[str, Any]]:
        return self.store.reach(self.project_id, self.job_id, component_id, pin, hops)

    def shortest_path(self, start: str, end: str) -> list[dict[str, str]]:
        return self.store.shortest_path(self.project_id, self.job_id, start, end)

    def net_summary(self) -> list[dict[str, Any]]:
        return self.store.net_summary(self.project_id, self.job_id)


class GraphIOManager(ConfigurableIOManager):
    """Loads a job's graph into Neo4j or the embedded ArcadeDB (idempotently, stale parts removed)
    and hands downstream assets a GraphView to query it."""

    graph: ResourceDependency[GraphResource]

    def handle_output(self, context: OutputContext, obj: GraphPayload) -> None:
        with retry_only_transient("schematic_graph"):
            try:
                load_id = self.graph.store.load(obj)
            except Exception as exc:
                if is_transient(exc):  # the next try connects anew, restarting our embedded server if it died
                    self.graph.reset()
                raise
        counts = {f"{COUNT_PREFIX}{k}": v for k, v in sorted(obj.counts().items())}
        context.add_output_metadata({"load_id": load_id, **counts})

    def load_input(self, context: InputContext) -> GraphView:
        project_id, job_id = split_partition_key(context.asset_partition_key)
        return GraphView(self.graph.store, project_id, job_id)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self.graph.teardown_after_execution(context)  # as the vector IO manager's copy: not torn down otherwise
