"""A Qdrant server or Qdrant Cloud through qdrant-client (or its local mode, `path=`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wessley_dagster.stores.vectors import (
    DENSE,
    KEYWORD_FIELDS,
    RRF_K,
    SPARSE,
    Hit,
    StoredPoint,
    VectorPoint,
    VectorQuery,
    batched,
    incompatible,
    named_vectors,
    scope_filter,
    stored_point,
)


class QdrantServerVectorStore:
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
                sparse_vectors_config={SPARSE: m.SparseVectorParams(modifier=m.Modifier.IDF)},
            )
            self.client.create_payload_index(
                self.collection,
                "project_id",
                m.KeywordIndexParams(type=m.KeywordIndexType.KEYWORD, is_tenant=True),
            )
            for name in KEYWORD_FIELDS:
                self.client.create_payload_index(self.collection, name, m.PayloadSchemaType.KEYWORD)
            self.client.create_payload_index(self.collection, "page", m.PayloadSchemaType.INTEGER)
        sparse = self.client.get_collection(self.collection).config.params.sparse_vectors or {}
        problem = incompatible(self.collection, self.dimension(), SPARSE in sparse, dimension)
        if problem:
            raise ValueError(problem)

    def dimension(self) -> int | None:
        if not self.client.collection_exists(self.collection):
            return None
        vectors = self.client.get_collection(self.collection).config.params.vectors
        return int(vectors[DENSE].size)  # type: ignore[index]

    def replace_job(self, project_id: str, job_id: str, points: Iterable[VectorPoint], load_id: str) -> None:
        m = self.models
        for batch in batched(points):
            upsert = [
                m.PointStruct(
                    id=p.id, vector=named_vectors(p, m.SparseVector), payload={**p.payload, "load_id": load_id}
                )
                for p in batch
            ]
            self.client.upsert(self.collection, upsert, wait=True)
        stale = scope_filter(m, [project_id], job_id, exclude_load=load_id)
        self.client.delete(self.collection, m.FilterSelector(filter=stale), wait=True)

    def count(self, project_id: str, job_id: str | None = None) -> int:
        if not self.client.collection_exists(self.collection):
            return 0
        flt = scope_filter(self.models, [project_id], job_id)
        return self.client.count(self.collection, count_filter=flt, exact=True).count

    def total(self) -> int:
        if not self.client.collection_exists(self.collection):
            return 0
        return self.client.count(self.collection, exact=True).count

    def query(self, request: VectorQuery) -> list[Hit]:
        if not self.client.collection_exists(self.collection):
            return []
        m = self.models
        exclude = m.HasIdCondition(has_id=request.exclude_ids) if request.exclude_ids else None
        sides: list[tuple[Any, str]] = []
        if request.dense is not None:
            sides.append((list(request.dense), DENSE))
        if request.sparse is not None and request.sparse.indices:
            sides.append((m.SparseVector(indices=request.sparse.indices, values=request.sparse.values), SPARSE))
        if not sides:
            return []
        filters = request.filters(m, exclude)
        if len(sides) == 1 and len(filters) == 1:
            (query, using), prefetch = sides[0], None
        else:
            using = None
            query = m.RrfQuery(rrf=m.Rrf(k=RRF_K)) if request.fusion == "rrf" else m.FusionQuery(fusion=m.Fusion.DBSF)
            prefetch = [
                m.Prefetch(query=q, using=u, filter=f, limit=request.prefetch) for f in filters for q, u in sides
            ]
        scale, threshold = request.fused_scale(len(prefetch or ()))
        response = self.client.query_points(
            self.collection,
            query=query,
            using=using,
            prefetch=prefetch,
            query_filter=filters[0],
            limit=request.limit,
            score_threshold=threshold,
            with_payload=True,
        )
        return [Hit(id=str(p.id), score=p.score / scale, payload=dict(p.payload or {})) for p in response.points]

    def component_points(self, project_id: str, component_id: str) -> list[StoredPoint]:
        if not self.client.collection_exists(self.collection):
            return []
        flt = scope_filter(self.models, [project_id], chunk_types=["component"], component_id=component_id)
        records, _ = self.client.scroll(
            self.collection, scroll_filter=flt, limit=100, with_payload=True, with_vectors=True
        )
        return [stored_point(r.id, r.vector, r.payload) for r in records]

    def close(self) -> None:
        self.client.close()
