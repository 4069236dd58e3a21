"""Asset checks on the two indexes, per partition: the stores hold exactly what the bundle says.

All are blocking: a failing one (severity ERROR) stops `job_record`, so the run fails, the
failure sensor marks the job `failed` with the check's name, and a job is never `succeeded` with
a graph or index that does not hold its bundle."""

import warnings
from collections.abc import Callable
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetIn,
    PreviewWarning,
    asset_check,
)

from wessley_dagster.assets.chunks import chunks as chunks_asset
from wessley_dagster.assets.common import EMBEDDED_VECTORS_POOL, EMBEDDED_VECTORS_TAGS, recorded_metadata
from wessley_dagster.assets.embeddings import embeddings
from wessley_dagster.assets.indexes import schematic_graph, vector_index
from wessley_dagster.assets.table_metadata import ROW_COUNT
from wessley_dagster.domain.bundle import (
    Component,
    Netlist,
    declared_pin_mismatches,
    split_partition_key,
)
from wessley_dagster.io_managers.graph import loaded_graph_counts
from wessley_dagster.partitions import ingestion_partitions
from wessley_dagster.resources.graph import GraphResource
from wessley_dagster.resources.vectors import VectorResource

ERROR = AssetCheckSeverity.ERROR  # a failure blocks job_record


def per_job_check(**kwargs: Any) -> Callable[[Callable[..., AssetCheckResult]], AssetChecksDefinition]:
    """A blocking check of one partition of a per-job asset. Partitioned checks are a Dagster
    preview, chosen knowingly: its notice is silenced for this definition only, not the process."""

    def define(check: Callable[..., AssetCheckResult]) -> AssetChecksDefinition:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=PreviewWarning)
            return asset_check(partitions_def=ingestion_partitions, blocking=True, **kwargs)(check)

    return define


@per_job_check(asset=schematic_graph)
def graph_counts_match_bundle(context: AssetCheckExecutionContext, graph: GraphResource) -> AssetCheckResult:
    """Every node label and relationship type in the graph has exactly the count of the graph
    built from the bundle, as the graph IO manager recorded it when it loaded that graph."""
    project_id, job_id = split_partition_key(context.partition_key)
    expected = loaded_graph_counts(recorded_metadata(context, schematic_graph.key))
    actual = graph.store.counts(project_id, job_id)
    diff = {k: {"bundle": v, "graph": actual.get(k, 0)} for k, v in expected.items() if actual.get(k, 0) != v}
    return AssetCheckResult(
        passed=bool(expected) and not diff,
        severity=ERROR,
        metadata={"expected": expected, "actual": actual, "mismatches": diff},
    )


@per_job_check(
    asset=schematic_graph,
    additional_ins={name: AssetIn(name) for name in ("components", "netlist")},
)
def connections_resolve(
    context: AssetCheckExecutionContext, components: list[Component], netlist: Netlist, graph: GraphResource
) -> AssetCheckResult:
    """Each netlist connection names a pin its component declares, and exists as Component→Pin→Net."""
    project_id, job_id = split_partition_key(context.partition_key)
    undeclared = declared_pin_mismatches(components, netlist)
    rows = [{"component_id": c.component_id, "pin": c.pin, "net": n.name} for n in netlist.nets for c in n.connections]
    missing = graph.store.missing_connections(project_id, job_id, rows)
    return AssetCheckResult(
        passed=not undeclared and not missing,
        severity=ERROR,
        metadata={
            "connections": len(rows),
            "undeclared_pins": undeclared[:20],
            "missing_in_graph": [f"{m['component_id']}.{m['pin']} on {m['net']}" for m in missing[:20]],
        },
    )


@per_job_check(asset=schematic_graph)
def no_orphan_pins(context: AssetCheckExecutionContext, graph: GraphResource) -> AssetCheckResult:
    """No Pin node without the Component that has it."""
    orphans = graph.store.orphan_pins(*split_partition_key(context.partition_key))
    return AssetCheckResult(passed=orphans == 0, severity=ERROR, metadata={"orphan_pins": orphans})


@per_job_check(
    asset=vector_index,
    pool=EMBEDDED_VECTORS_POOL,
    op_tags=EMBEDDED_VECTORS_TAGS,
)
def vector_count_matches_chunks(context: AssetCheckExecutionContext, vectors: VectorResource) -> AssetCheckResult:
    """The job has exactly one vector point per chunk. The chunks are counted from their
    materialization's metadata: parsing a 1,000-page vehicle's 60,000 chunks to count them was
    most of the check's time."""
    chunks = int(recorded_metadata(context, chunks_asset.key).get(ROW_COUNT, -1))
    points = vectors.store.count(*split_partition_key(context.partition_key))
    return AssetCheckResult(passed=points == chunks, severity=ERROR, metadata={"points": points, "chunks": chunks})


@per_job_check(
    asset=vector_index,
    pool=EMBEDDED_VECTORS_POOL,
    op_tags=EMBEDDED_VECTORS_TAGS,
)
def vector_dimension_matches_collection(
    context: AssetCheckExecutionContext, vectors: VectorResource
) -> AssetCheckResult:
    """The dimension this partition's embeddings were made with is the collection's. It is read
    from their materialization's metadata: loading the vectors to learn one number cost more than
    every other check together at 1,000 pages."""
    embedded = int(recorded_metadata(context, embeddings.key).get("dimension", 0))
    collection = vectors.store.dimension()
    return AssetCheckResult(
        passed=bool(embedded) and collection == embedded,
        severity=ERROR,
        metadata={"collection_dimension": collection or 0, "embedding_dimension": embedded},
    )


ALL_CHECKS = [
    graph_counts_match_bundle,
    connections_resolve,
    no_orphan_pins,
    vector_count_matches_chunks,
    vector_dimension_matches_collection,
]
