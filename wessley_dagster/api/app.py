"""The ASGI app: `create_app()` for uvicorn (`wessley-dagster serve`), on the stores chosen by
the same environment variables as the Dagster code location."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from importlib.metadata import version
from pathlib import Path

from anyio import to_thread
from fastapi import FastAPI

from wessley_dagster.api import errors
from wessley_dagster.api.backends import open_backends
from wessley_dagster.api.routes import artifacts, graph, health, ingestions, search
from wessley_dagster.stores.signing import home_secret


def jwt_secret(env: Mapping[str, str]) -> bytes:
    """`SUPABASE_JWT_SECRET`, or this home's own secret (for `wessley-dagster token` locally)."""
    if env.get("SUPABASE_JWT_SECRET"):
        return env["SUPABASE_JWT_SECRET"].encode()
    return home_secret(Path(env.get("WESSLEY_HOME", ".wessley")) / "jwt.secret")


def create_app(env: Mapping[str, str] | None = None) -> FastAPI:
    env = dict(os.environ if env is None else env)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Routes run in worker threads; past a few, threads only contend for the GIL (measured in
        # bench/api_load.py: 40 threads serve status 25 % slower than 4 to 8).
        to_thread.current_default_thread_limiter().total_tokens = int(env.get("WESSLEY_API_THREADS", "8"))
        ttl = int(env.get("WESSLEY_URL_TTL", "900"))
        with open_backends(env, jwt_secret(env), ttl) as live:
            app.state.backends = live
            yield

    app = FastAPI(title="wessley-dagster read API", version=version("wessley-dagster"), lifespan=lifespan)
    errors.install(app)
    for group in (health, ingestions, search, graph, artifacts):
        app.include_router(group.router)
    return app
