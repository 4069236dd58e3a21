"""Metadata resource: Supabase's Postgres by connection (SUPABASE_DB_URL, migrations applied on
first use), Supabase through its REST API (SUPABASE_URL and SUPABASE_SERVICE_KEY, migrations
applied by the Supabase CLI) or, with no configuration, a SQLite file."""

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import PrivateAttr
from sqlalchemy.engine import make_url

from wessley_dagster.stores.metadata import FREE_PLAN, MetadataStore, Plan
from wessley_dagster.stores.metadata.sql import SqlMetadataStore

# Databases this process has migrated: checking again on every step of a Celery worker is waste.
_MIGRATED: set[str] = set()


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
    """`db_url` is any SQLAlchemy URL; else `supabase_url` with `supabase_service_key` reach
    Supabase's REST API; with neither, SQLite at `sqlite_path`."""

    db_url: str = ""
    supabase_url: str = ""
    supabase_service_key: str = ""
    sqlite_path: str = ".wessley/metadata.db"
    plan: str = FREE_PLAN["plan"]
    monthly_ingestion_limit: int = FREE_PLAN["monthly_ingestion_limit"]
    storage_limit_bytes: int = FREE_PLAN["storage_limit_bytes"]

    _store: MetadataStore | None = PrivateAttr(default=None)

    @property
    def default_plan(self) -> Plan:
        return {
            "plan": self.plan,
            "monthly_ingestion_limit": self.monthly_ingestion_limit,
            "storage_limit_bytes": self.storage_limit_bytes,
        }

    def open_store(self) -> MetadataStore:
        url = self.db_url
        if not url and self.supabase_url:
            from wessley_dagster.stores.metadata.rest import SupabaseMetadataStore  # supabase-py only when used

            if not self.supabase_service_key:
                raise ValueError("SUPABASE_URL is set but SUPABASE_SERVICE_KEY is not: the metadata store needs both")
            return SupabaseMetadataStore(self.supabase_url, self.supabase_service_key, self.default_plan)
        if not url:
            path = Path(self.sqlite_path).resolve()
            path.parent.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{path}"
        store = SqlMetadataStore(_usable(url), self.default_plan)
        if url not in _MIGRATED:
            store.migrate()
            _MIGRATED.add(url)
        return store

    @property
    def store(self) -> MetadataStore:
        if self._store is None:
            self._store = self.open_store()
        return self._store
