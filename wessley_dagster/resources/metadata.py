"""Metadata backend resources, one class per backend: `SqlMetadataResource` (Supabase's Postgres
or any PostgreSQL by connection, or the embedded default, a SQLite file; migrations applied on
first use) and `SupabaseRestMetadataResource` (Supabase through its REST API; migrations applied
by the Supabase CLI)."""

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
    """What both metadata backends share: the plan a new project starts on, one store per process."""

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

    @property
    def kind(self) -> str:
        raise NotImplementedError

    def open_store(self) -> MetadataStore:
        raise NotImplementedError

    @property
    def store(self) -> MetadataStore:
        if self._store is None:
            self._store = self.open_store()
        return self._store


class SqlMetadataResource(MetadataResource):
    """Any SQLAlchemy URL: PostgreSQL (`SUPABASE_DB_URL`) or, by default, SQLite under the home."""

    db_url: str

    @property
    def kind(self) -> str:
        # A URL held in an environment variable (a secret) names a server: only SQLite is a file.
        return "sqlite" if self.db_url.startswith("sqlite") else "postgres"

    def open_store(self) -> MetadataStore:
        url = _usable(self.db_url)
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        store = SqlMetadataStore(url, self.default_plan)
        if url not in _MIGRATED:
            store.migrate()
            _MIGRATED.add(url)
        return store


class SupabaseRestMetadataResource(MetadataResource):
    """Supabase's REST API (`SUPABASE_URL` with the `service_role` key `SUPABASE_SERVICE_KEY`)."""

    supabase_url: str
    supabase_service_key: str

    @property
    def kind(self) -> str:
        return "supabase"

    def open_store(self) -> MetadataStore:
        from wessley_dagster.stores.metadata.rest import SupabaseMetadataStore  # supabase-py only when used

        return SupabaseMetadataStore(self.supabase_url, self.supabase_service_key, self.default_plan)
