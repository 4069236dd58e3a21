"""Metadata resource: Supabase's Postgres (SUPABASE_DB_URL) or, with no configuration, a SQLite
file. Migrations under supabase/migrations/ are applied on setup."""

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import PrivateAttr

from wessley_dagster.stores.metadata import MetadataStore


class MetadataResource(ConfigurableResource):
    """`db_url` is any SQLAlchemy URL; empty means SQLite at `sqlite_path`."""

    db_url: str = ""
    sqlite_path: str = ".wessley/metadata.db"
    plan: str = "free"
    monthly_ingestion_limit: int = 100
    storage_limit_bytes: int = 1 << 30

    _store: MetadataStore | None = PrivateAttr(default=None)

    @property
    def default_plan(self) -> dict[str, object]:
        return {
            "plan": self.plan,
            "monthly_ingestion_limit": self.monthly_ingestion_limit,
            "storage_limit_bytes": self.storage_limit_bytes,
        }

    def open_store(self) -> MetadataStore:
        url = self.db_url
        if not url:
            path = Path(self.sqlite_path).resolve()
            path.parent.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{path}"
        store = MetadataStore(url)
        store.migrate()
        return store

    @property
    def store(self) -> MetadataStore:
        if self._store is None:
            self._store = self.open_store()
        return self._store
