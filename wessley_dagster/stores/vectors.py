"""Vector stores: Qdrant Edge (embedded default, a local folder) and a Qdrant server through
qdrant-client (production; its local mode serves the same API in tests).

One collection holds every project; `project_id` is a tenant keyword index and every query is
filtered by it. Point ids are UUIDv5 of (project, job, chunk), so a re-run overwrites in place;
each load stamps `load_id` and then deletes the job's points with another one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel

POINT_NAMESPACE = uuid.UUID("6f1c1c62-5d0e-4a53-9d55-0d3b7f6e2a10")
DENSE = "dense"
KEYWORD_FIELDS = ("job_id", "chunk_type", "component_id")


def point_id(project_id: str, job_id: str, chunk_id: str) -> str:
    return str(uuid.uuid5(POINT_NAMESPACE, f"{project_id}\x1f{job_id}\x1f{chunk_id}"))


def scope_filter(
    models: Any,
    project_id: str,
    job_id: str | None = None,
    chunk_types: Sequence[str] | None = None,
    exclude_load: str | None = None,
) -> Any:
    """The project (tenant) filter every query and delete carries. `models` is `qdrant_edge` or
    `qdrant_client.models`: both name these classes and their keywords alike."""
    must = [models.FieldCondition(key="project_id", match=models.MatchValue(value=project_id))]
    if job_id is not None:
        must.append(models.FieldCondition(key="job_id", match=models.MatchValue(value=job_id)))
    if chunk_types:
        must.append(models.FieldCondition(key="chunk_type", match=models.MatchAny(any=list(chunk_types))))
    must_not = None
    if exclude_load is not None:
        must_not = [models.FieldCondition(key="load_id", match=models.MatchValue(value=exclude_load))]
    return models.Filter(must=must, must_not=must_not)


class VectorPoint(BaseModel):
    id: str
    vector: list[float]
    payload: dict[str, Any]


class Hit(BaseModel):
    id: str
    score: float
    payload: dict[str, Any]


class VectorStore(Protocol):
    collection: str

    def ensure_collection(self, dimension: int) -> None: ...

    def dimension(self) -> int | None: ...

    def replace_job(self, project_id: str, job_id: str, points: Sequence[VectorPoint], load_id: str) -> None: ...

    def count(self, project_id: str, job_id: str | None = None) -> int: ...

    def total(self) -> int: ...

    def search(
        self,
        project_id: str,
        vector: Sequence[float],
        limit: int = 5,
        chunk_types: Sequence[str] | None = None,
        score_threshold: float | None = None,
    ) -> list[Hit]: ...

    def close(self) -> None: ...


BATCH = 512


class EdgeVectorStore:
    """Qdrant Edge: the embedded Qdrant engine, one process at a time per folder."""

    # An Edge folder can be opened once per process; resources that Dagster initialises twice
    # in one process (a resource and an IO manager's copy of it) share the open shard.
    _open: ClassVar[dict[Path, list[Any]]] = {}  # path -> [shard, users]

    def __init__(self, path: Path, collection: str) -> None:
        import qdrant_edge as qe

        self._qe = qe
        self.collection = collection
        self.path = (path / collection).resolve()
        self._shard: Any = None

    def _acquire(self, create: Any = None) -> Any:
        """The open shard (loading or, given a config, creating it), or None if there is none yet."""
        if self._shard is not None:
            return self._shard
        entry = self._open.get(self.path)
        if entry is None:
            if (self.path / "edge_config.json").exists():
                shard = self._qe.EdgeShard.load(str(self.path))
            elif create is not None:
                self.path.mkdir(parents=True, exist_ok=True)
                shard = self._qe.EdgeShard.create(str(self.path), create)
                self._create_indexes(shard)
            else:
                return None
            entry = self._open[self.path] = [shard, 0]
        entry[1] += 1
        self._shard = entry[0]
        return self._shard

    def _create_indexes(self, shard: Any) -> None:
        qe = self._qe
        shard.update(qe.UpdateOperation.create_field_index("project_id", qe.KeywordIndexParams(is_tenant=True)))
        for name in KEYWORD_FIELDS:
            shard.update(qe.UpdateOperation.create_field_index(name, qe.PayloadSchemaType.Keyword))
        shard.update(qe.UpdateOperation.create_field_index("page", qe.PayloadSchemaType.Integer))

    def ensure_collection(self, dimension: int) -> None:
        qe = self._qe
        self._acquire(qe.EdgeConfig(vectors={DENSE: qe.EdgeVectorParams(size=dimension, distance=qe.Distance.Cosine)}))
        existing = self.dimension()
        if existing != dimension:
            raise ValueError(f"collection {self.collection!r} holds {existing}-d vectors, got {dimension}-d")

    def dimension(self) -> int | None:
        if self._acquire() is None:
            return None
        import json

        config = json.loads((self.path / "edge_config.json").read_text())
        return int(config["vectors"][DENSE]["size"])

    def replace_job(self, project_id: str, job_id: str, points: Sequence[VectorPoint], load_id: str) -> None:
        qe = self._qe
        if self._acquire() is None:
            raise RuntimeError(f"{self.path} has no collection yet: call ensure_collection first")
        for start in range(0, len(points), BATCH):
            batch = [
                qe.Point(uuid.UUID(p.id), {DENSE: p.vector}, {**p.payload, "load_id": load_id})
                for p in points[start : start + BATCH]
            ]
            self._shard.update(qe.UpdateOperation.upsert_points(batch))
        self._shard.update(
            qe.UpdateOperation.delete_points_by_filter(scope_filter(self._qe, project_id, job_id, exclude_load=load_id))
        )
        self._shard.flush()

    def count(self, project_id: str, job_id: str | None = None) -> int:
        if self._acquire() is None:
            return 0
        return self._shard.count(self._qe.CountRequest(exact=True, filter=scope_filter(self._qe, project_id, job_id)))

    def total(self) -> int:
        return 0 if self._acquire() is None else self._shard.count(self._qe.CountRequest(exact=True))

    def search(
        self,
        project_id: str,
        vector: Sequence[float],
        limit: int = 5,
        chunk_types: Sequence[str] | None = None,
        score_threshold: float | None = None,
    ) -> list[Hit]:
        if self._acquire() is None:
            return []
        qe = self._qe
        request = qe.QueryRequest(
            limit=limit,
            query=qe.Query.Nearest(list(vector), using=DENSE),
            filter=scope_filter(self._qe, project_id, chunk_types=chunk_types),
            with_payload=True,
            score_threshold=score_threshold,
        )
        return [Hit(id=str(p.id), score=p.score, payload=dict(p.payload or {})) for p in self._shard.query(request)]

    def close(self) -> None:
        if self._shard is None:
            return
        entry = self._open[self.path]
        entry[1] -= 1
        if entry[1] == 0:
            del self._open[self.path]
            self._shard.close()
        self._shard = None


class QdrantServerVectorStore:
    """A Qdrant server or Qdrant Cloud via qdrant-client (or its local mode, `path=`)."""

    def __init__(
        self, collection: str, url: str | None = None, api_key: str | None = None, path: str | None = None
    ) -> None:
        from qdrant_client import QdrantClient, models

        self.models = models
        self.collection = collection
        self.client = QdrantClient(path=path) if path else QdrantClient(url=url, api_key=api_key, timeout=30)

    def ensure_collection(self, dimension: int) -> None:
        m = self.models
        if not self.client.collection_exists(self.collection):
            self.client.create_collection(
                self.collection,
                vectors_config={DENSE: m.VectorParams(size=dimension, distance=m.Distance.COSINE)},
            )
            self.client.create_payload_index(
                self.collection,
                "project_id",
                m.KeywordIndexParams(type=m.KeywordIndexType.KEYWORD, is_tenant=True),
            )
            for name in KEYWORD_FIELDS:
                self.client.create_payload_index(self.collection, name, m.PayloadSchemaType.KEYWORD)
            self.client.create_payload_index(self.collection, "page", m.PayloadSchemaType.INTEGER)
        existing = self.dimension()
        if existing != dimension:
            raise ValueError(f"collection {self.collection!r} holds {existing}-d vectors, got {dimension}-d")

    def dimension(self) -> int | None:
        if not self.client.collection_exists(self.collection):
            return None
        vectors = self.client.get_collection(self.collection).config.params.vectors
        return int(vectors[DENSE].size)  # type: ignore[index]

    def replace_job(self, project_id: str, job_id: str, points: Sequence[VectorPoint], load_id: str) -> None:
        m = self.models
        for start in range(0, len(points), BATCH):
            batch = [
                m.PointStruct(id=p.id, vector={DENSE: p.vector}, payload={**p.payload, "load_id": load_id})
                for p in points[start : start + BATCH]
            ]
            self.client.upsert(self.collection, batch, wait=True)
        self.client.delete(
            self.collection,
            m.FilterSelector(filter=scope_filter(self.models, project_id, job_id, exclude_load=load_id)),
            wait=True,
        )

    def count(self, project_id: str, job_id: str | None = None) -> int:
        if not self.client.collection_exists(self.collection):
            return 0
        return self.client.count(
            self.collection, count_filter=scope_filter(self.models, project_id, job_id), exact=True
        ).count

    def total(self) -> int:
        if not self.client.collection_exists(self.collection):
            return 0
        return self.client.count(self.collection, exact=True).count

    def search(
        self,
        project_id: str,
        vector: Sequence[float],
        limit: int = 5,
        chunk_types: Sequence[str] | None = None,
        score_threshold: float | None = None,
    ) -> list[Hit]:
        if not self.client.collection_exists(self.collection):
            return []
        response = self.client.query_points(
            self.collection,
            query=list(vector),
            using=DENSE,
            query_filter=scope_filter(self.models, project_id, chunk_types=chunk_types),
            limit=limit,
            score_threshold=score_threshold,
            with_payload=True,
        )
        return [Hit(id=str(p.id), score=p.score, payload=dict(p.payload or {})) for p in response.points]

    def close(self) -> None:
        self.client.close()
