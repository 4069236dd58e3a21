"""The live stores one API process serves from, opened once from the same environment variables
and resources as the Dagster code location (secrets resolve as they do in a run)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import dagster

from wessley_dagster.domain.bundle import BundleLimits
from wessley_dagster.domain.embedders import Embedder
from wessley_dagster.resources import build_resources
from wessley_dagster.stores.graph import GraphStore
from wessley_dagster.stores.metadata import MetadataStore
from wessley_dagster.stores.objects import FallbackStore, LocalFolderStore, ObjectStore
from wessley_dagster.stores.signing import UrlSigner
from wessley_dagster.stores.vectors import VectorStore

SERVED = ("graph", "vectors", "storage", "uploads", "metadata", "embeddings_model")


@dataclass
class Backends:
    metadata: MetadataStore
    vectors: VectorStore
    graph: GraphStore
    embedder: Embedder
    artifacts: FallbackStore
    local_artifacts: LocalFolderStore | None
    signer: UrlSigner
    uploads: ObjectStore
    limits: BundleLimits
    jwt_secret: bytes
    url_ttl: int


@contextmanager
def open_backends(env: Mapping[str, str], jwt_secret: bytes, url_ttl: int) -> Iterator[Backends]:
    resources: dict[str, Any] = build_resources(env)
    with dagster.build_resources({k: resources[k] for k in SERVED}) as live:
        yield Backends(
            metadata=live.metadata.store,
            vectors=live.vectors.store,
            graph=live.graph.store,
            embedder=live.embeddings_model.embedder(),
            artifacts=live.storage.object_store(),
            local_artifacts=live.storage.local_store(),
            signer=live.storage.signer(),
            uploads=live.uploads.object_store(),
            limits=live.uploads.limits(),
            jwt_secret=jwt_secret,
            url_ttl=url_ttl,
        )
