"""Metadata resource: Supabase's Postgres (SUPABASE_DB_URL) or, with no configuration, a SQLite
file. Migrations under supabase/migrations/ are applied on setup."""

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import PrivateAttr
from sqlalchemy.engine import make_url

from wessley_dagster.stores.metadata import MetadataStore


def _usable(url: str) -> str:
    """The URL SQLAlchemy takes, or an error that says what is wrong without showing the URL (it
    holds the password). `postgres://`, as some providers print it, means PostgreSQL."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    try:
        parsed = make_url(url)
        parsed.get_dialect()
        parsed.port  # noqa: B018 - reading the port is what parses it
    except Exception as exc:  # SQLAlchemy raises several kinds for a bad URL; all mean the same here
        scheme = url.split("://", 1)[0] if "://" in url else "no scheme"
        raise ValueError(
            f"SUPABASE_DB_URL (metadata db_url) is not a database URL SQLAlchemy can use "
            f"(scheme: {scheme}): {type(exc).__name__}"
        ) from None
    return url


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
        store = MetadataStore(_usable(url))
        store.migrate()
        return store

    @property
    def store(self) -> MetadataStore:
        if self._store is None:
            self._store = self.open_store()
        return self._store
