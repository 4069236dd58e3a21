"""The vector store contract, shared by Qdrant Edge (`qdrant_edge.py`, the embedded default) and a
Qdrant server through qdrant-client (`qdrant_server.py`; its local mode serves the tests).

One collection holds every project; `project_id` is a tenant keyword index and every query is
filtered by it. Each point has a named BM25 sparse vector whose IDF Qdrant computes
(`Modifier.IDF`) and, if its chunk type is embedded (`WESSLEY_DENSE_CHUNK_TYPES`), a named dense
vector; a point without one is found by the sparse side only. Point ids are UUIDv5 of (project,
job, chunk), so a re-run overwrites in place; each load stamps `load_id` and then deletes the
job's points with another.
"""

from __future__ import annotations

import itertools
import multiprocessing
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Annotated, Any, Literal, Protocol

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from wessley_dagster.domain.chunking import DRAWING_ONLY, Chunk
from wessley_dagster.domain.sparse import SparseVector, encode_document, encode_documents

POINT_NAMESPACE = uuid.UUID("6f1c1c62-5d0e-4a53-9d55-0d3b7f6e2a10")
DENSE = "dense"
SPARSE = "bm25"
KEYWORD_FIELDS = ("job_id", "chunk_type", "component_id", "kind")
BATCH = 512
ASIDE_FROM_CHUNKS = 8_192  # below it, starting a helper process costs more than it saves
SPARSE_BLOCK = 2_048
Fusion = Literal["rrf", "dbsf"]
RRF_K = 60  # the classic constant; Edge and qdrant-client are both given it explicitly


def point_id(project_id: str, job_id: str, chunk_id: str) -> str:
    return str(uuid.uuid5(POINT_NAMESPACE, f"{project_id}\x1f{job_id}\x1f{chunk_id}"))


def _float32(value: Any) -> np.ndarray | None:
    return None if value is None else np.asarray(value, dtype=np.float32)


