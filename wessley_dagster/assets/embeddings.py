"""Embeddings of a partition's chunks, spread over the run's workers: the distinct texts are cut
into batches of `WESSLEY_EMBED_BATCH_CHUNKS`, each batch is a step of its own that embeds what the
cache lacks (a Dagster dynamic output, so under Celery each runs on whichever worker is free), and
one last step assembles the vectors from the cache the batches filled. It is one asset,
materialized once.

The batches go between steps through the run's `io_manager` (Dagster's filesystem one under
`DAGSTER_HOME`): Celery workers on several machines need it on shared storage."""

from collections.abc import Iterator
from typing import Annotated, Any, ClassVar

import numpy as np
from dagster import DynamicOut, DynamicOutput, OpExecutionContext, Out, graph_asset, op
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidatorFunctionWrapHandler, WrapValidator

from wessley_dagster.assets.common import ARTIFACTS_IO, BACKEND_RETRY, OWNERS, TAGS, record_stage, stored_in
from wessley_dagster.domain.chunking import Chunk, ChunkType, dense_chunks
from wessley_dagster.domain.embedders import embed_cached, release_engine
from wessley_dagster.partitions import ingestion_partitions
from wessley_dagster.resources.embeddings import EmbeddingsResource
from wessley_dagster.resources.metadata import MetadataResource
from wessley_dagster.retries import retry_only_transient
from wessley_dagster.stores.float32_rows import Float32Rows


class _Packed(BaseModel):
    """Vectors in JSON: float32 bytes (the cache's precision already) as base64, which pydantic-core
    encodes and decodes straight between the bytes and the JSON text. The artifacts IO manager keeps
    them out of the JSON (`FLOAT32_FIELD`); this is the form of `model_dump_json` and of artifacts
    written before that."""

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")  # reads either alphabet

    shape: list[int]
    float32_b64: bytes


def _pack(vectors: np.ndarray) -> _Packed:
    packed = np.ascontiguousarray(vectors, dtype="<f4")
    return _Packed(shape=list(packed.shape), float32_b64=packed.tobytes())


def _unpack(value: Any, parse: ValidatorFunctionWrapHandler) -> np.ndarray | Float32Rows:
    """A float32 matrix from an array, stored rows read as they are used, the JSON form, or a
    list of rows (as stored before)."""
    if isinstance(value, Float32Rows):
        return value
    if isinstance(value, np.ndarray):
        return np.asarray(value, dtype=np.float32)
    parsed = parse(value)
    if isinstance(parsed, _Packed):
        rows, dimension = parsed.shape if len(parsed.shape) == 2 else (0, 0)
        return np.frombuffer(parsed.float32_b64, dtype="<f4").reshape(rows, dimension)
    vectors = np.asarray(parsed, dtype=np.float32)
    return vectors.reshape(len(vectors), -1) if len(vectors) else np.zeros((0, 0), np.float32)


# A float32 row per chunk, as `embed_cached` gives them: validated to an `np.ndarray` whatever the
# stored form (the union is what pydantic parses JSON into), or to the artifact's `Float32Rows`.
Vectors = Annotated[_Packed | list[list[float]], WrapValidator(_unpack), PlainSerializer(_pack, when_used="json")]


class Embeddings(BaseModel):
    """The dense vectors of a partition's embedded chunks, in chunk order."""

    FLOAT32_FIELD: ClassVar[str] = "vectors"  # stored beside the JSON as raw float32 rows

    model: str
    dimension: int
    # An artifact written before chunk types could go without a dense vector embedded them all.
    chunk_types: list[ChunkType] = Field(default_factory=lambda: list(ChunkType))
    chunk_ids: list[str]
    vectors: Vectors


@op(out=DynamicOut(list[str]), tags=TAGS)
def embedding_batches(chunks: list[Chunk], embeddings_model: EmbeddingsResource) -> Iterator[DynamicOutput[list[str]]]:
    """The distinct texts to embed, in batches; an empty partition still gives one (empty) batch."""
    texts = list(dict.fromkeys(c.dense_text for c in dense_chunks(chunks, embeddings_model.dense_chunk_types)))
    size = embeddings_model.batch_chunks
    for number, start in enumerate(range(0, max(len(texts), 1), size)):
        yield DynamicOutput(texts[start : start + size], mapping_key=f"batch_{number}")


@op(retry_policy=BACKEND_RETRY, tags=TAGS)
def embed_batch(
    context: OpExecutionContext, texts: list[str], embeddings_model: EmbeddingsResource, metadata: MetadataResource
) -> dict[str, int]:
    """Embeds a batch into the (model, text) cache; what it embedded and the provider's usage."""
    embedder = embeddings_model.embedder()
    # A refused key or request fails at once; rate limits and outages are retried by the step too.
    with retry_only_transient("embeddings"):
        _, fresh = embed_cached(embedder, texts, metadata.store)
    context.log.info(f"embedded {fresh} of {len(texts)} texts with {embedder.model}")
    return {"embedded": fresh, **embedder.usage()}


@op(out=Out(io_manager_key=ARTIFACTS_IO), retry_policy=BACKEND_RETRY, tags=TAGS)
def assemble_embeddings(
    context: OpExecutionContext,
    chunks: list[Chunk],
    batches: list[dict[str, int]],
    embeddings_model: EmbeddingsResource,
    metadata: MetadataResource,
) -> Embeddings:
    """The vectors in chunk order, read from the cache the batches filled."""
    embedder = embeddings_model.embedder()
    dense = dense_chunks(chunks, embeddings_model.dense_chunk_types)
    with retry_only_transient("embeddings"):
        vectors, missed = embed_cached(embedder, [c.dense_text for c in dense], metadata.store)
    release_engine()  # a large vehicle's points are made next, in this process under the default executor
    totals: dict[str, int] = {}
    for done in batches:
        for name, value in done.items():
            totals[name] = totals.get(name, 0) + value
    embedded = totals.pop("embedded", 0) + missed  # missed: a vector the cache lost since its batch
    record_stage(context, metadata)
    context.add_output_metadata(
        {
            "model": embedder.model,
            "dimension": embedder.dimension,
            "embedded": embedded,
            "cached": len(dense) - embedded,
            "sparse_only": len(chunks) - len(dense),
            "batches": len(batches),
            **{f"provider_{name}": value for name, value in totals.items()},
        }
    )
    return Embeddings(
        model=embedder.model,
        dimension=embedder.dimension,
        chunk_types=embeddings_model.dense_chunk_types,
        chunk_ids=[c.chunk_id for c in dense],
        vectors=vectors,
    )


@graph_asset(
    group_name="index",
    kinds=stored_in(ARTIFACTS_IO, "embeddings_model"),
    partitions_def=ingestion_partitions,
    owners=OWNERS,
    tags=TAGS,
)
def embeddings(chunks: list[Chunk]) -> Embeddings:
    """One vector per chunk of the embedded types (`WESSLEY_DENSE_CHUNK_TYPES`); an unchanged
    chunk text is never embedded twice for the same model and size. A provider's usage (requests,
    tokens) is recorded per partition."""
    done = embedding_batches(chunks).map(embed_batch)
    return assemble_embeddings(chunks, done.collect())
