"""Chunks of text, components, nets and pages, and their embeddings (cached by model and text)."""

from dagster import AssetExecutionContext, asset
from pydantic import BaseModel

from wessley_dagster.assets.common import ARTIFACTS_IO, BACKEND_RETRY, PER_JOB, record_stage
from wessley_dagster.assets.table_metadata import table_metadata
from wessley_dagster.domain.bundle import Component, Netlist, TextSpan, ValidatedUpload
from wessley_dagster.domain.chunking import CHUNKER_VERSION, Chunk, build_chunks
from wessley_dagster.domain.embedders import embed_cached
from wessley_dagster.resources.embeddings import EmbeddingsResource
from wessley_dagster.resources.metadata import MetadataResource
from wessley_dagster.retries import retry_only_transient


class Embeddings(BaseModel):
    model: str
    dimension: int
    chunk_ids: list[str]
    vectors: list[list[float]]


@asset(
    **PER_JOB,
    io_manager_key=ARTIFACTS_IO,
    group_name="index",
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
    record_stage(context, metadata, "chunks", 40)
    by_type: dict[str, int] = {}
    for chunk in result:
        by_type[chunk.chunk_type] = by_type.get(chunk.chunk_type, 0) + 1
    context.add_output_metadata({**table_metadata(result, Chunk), "chunker_version": CHUNKER_VERSION, **by_type})
    return result


@asset(
    **PER_JOB,
    io_manager_key=ARTIFACTS_IO,
    group_name="index",
    retry_policy=BACKEND_RETRY,
)
def embeddings(
    context: AssetExecutionContext,
    chunks: list[Chunk],
    embeddings_model: EmbeddingsResource,
    metadata: MetadataResource,
) -> Embeddings:
    """One vector per chunk; an unchanged chunk text is never embedded twice for the same model
    and size. A provider's usage (requests, tokens) is recorded per partition."""
    embedder = embeddings_model.embedder()
    # A refused key or request fails at once; rate limits and outages are retried by the step too.
    with retry_only_transient("embeddings"):
        vectors, fresh = embed_cached(embedder, [c.text for c in chunks], metadata.store)
    record_stage(context, metadata, "embeddings", 60)
    context.add_output_metadata(
        {
            "model": embedder.model,
            "dimension": embedder.dimension,
            "embedded": fresh,
            "cached": len(chunks) - fresh,
            **{f"provider_{name}": value for name, value in embedder.usage().items()},
        }
    )
    return Embeddings(
        model=embedder.model,
        dimension=embedder.dimension,
        chunk_ids=[c.chunk_id for c in chunks],
        vectors=vectors,
    )