def _as_list(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else value


# A float32 row, as `embed_cached` gives it; a list only at the store's client, a batch at a time.
DenseVector = Annotated[np.ndarray | None, BeforeValidator(_float32)]


class VectorPoint(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str
    vector: DenseVector = None  # None: a sparse-only point
    sparse: SparseVector | None = None
    payload: dict[str, Any]


def sparse_vectors(chunks: Sequence[Chunk]) -> Iterator[SparseVector]:
    """The chunks' BM25 vectors, in order. A large job's are encoded a block at a time in a helper
    process while this one makes and writes the points of the blocks before: the encoder is pure
    Python, and here it would hold the interpreter lock the store's client needs (1,050 pages:
    the vector index step's write 21 -> 17 s, bench/RESULTS.md). A daemonic process (which may
    not start one) encodes them itself."""
    if len(chunks) < ASIDE_FROM_CHUNKS or multiprocessing.current_process().daemon:
        return (encode_document(c.text, c.terms) for c in chunks)
    return _encoded_aside(chunks)


def _encoded_aside(chunks: Sequence[Chunk]) -> Iterator[SparseVector]:
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"))
    try:
        blocks = (
            [(c.text, c.terms) for c in chunks[start : start + SPARSE_BLOCK]]
            for start in range(0, len(chunks), SPARSE_BLOCK)
        )
        for block in pool.map(encode_documents, blocks):
            yield from block
    finally:  # a write that failed half-way leaves no helper behind, nor its queued blocks
        pool.shutdown(cancel_futures=True)


def chunk_points(
    project_id: str,
    job_id: str,
    chunks: Sequence[Chunk],
    vectors: Iterable[Sequence[float] | np.ndarray | None],
    extra: Mapping[str, Any],
) -> Iterator[VectorPoint]:
    """A point per chunk, made as it is read: its dense vector if it has one (`vectors` holds one
    per chunk, None for a sparse-only one), BM25 over its whole text, and the chunk with `extra`
    as payload."""
    for chunk, vector, sparse in zip(chunks, vectors, sparse_vectors(chunks), strict=True):
        yield VectorPoint(
            id=point_id(project_id, job_id, chunk.chunk_id),
            vector=vector,
            sparse=sparse,
            payload={**chunk.model_dump(mode="json"), "project_id": project_id, "job_id": job_id, **extra},
        )


def named_vectors(point: VectorPoint, sparse_vector: Callable[..., Any]) -> dict[str, Any]:
    """A point's vectors by name, as both Qdrant clients take them: the dense row as a list (made
    a batch at a time), the sparse one as the client's own `SparseVector` type."""
    vectors: dict[str, Any] = {} if point.vector is None else {DENSE: point.vector.tolist()}
    if point.sparse is not None:
        vectors[SPARSE] = sparse_vector(indices=point.sparse.indices, values=point.sparse.values)
    return vectors


def batched(points: Iterable[VectorPoint]) -> Iterator[list[VectorPoint]]:
    """Points `BATCH` at a time, as both stores write them: a large job's points are never all
    held at once."""
    rest = iter(points)
    while batch := list(itertools.islice(rest, BATCH)):
        yield batch


class Hit(BaseModel):
    id: str
    score: float
    payload: dict[str, Any]


class StoredPoint(BaseModel):
    id: str
    vector: list[float] | None
    sparse: SparseVector | None
    payload: dict[str, Any]


class Focus(BaseModel):
    """A narrower scope searched beside the main one and fused with it: what the question names."""

    kinds: list[str] | None = None
    chunk_types: list[str] | None = None


class VectorQuery(BaseModel):
    """One search: a dense vector, a sparse one, or both fused. Always scoped to projects.
    Each `focus` adds the same searches within its narrower scope to the fusion."""

    project_ids: list[str] = Field(min_length=1)
    dense: Annotated[list[float] | None, BeforeValidator(_as_list)] = None
    sparse: SparseVector | None = None
    limit: int = Field(default=5, ge=1, le=1000)
    chunk_types: list[str] | None = None
    kind: str | None = None  # a component's kind or a net's role must equal this
    exclude_ids: list[str] = Field(default_factory=list)
    hide_drawings: bool = False  # leave out drawing-only parts (logos, fiducials, mounting holes)
    score_threshold: float | None = None
    fusion: Fusion = "rrf"
    prefetch: int = Field(default=40, ge=1)  # candidates per side before fusion
    focus: list[Focus] = Field(default_factory=list)

    def fused_scale(self, prefetches: int) -> tuple[float, float | None]:
        """(scale, threshold) for a query of `prefetches` fused prefetches (0: a plain query).

        A fused score is divided by the best one a point can get (first in every prefetch for
        RRF, 1 in each for DBSF), so that a hybrid score reads 0..1 and `score_threshold` means
        the same whatever the number of prefetches; the threshold sent is scaled up to match."""
        if not prefetches:
            return 1.0, self.score_threshold
        scale = prefetches / RRF_K if self.fusion == "rrf" else float(prefetches)
        return scale, self.score_threshold * scale if self.score_threshold is not None else None

    def filters(self, models: Any, exclude: Any = None) -> list[Any]:
        """One `scope_filter` per scope (the main one first), in a store's own `models`."""
        return [
            scope_filter(
                models,
                self.project_ids,
                chunk_types=types,
                kinds=kinds,
                exclude=exclude,
                hide_drawings=self.hide_drawings,
            )
            for types, kinds in self.scopes()
        ]

    def scopes(self) -> list[tuple[list[str] | None, list[str] | None]]:
        """(chunk types, kinds) of the main scope and of each focus, the focus within the main:
        a focus on a chunk type the query does not search is dropped, never widened."""
        main = (self.chunk_types, [self.kind] if self.kind else None)
        scopes = [main]
        for focus in self.focus:
            types = focus.chunk_types
            if self.chunk_types and types:
                types = [t for t in types if t in self.chunk_types]
                if not types:
                    continue
            scopes.append((types or self.chunk_types, focus.kinds or main[1]))
        return scopes


def scope_filter(
    models: Any,
    project_ids: Sequence[str],
    job_id: str | None = None,
    chunk_types: Sequence[str] | None = None,
    exclude_load: str | None = None,
    kinds: Sequence[str] | None = None,
    component_id: str | None = None,
    exclude: Any = None,
    hide_drawings: bool = False,
) -> Any:
    """The tenant filter every query and delete carries. `models` is `qdrant_edge` or
    `qdrant_client.models`: both name these classes and their keywords alike. `exclude` is a
    store's own has-id condition for points to leave out."""
    projects = list(project_ids)
    if not projects:
        raise ValueError("a vector query needs at least one project")
    match = models.MatchValue(value=projects[0]) if len(projects) == 1 else models.MatchAny(any=projects)
    must = [models.FieldCondition(key="project_id", match=match)]
    for key, value in (("job_id", job_id), ("component_id", component_id)):
        if value is not None:
            must.append(models.FieldCondition(key=key, match=models.MatchValue(value=value)))
    for key, values in (("chunk_type", chunk_types), ("kind", kinds)):
        if values:
            must.append(models.FieldCondition(key=key, match=models.MatchAny(any=list(values))))
    must_not = []
    if exclude_load is not None:
        must_not.append(models.FieldCondition(key="load_id", match=models.MatchValue(value=exclude_load)))
    if exclude is not None:
        must_not.append(exclude)
    if hide_drawings:
        must_not.append(models.FieldCondition(key="flags", match=models.MatchValue(value=DRAWING_ONLY)))
    return models.Filter(must=must, must_not=must_not or None)


class VectorStore(Protocol):
    collection: str

    def ensure_collection(self, dimension: int) -> None: ...

    def dimension(self) -> int | None: ...

    def replace_job(self, project_id: str, job_id: str, points: Iterable[VectorPoint], load_id: str) -> None: ...

    def count(self, project_id: str, job_id: str | None = None) -> int: ...

    def total(self) -> int: ...

    def query(self, request: VectorQuery) -> list[Hit]: ...

    def component_points(self, project_id: str, component_id: str) -> list[StoredPoint]: ...

    def close(self) -> None: ...


def stored_point(ident: Any, vectors: Any, payload: Any) -> StoredPoint:
    """A point read back from either client: named vectors, the sparse one as indices/values."""
    named = vectors or {}
    sparse = named.get(SPARSE)
    return StoredPoint(
        id=str(ident),
        vector=list(named[DENSE]) if named.get(DENSE) is not None else None,
        sparse=SparseVector(list(sparse.indices), list(sparse.values)) if sparse is not None else None,
        payload=dict(payload or {}),
    )


def incompatible(collection: str, dimension: int | None, has_sparse: bool, wanted: int) -> str | None:
    """Why an existing collection cannot take these points, or None."""
    if dimension != wanted:
        return f"collection {collection!r} holds {dimension}-d vectors, got {wanted}-d"
    if not has_sparse:
        return (
            f"collection {collection!r} was created without the {SPARSE!r} sparse vector (an older version): "
            "delete it, or set QDRANT_COLLECTION to a new name, and re-materialize"
        )
    return None
