"""The metadata contract: projects, ingestion jobs, the artifact registry, user quotas and the
embedding cache. Two implementations keep it: `sql.SqlMetadataStore` (SQLite by default, or
Supabase's Postgres through `SUPABASE_DB_URL`) and `rest.SupabaseMetadataStore` (supabase-py's
REST client through `SUPABASE_URL`). The schema is the SQL under supabase/migrations/.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Any, TypedDict

import numpy as np

from wessley_dagster.domain.bundle import Manifest
from wessley_dagster.domain.jobs import JobStatus

# The project is installed editable (make install), so the repository's migrations are the source.
# The schema ships inside the package (read through importlib.resources, so an installed wheel
# finds it); `supabase/migrations` in a checkout links here, where the Supabase CLI looks.
SCHEMA = files("wessley_dagster.stores.metadata") / "schema"
MIGRATIONS = SCHEMA / "migrations"


class UnknownJob(LookupError):
    """An update named a job the store does not hold: it was never registered, or its project id
    or job id is wrong. Not transient: a retry would meet the same."""

    def __init__(self, project_id: str, job_id: str) -> None:
        super().__init__(f"no ingestion job {job_id!r} in project {project_id!r} in the metadata store")


class Plan(TypedDict):
    plan: str
    monthly_ingestion_limit: int
    storage_limit_bytes: int


# What a user gets on first sight unless the deployment says otherwise.
FREE_PLAN = Plan(plan="free", monthly_ingestion_limit=100, storage_limit_bytes=1 << 30)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def claim_window(ttl_s: int, now: datetime | None = None) -> tuple[str, str]:
    """(from, until) of a claim made `now` for `ttl_s` seconds, as the ISO strings both stores compare."""
    start = now or datetime.now(UTC)
    return start.isoformat(), (start + timedelta(seconds=ttl_s)).isoformat()


def vector_bytes(vector: np.ndarray) -> bytes:
    """A cached vector as both stores keep it: float32, little-endian."""
    return np.asarray(vector, dtype="<f4").tobytes()


def bytes_vector(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4")


def month_start(now: datetime) -> str:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0).isoformat()


def next_month(now: datetime) -> str:
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC).date().isoformat()


class MetadataStore(ABC):
    """What the assets, sensors, schedules and the CLI ask of the metadata backend. `plan` is the
    quota a user gets on first sight."""

    def __init__(self, plan: Plan = FREE_PLAN) -> None:
        self.plan = plan

    # --- projects and jobs -------------------------------------------------------------------

    @abstractmethod
    def register_job(
        self,
        manifest: Manifest,
        status: JobStatus,
        stage: str | None = None,
        error: str | None = None,
        upload_digest: str | None = None,
    ) -> None:
        """Create or update the user's quota, the project and the job rows for a manifest
        (idempotent); the sensor passes the digest of the upload it saw, a run leaves the recorded
        one as it is."""

    @abstractmethod
    def project_owner(self, project_id: str, now: datetime | None = None) -> str | None:
        """The project's user, or the user holding an unexpired claim on it; None if neither."""

    @abstractmethod
    def claim_project(self, project_id: str, user_id: str, ttl_s: int, now: datetime | None = None) -> str:
        """Claim a project that has no owner for `user_id` (or renew their claim), atomically:
        of two users claiming at once exactly one holds it. Returns who holds the project now."""

    @abstractmethod
    def refuse_upload(self, project_id: str, job_id: str, user_id: str, error: str, upload_digest: str) -> None:
        """A job row marked invalid for an upload refused before any run, in a project that exists;
        the project row itself is left as it is."""

    @abstractmethod
    def settled_upload(self, project_id: str, job_id: str, upload_digest: str) -> bool:
        """Whether this very upload was already refused, rejected or found invalid."""

    @abstractmethod
    def mark_invalid(self, project_id: str, job_id: str, error: str, upload_digest: str) -> None:
        """The job's upload failed validation: not retried, not counted against the quota, and not
        requested again (by the nightly reconcile) until its files change. A job with no row (a run
        started on an upload the sensor never registered) has none to mark."""

    # The three updates below, which a run makes of the job it registered, raise UnknownJob when
    # no row has the project and job ids.

    @abstractmethod
    def set_stage(self, project_id: str, job_id: str, stage: str, progress: int, run_id: str | None = None) -> None: ...

    @abstractmethod
    def complete_job(
        self, project_id: str, job_id: str, metrics: Mapping[str, Any], chunker_version: str, embedding_model: str
    ) -> None: ...

    @abstractmethod
    def finish_run(self, project_id: str, job_id: str, run_id: str) -> None:
        """A run of some of the job's assets (a UI selection, a partial backfill) succeeded: the job is
        `succeeded` again, its metrics those of the last run that included `job_record`. Only the
        row that run was writing is touched; a later run's row is left to that run."""

    @abstractmethod
    def fail_job(self, project_id: str, job_id: str, error: str) -> None:
        """The run failed; a job whose upload this run found invalid stays `invalid`. A run that
        failed before registering its job (a refused upload) has no row to update."""

    @abstractmethod
    def job(self, project_id: str, job_id: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def jobs(self, job_id: str | None = None) -> list[dict[str, Any]]:
        """Every job row, or those with this job id (in any project), by project and job id."""

    # --- artifacts -----------------------------------------------------------------------------

    @abstractmethod
    def replace_artifacts(self, project_id: str, job_id: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """The job's artifact registry becomes exactly `rows`, all at once."""

    @abstractmethod
    def artifacts(self, project_id: str | None = None, job_id: str | None = None) -> list[dict[str, Any]]: ...

    @abstractmethod
    def storage_usage(self, project_id: str | None = None, job_id: str | None = None) -> list[dict[str, Any]]:
        """Objects and bytes stored, per project, job and backend, from the artifact registry."""

    # --- quotas --------------------------------------------------------------------------------

    @abstractmethod
    def quota(self, user_id: str) -> dict[str, Any]:
        """The user's quota row (created from the plan on first sight, its ingestions reset if its
        month has ended): plan, limits, and the usage counted so far."""

    @abstractmethod
    def record_usage(self, project_id: str, job_id: str, artifact_bytes: int, now: datetime | None = None) -> None:
        """After a job succeeds: one ingestion for its first success this month, and its change in
        stored bytes, added to its user's row atomically, so that concurrent jobs lose none and two
        runs of one job count it once."""

    @abstractmethod
    def reset_monthly_usage(self, now: datetime | None = None) -> int:
        """Every quota whose month has ended starts the new one at zero ingestions (stored bytes
        carry over); returns how many."""

    @abstractmethod
    def pending_ingestions(self, user_id: str, now: datetime) -> int:
        """The user's jobs queued or running and not yet counted in `now`'s month."""

    def quota_rejection(self, manifest: Manifest, incoming_bytes: int) -> str | None:
        """Why this job would exceed the user's quota, or None if it fits. A known job is a re-run;
        jobs queued or running and not yet counted this month count as used."""
        quota = self.quota(manifest.user_id)
        used = quota["ingestions_used"] + self.pending_ingestions(manifest.user_id, datetime.now(UTC))
        if self.job(manifest.project_id, manifest.job_id) is None and used + 1 > quota["monthly_ingestion_limit"]:
            return (
                f"monthly ingestion quota exceeded: {used} of "
                f"{quota['monthly_ingestion_limit']} used (plan {quota['plan']})"
            )
        if quota["storage_used_bytes"] + incoming_bytes > quota["storage_limit_bytes"]:
            return (
                f"storage quota exceeded: {quota['storage_used_bytes']} + {incoming_bytes} bytes > "
                f"{quota['storage_limit_bytes']} (plan {quota['plan']})"
            )
        return None

    # --- embedding cache (EmbeddingCache protocol) ----------------------------------------------

    @abstractmethod
    def get_many(self, model: str, hashes: Iterable[str]) -> dict[str, np.ndarray]: ...

    @abstractmethod
    def put_many(self, model: str, vectors: Mapping[str, np.ndarray]) -> None:
        """First write wins: the same text under the same model has the same vector."""

    @abstractmethod
    def totals(self) -> dict[str, int]:
        """Rows per table."""


TABLES = ("projects", "ingestion_jobs", "artifacts", "user_quotas", "embedding_cache")
