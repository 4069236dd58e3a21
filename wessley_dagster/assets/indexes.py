"""The two indexes: vector points in Qdrant and the schematic graph in Neo4j/ArcadeDB."""

from dagster import AssetExecutionContext, asset

from wessley_dagster.assets.common import (
    BACKEND_RETRY,
    EMBEDDED_VECTORS_POOL,
    EMBEDDED_VECTORS_TAGS,
    GRAPH_IO,
    OWNERS,
    TAGS,
    VECTOR_IO,
    job_ids,
    record_stage,
    stored_in,
)
from wessley_dagster.assets.embeddings import Embeddings
from wessley_dagster.domain.bundle import Component, Netlist, TextSpan, ValidatedUpload
from wessley_dagster.domain.chunking import CHUNKER_VERSION, Chunk, dense_chunks
from wessley_dagster.domain.graph_model import GraphPayload, bundle_to_graph
from wessley_dagster.io_managers.vectors import VectorBatch
from wessley_dagster.partitions import ingestion_partitions
from wessley_dagster.resources.metadata import MetadataResource


@asset(
    group_name="index",
    kinds=stored_in(VECTOR_IO),
    io_manager_key=VECTOR_IO,
    partitions_def=ingestion_partitions,
    owners=OWNERS,
    tags=TAGS,
    retry_policy=BACKEND_RETRY,
    pool=EMBEDDED_VECTORS_POOL,
    op_tags=EMBEDDED_VECTORS_TAGS,
)
def vector_index(
    context: AssetExecutionContext,
    bundle: ValidatedUpload,
    chunks: list[Chunk],
    embeddings: Embeddings,
    metadata: MetadataResource,
) -> VectorBatch:
    """A point per chunk: BM25 sparse over identifier-aware tokens, the dense vector of an embedded
    chunk type, and the chunk as payload, filtered by project (tenant) at query time."""
    project_id, job_id = job_ids(context)
    vehicle = bundle.manifest.vehicle
    if embeddings.chunk_ids != [c.chunk_id for c in dense_chunks(chunks, embeddings.chunk_types)]:
        raise ValueError("embeddings are stale for these chunks: re-materialize embeddings")
    extra = {
        "vehicle": f"{vehicle.year} {vehicle.make} {vehicle.model}",
        "chunker_version": CHUNKER_VERSION,
        "embedding_model": embeddings.model,
    }
    record_stage(context, metadata)
    context.add_output_metadata({"chunker_version": CHUNKER_VERSION, "embedding_model": embeddings.model})
    dimension, dense_types = embeddings.dimension, embeddings.chunk_types
    return VectorBatch(project_id, job_id, dimension, chunks, dense_types, embeddings.vectors, extra)


@asset(
    group_name="index",
    kinds=stored_in(GRAPH_IO),
    io_manager_key=GRAPH_IO,
    partitions_def=ingestion_partitions,
    owners=OWNERS,
    tags=TAGS,
    retry_policy=BACKEND_RETRY,
)
def schematic_graph(
    context: AssetExecutionContext,
    bundle: ValidatedUpload,
    text_spans: list[TextSpan],
    components: list[Component],
    netlist: Netlist,
    metadata: MetadataResource,
) -> GraphPayload:
    """Vehicle, components, pins, nets, text-span provenance and topology as one graph per job."""
    parts = bundle.assemble(text_spans, components, netlist)
    record_stage(context, metadata)
    return bundle_to_graph(parts)
