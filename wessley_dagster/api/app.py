"""The ASGI app: `create_app()` for uvicorn (`wessley-dagster serve`), on the stores chosen by
the same environment variables as the Dagster code location."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from anyio import to_thread
from fastapi import FastAPI

from wessley_dagster.api import errors
from wessley_dagster.api.backends import open_backends
from wessley_dagster.api.routes import artifacts, graph, health, ingestions, search
from wessley_dagster.settings import Settings
from wessley_dagster.stores.signing import home_secret


def jwt_secret(settings: Settings) -> bytes:
    """`SUPABASE_JWT_SECRET`, or this home's own secret (for `wessley-dagster token` locally)."""
    if settings.supabase_jwt_secret:
        return settings.supabase_jwt_secret.encode()
    return home_secret(settings.home / "jwt.secret")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Routes run in worker threads; past a few, threads only contend for the GIL (measured in
        # bench/api_load.py: 40 threads serve status 25 % slower than 4 to 8).
        to_thread.current_default_thread_limiter().total_tokens = settings.wessley_api_threads
        with open_backends(settings, jwt_secret(settings)) as live:
            app.state.backends = live
            yield

    app = FastAPI(title="wessley-dagster read API", version=version("wessley-dagster"), lifespan=lifespan)
    errors.install(app)
    for group in (health, ingestions, search, graph, artifacts):
        app.include_router(group.router)
    return app
