"""Connectivity: a net's members, what a part or pin reaches, the shortest path between parts."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from wessley_dagster.api.auth import Live, Who, require_project
from wessley_dagster.api.errors import ERRORS, ApiError
from wessley_dagster.stores.graph import ReachCancelled

router = APIRouter(tags=["graph"], responses=ERRORS)
T = TypeVar("T")


class Member(BaseModel):
    job_id: str
    component_id: str
    type: str | None
    pin: str


class Reached(BaseModel):
    component_id: str
    type: str | None
    hops: int


class Step(BaseModel):
    label: str
    name: str


@router.get("/v1/projects/{project_id}/nets/{net}/members", response_model=list[Member])
def net_members(
    who: Who,
    live: Live,
    project_id: str,
    net: str,
    job_id: Annotated[str | None, Query()] = None,
) -> list[dict]:
    """The parts and pins on a net."""
    require_project(project_id, who, live)
    members = live.graph.net_members(project_id, net, job_id)
    if not members:
        raise ApiError(404, "not_found", f"no net {net!r} in project {project_id!r}")
    return members


async def _while_connected(request: Request, work: Callable[[Callable[[], bool]], T]) -> T:
    """Run `work(cancelled)` in a worker thread; `cancelled()` turns true once the client is gone,
    so a walk the client no longer waits for stops at its next read."""
    gone = threading.Event()

    async def watch() -> None:
        while not gone.is_set():
            if await request.is_disconnected():
                gone.set()
            await asyncio.sleep(0.1)

    watcher = asyncio.create_task(watch())
    try:
        return await run_in_threadpool(work, gone.is_set)
    finally:
        gone.set()
        watcher.cancel()


@router.get("/v1/projects/{project_id}/components/{component_id}/reach", response_model=list[Reached])
async def reach(
    request: Request,
    who: Who,
    live: Live,
    project_id: str,
    component_id: str,
    job_id: Annotated[str, Query()],
    pin: Annotated[str | None, Query(description="start from this pin only")] = None,
    hops: Annotated[int, Query(ge=1, le=10, description="nets crossed at most")] = 1,
) -> list[dict]:
    """The parts a part (or one of its pins) reaches across at most `hops` nets, breadth-first:
    every net and part is read at most once, whatever `hops` is."""

    def walk(cancelled: Callable[[], bool]) -> list[dict]:
        require_project(project_id, who, live)
        try:
            return live.graph.reach(project_id, job_id, component_id, pin, hops, cancelled=cancelled)
        except ReachCancelled as exc:
            raise ApiError(499, "client_closed", str(exc)) from None

    return await _while_connected(request, walk)


@router.get("/v1/projects/{project_id}/path", response_model=list[Step])
def shortest_path(
    who: Who,
    live: Live,
    project_id: str,
    job_id: Annotated[str, Query()],
    start: Annotated[str, Query(alias="from", description="a component id")],
    end: Annotated[str, Query(alias="to", description="a component id")],
) -> list[dict]:
    """The shortest chain of parts, pins and nets between two parts; 404 when none joins them."""
    require_project(project_id, who, live)
    path = live.graph.shortest_path(project_id, job_id, start, end)
    if not path:
        raise ApiError(404, "not_found", f"no path from {start!r} to {end!r} in job {job_id!r}")
    return path
