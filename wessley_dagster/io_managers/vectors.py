"""Vector IO manager: replaces a job's points in the Qdrant collection (upsert, then delete the
job's points from older loads). Downstream steps search through the `vectors` resource."""

import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from dagster import ConfigurableIOManager, InitResourceContext, InputContext, OutputContext, ResourceDependency

from wessley_dagster.domain.chunking import Chunk, ChunkType
from wessley_dagster.resources.vectors import VectorResource
from wessley_dagster.retries import retry_only_transient
from wessley_dagster.stores.vectors import VectorPoint, chunk_points


@dataclass(frozen=True)
class VectorBatch:
    """A job's points, made from its chunks as the store writes them, a batch at a time: a
    1,000-page vehicle's points (or its vectors) all held at once cost several hundred MB."""

    project_id: str
    job_id: str
    dimension: int
    chunks: Sequence[Chunk]
    dense_types: Collection[ChunkType]  # the chunk types with a dense vector
    rows: Iterable[np.ndarray]  # their vectors in chunk order (`Float32Rows`: read as they are used)
    extra: Mapping[str, Any]  # payload every point carries

    def points(self) -> Iterator[VectorPoint]:
        rows = iter(self.rows)
        vectors = (next(rows) if c.chunk_type in self.dense_types else None for c in self.chunks)
        return chunk_points(self.project_id, self.job_id, self.chunks, vectors, self.extra)


class VectorIOManager(ConfigurableIOManager):
    """Replaces a job's points in the Qdrant collection."""

    vectors: ResourceDependency[VectorResource]

    @property
    def kind(self) -> str:
        return self.vectors.kind

    def handle_output(self, context: OutputContext, obj: VectorBatch) -> None:
        store = self.vectors.store
        load_id = uuid.uuid4().hex
        with retry_only_transient("vector_index"):
            store.ensure_collection(obj.dimension)
            store.replace_job(obj.project_id, obj.job_id, obj.points(), load_id)
        context.add_output_metadata(
            {
                "backend": self.vectors.backend,
                "collection": store.collection,
                "points": len(obj.chunks),
                "load_id": load_id,
            }
        )

    def load_input(self, context: InputContext) -> None:
        raise TypeError(
            f"{context.asset_key.to_user_string()} lives in the vector store: depend on it with `deps` and "
            "search it through the `vectors` resource"
        )

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        # Dagster tears down the resources a step was given, not the copy this IO manager holds:
        # a long-lived process (a Celery worker) would otherwise keep Qdrant Edge's folder locked.
        self.vectors.teardown_after_execution(context)
