"""Graph IO manager: writes a job's GraphPayload to Neo4j/ArcadeDB (idempotent, stale parts
removed). Downstream steps query the graph through the `graph` resource, never a copy of it."""

from typing import Any

from dagster import ConfigurableIOManager, InitResourceContext, InputContext, OutputContext, ResourceDependency

from wessley_dagster.domain.graph_model import GraphPayload
from wessley_dagster.resources.graph import GraphResource
from wessley_dagster.retries import is_transient, retry_only_transient

COUNT_PREFIX = "graph/"


def loaded_graph_counts(metadata: dict[str, Any]) -> dict[str, int]:
    """A job's own node and relationship counts as this IO manager recorded them when it loaded
    the graph (the project's shared Vehicle left out)."""
    counts = {k.removeprefix(COUNT_PREFIX): int(v) for k, v in metadata.items() if k.startswith(COUNT_PREFIX)}
    counts.pop("Vehicle", None)
    return counts


class GraphIOManager(ConfigurableIOManager):
    """Loads a job's graph into Neo4j or the embedded ArcadeDB (idempotently, stale parts removed)."""

    graph: ResourceDependency[GraphResource]

    @property
    def kind(self) -> str:
        return self.graph.kind

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

    def load_input(self, context: InputContext) -> None:
        raise TypeError(
            f"{context.asset_key.to_user_string()} lives in the graph database: depend on it with `deps` and "
            "query it through the `graph` resource"
        )

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self.graph.teardown_after_execution(context)  # as the vector IO manager's copy: not torn down otherwise
