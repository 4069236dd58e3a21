"""`/healthz`: whether each backend answers, without credentials and without any data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from wessley_dagster.api.auth import Live
from wessley_dagster.api.backends import Backends

router = APIRouter(tags=["health"])


class Backend(BaseModel):
    ok: bool
    error: str | None = None


class Health(BaseModel):
    status: str
    backends: dict[str, Backend]


def _probes(live: Backends) -> dict[str, Callable[[], Any]]:
    return {
        "graph": lambda: live.graph.read("RETURN 1 AS ok"),
        "vectors": lambda: _total(live),
        "artifacts": lambda: live.artifacts.list("", limit=1),
        "uploads": lambda: live.uploads.list("", limit=1),
        "metadata": lambda: live.metadata.project_owner("healthz"),
    }


def _total(live: Backends) -> int:
    with live.vectors() as vectors:
        return vectors.total()


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(live: Live) -> JSONResponse:
    results = {}
    for name, probe in _probes(live).items():
        try:
            probe()
            results[name] = Backend(ok=True)
        except Exception as exc:  # any failure means this backend is not serving; it is reported, not raised
            results[name] = Backend(ok=False, error=type(exc).__name__)
    healthy = all(r.ok for r in results.values())
    body = Health(status="ok" if healthy else "degraded", backends=results)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=200 if healthy else 503)
