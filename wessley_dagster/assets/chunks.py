"""Chunks of text, components, nets and pages: what the vector index holds."""

from dagster import AssetExecutionContext, asset

from wessley_dagster.assets.common import ARTIFACTS_IO, OWNERS, TAGS, record_stage, stored_in
from wessley_dagster.assets.table_metadata import table_metadata
from wessley_dagster.domain.bundle import Component, Netlist, TextSpan, ValidatedUpload
from wessley_dagster.domain.chunking import CHUNKER_VERSION, Chunk, build_chunks
from wessley_dagster.partitions import ingestion_partitions
from wessley_dagster.resources.metadata import MetadataResource


@asset(
    group_name="index",
    kinds=stored_in(ARTIFACTS_IO),
    io_manager_key=ARTIFACTS_IO,
    partitions_def=ingestion_partitions,
    owners=OWNERS,
    tags=TAGS,
    code_version=CHUNKER_VERSION,
)
def chunks(
    context: AssetExecutionContext,
    bundle: ValidatedUpload,
    text_spans: list[TextSpan],
    components: list[Component],
    netlist: Netlist,
    metadata: MetadataResource,
) -> list[Chunk]:
    """Page-aware overlapping text windows plus one description per component, net and page."""
    parts = bundle.assemble(text_spans, components, netlist)
    result = build_chunks(parts)
    record_stage(context, metadata)
    by_type: dict[str, int] = {}
    for chunk in result:
        by_type[chunk.chunk_type] = by_type.get(chunk.chunk_type, 0) + 1
    context.add_output_metadata({**table_metadata(result, Chunk), "chunker_version": CHUNKER_VERSION, **by_type})
    return result
