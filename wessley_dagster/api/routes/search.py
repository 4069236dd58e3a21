"""Semantic search over one project's chunks, and components similar to one part."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from wessley_dagster.api.auth import Live, Who, require_project
from wessley_dagster.api.errors import ERRORS, ApiError
from wessley_dagster.domain.chunking import ChunkType
from wessley_dagster.search import DEFAULT_CHUNK_TYPES, SearchMode, hit_record, semantic_search, similar_components
from wessley_dagster.search.similarity import UnknownComponent

router = APIRouter(tags=["search"], responses=ERRORS)


class Hit(BaseModel):
    score: float
    chunk_type: str | None
    page: int | None
    job_id: str | None
    component_id: str | None = None
    net: str | None = None
    kind: str | None = None
    component_ids: list[str] | None = None
    text: str
    graph: dict[str, Any] | None = None


@router.get("/v1/projects/{project_id}/search", response_model=list[Hit], response_model_exclude_none=True)
def search(
    who: Who,
    live: Live,
    project_id: str,
    q: Annotated[str, Query(min_length=1, max_length=1000, description="the question, in words")],
    mode: SearchMode = SearchMode.HYBRID,
    chunk_type: Annotated[
        list[ChunkType] | None, Query(description="chunk types searched (default: component, net)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
    threshold: Annotated[float | None, Query(description="the lowest score returned")] = None,
    graph: Annotated[bool, Query(description="each component or net hit carries its neighbourhood")] = False,
) -> list[dict[str, Any]]:
    require_project(project_id, who, live)
    with live.vectors() as vectors:
        hits = semantic_search(
            vectors,
            live.embedder,
            project_id,
            q,
            limit=limit,
            chunk_types=chunk_type or DEFAULT_CHUNK_TYPES,
            score_threshold=threshold,
            mode=mode,
            expand_graph=graph,
            graph=live.graph,
        )
    return [hit_record(hit) for hit in hits]


@router.get(
    "/v1/projects/{project_id}/components/{component_id}/similar",
    response_model=list[Hit],
    response_model_exclude_none=True,
)
def similar(
    who: Who,
    live: Live,
    project_id: str,
    component_id: str,
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
    job_id: Annotated[str | None, Query(description="which job's part, when several hold it")] = None,
) -> list[dict[str, Any]]:
    require_project(project_id, who, live)
    try:
        with live.vectors() as vectors:
            hits = similar_components(vectors, project_id, component_id, limit, job_id=job_id)
    except UnknownComponent as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    return [hit_record(hit) for hit in hits]
