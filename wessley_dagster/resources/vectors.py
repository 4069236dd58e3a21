"""Vector backend resource: a Qdrant server (QDRANT_URL, QDRANT_API_KEY) or, with no
configuration, Qdrant Edge in a local folder."""

from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from wessley_dagster.stores.qdrant_edge import EdgeVectorStore
from wessley_dagster.stores.qdrant_server import QdrantServerVectorStore
from wessley_dagster.stores.vectors import VectorStore


class VectorResource(ConfigurableResource):
    """`url` empty means Qdrant Edge under `edge_dir`; `local_path` selects qdrant-client's local mode."""

    collection: str = "wessley_docs"
    url: str = ""
    api_key: str | None = None
    local_path: str = ""
    edge_dir: str = ".wessley/qdrant"

    _store: VectorStore | None = PrivateAttr(default=None)

    @property
    def backend(self) -> str:
        return "qdrant" if self.url else "qdrant-local" if self.local_path else "qdrant-edge"

    def open_store(self) -> VectorStore:
        if self.url:
            return QdrantServerVectorStore(self.collection, url=self.url, api_key=self.api_key)
        if self.local_path:
            return QdrantServerVectorStore(self.collection, path=self.local_path)
        return EdgeVectorStore(Path(self.edge_dir), self.collection)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    @property
    def store(self) -> VectorStore:
        if self._store is None:
            self._store = self.open_store()
        return self._store
