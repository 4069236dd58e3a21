"""Chunks of text, components, nets and pages, and their embeddings (cached by model and text)."""

import base64
from typing import Annotated, Any

import numpy as np
from dagster import AssetExecutionContext, asset
from pydantic import BaseModel, BeforeValidator, PlainSerializer

from wessley_dagster.assets.common import ARTIFACTS_IO, BACKEND_RETRY, OWNERS, TAGS, record_stage, stored_in
from wessley_dagster.assets.table_metadata import table_metadata
from wessley_dagster.domain.bundle import Component, Netlist, TextSpan, ValidatedUpload
from wessley_dagster.domain.chunking import CHUNKER_VERSION, Chunk, build_chunks
from wessley_dagster.domain.embedders import embed_cached
from wessley_dagster.partitions import ingestion_partitions
from wessley_dagster.resources.embeddings import EmbeddingsResource
from wessley_dagster.resources.metadata import MetadataResource
from wessley_dagster.retries import retry_only_transient


def _pack(vectors: list[list[float]]) -> dict[str, Any]:
    """Stored as float32 bytes (the cache's precision already): a 1,000-page vehicle's vectors are
    a sixth of their JSON size and load without parsing millions of number literals."""
    packed = np.asarray(vectors, dtype="<f4")
    return {"shape": list(packed.shape), "float32_b64": base64.b64encode(packed.tobytes()).decode()}


def _unpack(value: Any) -> Any:
    if isinstance(value, dict) and "float32_b64" in value:
        rows, dimension = value["shape"] if len(value["shape"]) == 2 else (0, 0)
        data = np.frombuffer(base64.b64decode(value["float32_b64"]), dtype="<f4")
        return data.reshape(rows, dimension).tolist()
    return value


Vectors = Annotated[list[list[float]], BeforeValidator(_unpack), PlainSerializer(_pack, when_used="json")]


class Embeddings(BaseModel):
    model: str
    dimension: int
    chunk_ids: list[str]
    vectors: Vectors


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


@asset(
    group_name="index",
    kinds=stored_in(ARTIFACTS_IO, "embeddings_model"),
    io_manager_key=ARTIFACTS_IO,
    partitions_def=ingestion_partitions,
    owners=OWNERS,
    tags=TAGS,
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
        vectors, fresh = embed_cached(embedder, [c.dense_text for c in chunks], metadata.store)
    record_stage(context, metadata)
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
