"""Ingestion jobs: their status with signed artifact URLs, their live progress as server-sent
events, and bundle uploads that the upload sensor then ingests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sse_starlette import EventSourceResponse

from wessley_dagster.api.auth import Live, Principal, Who
from wessley_dagster.api.backends import Backends
from wessley_dagster.api.errors import ERRORS, ApiError
from wessley_dagster.api.uploads import read_upload, store_upload
from wessley_dagster.domain.bundle import BundleError
from wessley_dagster.domain.jobs import FINISHED

router = APIRouter(tags=["ingestions"], responses=ERRORS)


class Artifact(BaseModel):
    name: str
    artifact_type: str
    backend: str
    content_type: str
    size_bytes: int
    url: str
    url_expires_in: int


class Ingestion(BaseModel):
    project_id: str
    job_id: str
    status: str
    stage: str | None
    progress: int
    error: str | None
    created_at: str
    updated_at: str
    finished_at: str | None
    metrics: dict[str, Any] | None
    artifacts: list[Artifact]


class Accepted(BaseModel):
    project_id: str
    job_id: str
    status: str
    files: list[str]


def _text(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None if value is None else str(value)


def _job(project_id: str | None, job_id: str, who: Principal, live: Backends) -> dict[str, Any]:
    """The one job with this id among the caller's projects (`project_id` picks among several)."""
    rows = [r for r in live.metadata.jobs(job_id=job_id) if project_id in (None, r["project_id"])]
    owners = {p: live.metadata.project_owner(p) for p in {r["project_id"] for r in rows}}
    mine = [r for r in rows if who.owns(owners[r["project_id"]])]
    if not mine:
        raise ApiError(404, "not_found", f"no ingestion job {job_id!r}")
    if len(mine) > 1:
        projects = ", ".join(sorted(r["project_id"] for r in mine))
        raise ApiError(409, "ambiguous", f"job {job_id!r} exists in several projects ({projects}); pass project_id")
    return mine[0]


def _artifacts(row: dict[str, Any], live: Backends) -> list[Artifact]:
    out = []
    for a in live.metadata.artifacts(row["project_id"], row["job_id"]):
        key = f"{row['project_id']}/{row['job_id']}/{a['name']}"
        url = live.artifacts.backend(a["backend"]).signed_url(key, live.url_ttl)
        out.append(
            Artifact(
                name=a["name"],
                artifact_type=a["artifact_type"],
                backend=a["backend"],
                content_type=a["content_type"],
                size_bytes=int(a["size_bytes"]),
                url=url,
                url_expires_in=live.url_ttl,
            )
        )
    return out


def _ingestion(row: dict[str, Any], live: Backends) -> Ingestion:
    metrics = row.get("metrics")
    return Ingestion(
        project_id=row["project_id"],
        job_id=row["job_id"],
        status=row["status"],
        stage=row["stage"],
        progress=int(row["progress"]),
        error=row["error"],
        created_at=_text(row["created_at"]) or "",
        updated_at=_text(row["updated_at"]) or "",
        finished_at=_text(row.get("finished_at")),
        metrics=json.loads(metrics) if isinstance(metrics, str) else metrics,
        artifacts=_artifacts(row, live),
    )


@router.get("/v1/ingestions/{job_id}", response_model=Ingestion, responses={409: ERRORS[404]})
def get_ingestion(
    who: Who,
    live: Live,
    job_id: str,
    project_id: Annotated[str | None, Query(description="needed when the job id is in several projects")] = None,
) -> Ingestion:
    """Status, stage, progress, timestamps, metrics, error, and each artifact with a signed URL."""
    return _ingestion(_job(project_id, job_id, who, live), live)


def _state(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("status", "stage", "progress", "error")} | {"updated_at": _text(row["updated_at"])}


@router.get("/v1/ingestions/{job_id}/events", response_class=EventSourceResponse, responses={409: ERRORS[404]})
async def ingestion_events(
    who: Who,
    live: Live,
    request: Request,
    job_id: str,
    project_id: Annotated[str | None, Query()] = None,
    interval: Annotated[float, Query(ge=0.1, le=10, description="seconds between looks at the job row")] = 0.5,
) -> EventSourceResponse:
    """One `status` event per change of status, stage, progress or error; the stream closes
    once the job has ended."""
    row = await run_in_threadpool(_job, project_id, job_id, who, live)

    async def changes() -> AsyncIterator[dict[str, str]]:
        current, last = row, None
        while True:
            state = _state(current)
            if state != last:
                yield {"event": "status", "data": json.dumps(state)}
                last = state
            if state["status"] in FINISHED or await request.is_disconnected():
                return
            await asyncio.sleep(interval)
            current = await run_in_threadpool(live.metadata.job, row["project_id"], row["job_id"]) or current

    return EventSourceResponse(changes(), ping=15)


# Read by hand (`uploads.read_upload`) to bound each file as it arrives; documented here.
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["files"],
                "properties": {
                    "files": {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "description": "the bundle's files, each under its own name",
                    }
                },
            },
        },
        **{
            kind: {"schema": {"type": "string", "format": "binary"}}
            for kind in ("application/x-tar", "application/gzip", "application/zip")
        },
    },
}


@router.post(
    "/v1/projects/{project_id}/ingestions",
    response_model=Accepted,
    status_code=202,
    responses={413: ERRORS[422], 415: ERRORS[422]},
    openapi_extra={"requestBody": UPLOAD_BODY},
)
async def upload_ingestion(
    who: Who,
    live: Live,
    request: Request,
    project_id: str,
) -> Accepted:
    """A bundle, as multipart files or one tar (optionally gzipped) or zip body. It is validated
    whole before anything is written; the upload sensor then starts its run."""
    files = await read_upload(request, live.limits)
    try:
        upload = await run_in_threadpool(store_upload, files, project_id, who, live)
    except BundleError as exc:
        raise ApiError(422, "invalid_bundle", str(exc)) from None
    return Accepted(project_id=project_id, job_id=upload.manifest.job_id, status="uploaded", files=sorted(files))
