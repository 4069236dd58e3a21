"""Vector backend resources, one class per backend: `QdrantResource` (a Qdrant server) and
`QdrantEdgeResource` (the embedded default, Qdrant Edge in a local folder)."""

from pathlib import Path
from typing import ClassVar

from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from wessley_dagster.stores.qdrant_edge import EdgeVectorStore
from wessley_dagster.stores.qdrant_server import QdrantServerVectorStore
from wessley_dagster.stores.vectors import VectorStore


class VectorResource(ConfigurableResource):
    """What both vector backends share: one store per step, opened on first use."""

    kind: ClassVar[str] = "qdrant"
    backend: ClassVar[str]  # recorded with each load
    shared: ClassVar[bool]  # whether other processes may hold the store at the same time
    collection: str = "wessley_docs"

    _store: VectorStore | None = PrivateAttr(default=None)

    def open_store(self) -> VectorStore:
        raise NotImplementedError

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    @property
    def store(self) -> VectorStore:
        if self._store is None:
            self._store = self.open_store()
        return self._store


class QdrantResource(VectorResource):
    """A Qdrant server (`QDRANT_URL`, `QDRANT_API_KEY`)."""

    backend: ClassVar[str] = "qdrant"
    shared: ClassVar[bool] = True
    url: str
    api_key: str | None = None

    def open_store(self) -> VectorStore:
        return QdrantServerVectorStore(self.collection, url=self.url, api_key=self.api_key)


class QdrantEdgeResource(VectorResource):
    """The embedded default: Qdrant Edge under `edge_dir`, which admits one process at a time."""

    backend: ClassVar[str] = "qdrant-edge"
    shared: ClassVar[bool] = False
    edge_dir: str

    def open_store(self) -> VectorStore:
        return EdgeVectorStore(Path(self.edge_dir), self.collection)
