"""The live stores one API process serves from, opened once from the same environment variables
and resources as the Dagster code location (secrets resolve as they do in a run)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import dagster

from wessley_dagster.domain.bundle import BundleLimits
from wessley_dagster.domain.embedders import Embedder
from wessley_dagster.resources.profiles import build_resources
from wessley_dagster.resources.vectors import VectorResource
from wessley_dagster.settings import Settings
from wessley_dagster.stores.graph import GraphStore
from wessley_dagster.stores.metadata import MetadataStore
from wessley_dagster.stores.objects import FallbackStore, LocalFolderStore, ObjectStore
from wessley_dagster.stores.qdrant_edge import EdgeBusy
from wessley_dagster.stores.signing import UrlSigner
from wessley_dagster.stores.vectors import VectorStore

SERVED = ("graph", "vectors", "storage", "uploads", "metadata", "embeddings_model")


class VectorLease:
    """The vector store for the requests in flight. Qdrant Edge (the embedded default) admits one
    process per folder, so the API holds it only while requests come and closes it `idle` seconds
    after the last, letting a run's `vector_index` step take it; while a run holds it, requests
    wait up to `wait` seconds (then 503), as the step retries while the API holds it. A Qdrant
    server is shared by everyone and stays open."""

    def __init__(self, resource: VectorResource, idle: float = 2.0, wait: float = 30.0) -> None:
        self._resource, self._idle, self._wait = resource, idle, wait
        self._shared = resource.shared
        self._store: VectorStore | None = None
        self._users = 0
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def _open(self) -> VectorStore:
        deadline = time.monotonic() + self._wait
        while True:
            store = self._resource.open_store()
            try:
                store.total()  # loads the shard now, so that a busy folder is met here
                return store
            except EdgeBusy:
                store.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    @contextmanager
    def __call__(self) -> Iterator[VectorStore]:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._store is None:
                self._store = self._open()
            self._users += 1
            store = self._store
        try:
            yield store
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0 and not self._shared:
                    self._timer = threading.Timer(self._idle, self._release)
                    self._timer.daemon = True
                    self._timer.start()

    def _release(self) -> None:
        with self._lock:
            if self._users == 0 and self._store is not None:
                self._store.close()
                self._store = None

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            if self._store is not None:
                self._store.close()
                self._store = None


@dataclass
class Backends:
    metadata: MetadataStore
    vectors: VectorLease
    graph: GraphStore
    embedder: Embedder
    artifacts: FallbackStore
    local_artifacts: LocalFolderStore | None
    signer: UrlSigner
    uploads: ObjectStore
    limits: BundleLimits
    jwt_secret: bytes
    url_ttl: int
    jwt_audience: str  # what a user token's `aud` must name (Supabase Auth's)
    claim_ttl: int  # seconds an accepted upload holds its new project for its user


@contextmanager
def open_backends(settings: Settings, jwt_secret: bytes) -> Iterator[Backends]:
    resources: dict[str, Any] = build_resources(settings)
    with dagster.build_resources({k: resources[k] for k in SERVED}) as live:
        vectors = VectorLease(live.vectors)
        yield Backends(
            metadata=live.metadata.store,
            vectors=vectors,
            graph=live.graph.store,
            embedder=live.embeddings_model.embedder(),
            artifacts=live.storage.object_store(),
            local_artifacts=live.storage.local_store(),
            signer=live.storage.signer(),
            uploads=live.uploads.object_store(),
            limits=live.uploads.limits(),
            jwt_secret=jwt_secret,
            url_ttl=settings.wessley_url_ttl,
            jwt_audience=settings.supabase_jwt_audience,
            claim_ttl=settings.wessley_claim_ttl_s,
        )
        vectors.close()
