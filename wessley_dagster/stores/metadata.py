"""Job, project, artifact and quota metadata over SQLAlchemy: SQLite by default, Supabase's
Postgres (`SUPABASE_DB_URL`) in production. The schema is the SQL under supabase/migrations/,
applied in order by `migrate()` and recorded in `schema_migrations`.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from wessley_dagster.domain.bundle import Manifest

# The project is installed editable (make install), so the repository's migrations are the source.
MIGRATIONS = Path(__file__).resolve().parents[2] / "supabase" / "migrations"
PLAIN_POSTGRES = MIGRATIONS.parent / "plain_postgres.sql"
POSTGRES_ONLY = "-- postgres-only"


# A quota whose month has ended starts the next at zero ingestions (stored bytes carry over).
RESET_ENDED_MONTHS = "update user_quotas set ingestions_used = 0, reset_date = :reset where reset_date <= :today"


def _reset_params(now: datetime) -> dict[str, str]:
    return {"reset": _next_month(now), "today": now.date().isoformat()}


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _month_start(now: datetime) -> str:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0).isoformat()


def _next_month(now: datetime) -> str:
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC).date().isoformat()


class MetadataStore:
    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url, pool_pre_ping=True)

    def migrate(self) -> list[str]:
        """Apply pending migrations; returns the versions applied now. PostgreSQL takes each file
        whole (DO blocks included), after what plain PostgreSQL lacks of Supabase; SQLite takes
        the shared schema statement by statement, and records files marked postgres-only unrun."""
        postgres = self.engine.dialect.name == "postgresql"
        applied_now = []
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "create table if not exists schema_migrations (version text primary key, applied_at text not null)"
                )
            )
            done = {row[0] for row in conn.execute(text("select version from schema_migrations"))}
            if postgres:
                conn.exec_driver_sql(PLAIN_POSTGRES.read_text())
        for path in sorted(MIGRATIONS.glob("*.sql")):
            version = path.name.split("_", 1)[0]
            if version in done:
                continue
            sql = path.read_text()
            with self.engine.begin() as conn:
                if postgres:
                    conn.exec_driver_sql(sql)
                elif not sql.startswith(POSTGRES_ONLY):
                    for statement in (s.strip() for s in _strip_comments(sql).split(";")):
                        if statement:
                            conn.execute(text(statement))
                conn.execute(
                    text("insert into schema_migrations (version, applied_at) values (:v, :t)"),
                    {"v": version, "t": _now()},
                )
            applied_now.append(version)
        return applied_now

    def _exec(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(sql), dict(params or {}))

    def _rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text(sql), dict(params or {}))]

    # --- projects and jobs -------------------------------------------------------------------

    def register_job(
        self,
        manifest: Manifest,
        status: str,
        stage: str | None = None,
        error: str | None = None,
        upload_digest: str | None = None,
    ) -> None:
        """Create or update the project and job rows for a manifest (idempotent); the sensor passes
        the digest of the upload it saw, a run leaves the recorded one as it is."""
        now = _now()
        params = {
            "p": manifest.project_id,
            "j": manifest.job_id,
            "u": manifest.user_id,
            "v": json.dumps(manifest.vehicle.model_dump(mode="json")),
            "s": status,
            "stage": stage,
            "e": error,
            "c": manifest.created_at.isoformat(),
            "d": upload_digest,
            "now": now,
        }
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "insert into projects (project_id, user_id, vehicle, created_at, updated_at) "
                    "values (:p, :u, :v, :now, :now) "
                    "on conflict (project_id) do update set vehicle = excluded.vehicle, "
                    "updated_at = excluded.updated_at"
                ),
                params,
            )
            conn.execute(
                text(
                    "insert into ingestion_jobs (project_id, job_id, user_id, status, stage, progress, error, "
                    "upload_digest, created_at, updated_at) values (:p, :j, :u, :s, :stage, 0, :e, :d, :c, :now) "
                    "on conflict (project_id, job_id) do update set status = excluded.status, "
                    "stage = excluded.stage, error = excluded.error, updated_at = excluded.updated_at, "
                    "upload_digest = coalesce(excluded.upload_digest, ingestion_jobs.upload_digest)"
                ),
                params,
            )

    def project_owner(self, project_id: str) -> str | None:
        rows = self._rows("select user_id from projects where project_id = :p", {"p": project_id})
        return rows[0]["user_id"] if rows else None

    def refuse_upload(self, project_id: str, job_id: str, user_id: str, error: str, upload_digest: str) -> None:
        """A job row marked invalid for an upload refused before any run, in a project that exists;
        the project row itself is left as it is."""
        now = _now()
        self._exec(
            "insert into ingestion_jobs (project_id, job_id, user_id, status, stage, progress, error, upload_digest, "
            "created_at, updated_at, finished_at) values (:p, :j, :u, 'invalid', 'upload', 0, :e, :d, :now, :now, "
            ":now) on conflict (project_id, job_id) do update set status = 'invalid', stage = 'upload', "
            "error = excluded.error, upload_digest = excluded.upload_digest, updated_at = excluded.updated_at, "
            "finished_at = excluded.finished_at",
            {"p": project_id, "j": job_id, "u": user_id, "e": error[:4000], "d": upload_digest, "now": now},
        )

    def settled_upload(self, project_id: str, job_id: str, upload_digest: str) -> bool:
        """Whether this very upload was already refused, rejected or found invalid."""
        rows = self._rows(
            "select 1 from ingestion_jobs where project_id = :p and job_id = :j and upload_digest = :d "
            "and status in ('invalid', 'rejected')",
            {"p": project_id, "j": job_id, "d": upload_digest},
        )
        return bool(rows)

    def mark_invalid(self, project_id: str, job_id: str, error: str, upload_digest: str) -> None:
        """The job's upload failed validation: not retried, not counted against the quota, and not
        requested again (by the nightly reconcile) until its files change."""
        self._exec(
            "update ingestion_jobs set status = 'invalid', stage = 'bundle', error = :e, upload_digest = :d, "
            "updated_at = :now, finished_at = :now where project_id = :p and job_id = :j",
            {"p": project_id, "j": job_id, "e": error[:4000], "d": upload_digest, "now": _now()},
        )

    def set_stage(self, project_id: str, job_id: str, stage: str, progress: int, run_id: str | None = None) -> None:
        self._exec(
            "update ingestion_jobs set status = 'running', stage = :stage, progress = :progress, error = null, "
            "dagster_run_id = coalesce(:run, dagster_run_id), updated_at = :now "
            "where project_id = :p and job_id = :j",
            {
                "p": project_id,
                "j": job_id,
                "stage": stage,
                "progress": progress,
                "run": run_id,
                "now": _now(),
            },
        )

    def complete_job(
        self, project_id: str, job_id: str, metrics: Mapping[str, Any], chunker_version: str, embedding_model: str
    ) -> None:
        artifacts = [r["name"] for r in self.artifacts(project_id, job_id)]
        now = _now()
        self._exec(
            "update ingestion_jobs set status = 'succeeded', stage = 'done', progress = 100, error = null, "
            "metrics = :m, artifacts = :a, chunker_version = :cv, embedding_model = :em, updated_at = :now, "
            "finished_at = :now where project_id = :p and job_id = :j",
            {
                "p": project_id,
                "j": job_id,
                "m": json.dumps(dict(metrics), sort_keys=True),
                "a": json.dumps(artifacts),
                "cv": chunker_version,
                "em": embedding_model,
                "now": now,
            },
        )

    def finish_run(self, project_id: str, job_id: str, run_id: str) -> None:
        """A run of some of the job's assets (a UI selection, a partial backfill) succeeded: the job is
        `succeeded` again, its metrics those of the last run that included `job_record`. Only the
        row that run was writing is touched; a later run's row is left to that run."""
        self._exec(
            "update ingestion_jobs set status = 'succeeded', stage = 'done', progress = 100, error = null, "
            "updated_at = :now, finished_at = :now "
            "where project_id = :p and job_id = :j and dagster_run_id = :run and status = 'running'",
            {"p": project_id, "j": job_id, "run": run_id, "now": _now()},
        )

    def fail_job(self, project_id: str, job_id: str, error: str) -> None:
        """The run failed; a job whose upload this run found invalid stays `invalid`."""
        self._exec(
            "update ingestion_jobs set status = case when status = 'invalid' then 'invalid' else 'failed' end, "
            "error = :e, updated_at = :now, finished_at = :now "
            "where project_id = :p and job_id = :j",
            {"p": project_id, "j": job_id, "e": error[:4000], "now": _now()},
        )

    def job(self, project_id: str, job_id: str) -> dict[str, Any] | None:
        rows = self._rows(
            "select * from ingestion_jobs where project_id = :p and job_id = :j",
            {"p": project_id, "j": job_id},
        )
        return rows[0] if rows else None

    def jobs(self) -> list[dict[str, Any]]:
        return self._rows("select * from ingestion_jobs order by project_id, job_id")

    # --- artifacts -----------------------------------------------------------------------------

    def replace_artifacts(self, project_id: str, job_id: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """The job's artifact registry becomes exactly `rows` (one transaction)."""
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(
                text("delete from artifacts where project_id = :p and job_id = :j"),
                {"p": project_id, "j": job_id},
            )
            for row in rows:
                conn.execute(
                    text(
                        "insert into artifacts (project_id, job_id, name, artifact_type, storage_url, backend, "
                        "content_type, size_bytes, metadata, created_at) "
                        "values (:p, :j, :name, :type, :url, :backend, :ct, :size, :meta, :now)"
                    ),
                    {
                        "p": project_id,
                        "j": job_id,
                        "name": row["name"],
                        "type": row["artifact_type"],
                        "url": row["storage_url"],
                        "backend": row["backend"],
                        "ct": row["content_type"],
                        "size": row["size_bytes"],
                        "meta": json.dumps(row.get("metadata") or {}),
                        "now": now,
                    },
                )

    def artifacts(self, project_id: str | None = None, job_id: str | None = None) -> list[dict[str, Any]]:
        return self._rows(
            "select * from artifacts where (:p is null or project_id = :p) and (:j is null or job_id = :j) "
            "order by project_id, job_id, name",
            {"p": project_id, "j": job_id},
        )

    def storage_usage(self, project_id: str | None = None, job_id: str | None = None) -> list[dict[str, Any]]:
        """Objects and bytes stored, per project, job and backend, from the artifact registry."""
        return self._rows(
            "select project_id, job_id, backend, count(*) as objects, sum(size_bytes) as bytes from artifacts "
            "where (:p is null or project_id = :p) and (:j is null or job_id = :j) "
            "group by project_id, job_id, backend order by project_id, job_id, backend",
            {"p": project_id, "j": job_id},
        )

    # --- quotas --------------------------------------------------------------------------------

    def _ensure_quota(self, conn: Any, user_id: str, plan: Mapping[str, Any], now: datetime) -> None:
        """The user's quota row exists, and a month that has ended has its ingestions reset."""
        conn.execute(
            text(
                "insert into user_quotas (user_id, plan, monthly_ingestion_limit, storage_limit_bytes, reset_date) "
                "values (:u, :plan, :ing, :sto, :reset) on conflict (user_id) do nothing"
            ),
            {
                "u": user_id,
                "plan": plan["plan"],
                "ing": plan["monthly_ingestion_limit"],
                "sto": plan["storage_limit_bytes"],
                "reset": _next_month(now),
            },
        )
        conn.execute(text(RESET_ENDED_MONTHS + " and user_id = :u"), {"u": user_id, **_reset_params(now)})

    def quota(self, user_id: str, default_plan: Mapping[str, Any]) -> dict[str, Any]:
        """The user's quota row: plan, limits, and the usage counted so far."""
        with self.engine.begin() as conn:
            self._ensure_quota(conn, user_id, default_plan, datetime.now(UTC))
            row = conn.execute(text("select * from user_quotas where user_id = :u"), {"u": user_id}).one()
        return dict(row._mapping)

    def record_usage(
        self,
        project_id: str,
        job_id: str,
        artifact_bytes: int,
        default_plan: Mapping[str, Any],
        now: datetime | None = None,
    ) -> None:
        """After a job succeeds: one ingestion for its first success this month, and its change in
        stored bytes, added to its user's row in one transaction. The job row is locked first
        (PostgreSQL) so that two runs of one job cannot both count it; different jobs of one user
        each add in a single UPDATE, so none is lost."""
        now = now or datetime.now(UTC)
        month = _month_start(now)
        lock = " for update" if self.engine.dialect.name == "postgresql" else ""
        with self.engine.begin() as conn:
            job = conn.execute(
                text(f"select user_id, counted_month, counted_bytes from ingestion_jobs "
                     f"where project_id = :p and job_id = :j{lock}"),
                {"p": project_id, "j": job_id},
            ).one()  # fmt: skip
            self._ensure_quota(conn, job.user_id, default_plan, now)
            conn.execute(
                text(
                    "update user_quotas set ingestions_used = ingestions_used + :n, "
                    "storage_used_bytes = storage_used_bytes + :delta where user_id = :u"
                ),
                {"u": job.user_id, "n": int(job.counted_month != month), "delta": artifact_bytes - job.counted_bytes},
            )
            conn.execute(
                text(
                    "update ingestion_jobs set counted_month = :m, counted_bytes = :b "
                    "where project_id = :p and job_id = :j"
                ),
                {"p": project_id, "j": job_id, "m": month, "b": artifact_bytes},
            )

    def reset_monthly_usage(self, now: datetime | None = None) -> int:
        """Every quota whose month has ended starts the new one at zero ingestions; returns how many."""
        now = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            result = conn.execute(text(RESET_ENDED_MONTHS), _reset_params(now))
        return int(result.rowcount)

    def quota_rejection(self, manifest: Manifest, incoming_bytes: int, default_plan: Mapping[str, Any]) -> str | None:
        """Why this job would exceed the user's quota, or None if it fits. A known job is a re-run;
        jobs queued or running and not yet counted this month count as used."""
        quota = self.quota(manifest.user_id, default_plan)
        pending = self._rows(
            "select count(*) as n from ingestion_jobs where user_id = :u and status in ('queued', 'running') "
            "and (counted_month is null or counted_month <> :m)",
            {"u": manifest.user_id, "m": _month_start(datetime.now(UTC))},
        )[0]["n"]
        used = quota["ingestions_used"] + int(pending)
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

    def get_many(self, model: str, hashes: Iterable[str]) -> dict[str, list[float]]:
        wanted = list(hashes)
        found: dict[str, list[float]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            names = {f"h{i}": h for i, h in enumerate(chunk)}
            rows = self._rows(
                f"select text_sha256, vector from embedding_cache where model = :m "
                f"and text_sha256 in ({', '.join(':' + n for n in names)})",
                {"m": model, **names},
            )
            for row in rows:
                found[row["text_sha256"]] = array("f", bytes(row["vector"])).tolist()
        return found

    def put_many(self, model: str, vectors: Mapping[str, list[float]]) -> None:
        rows = [{"m": model, "h": h, "d": len(v), "v": array("f", v).tobytes()} for h, v in vectors.items()]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(
                    text(
                        "insert into embedding_cache (model, text_sha256, dimension, vector) values (:m, :h, :d, :v) "
                        "on conflict (model, text_sha256) do nothing"
                    ),
                    rows,
                )

    def totals(self) -> dict[str, int]:
        tables = ("projects", "ingestion_jobs", "artifacts", "user_quotas", "embedding_cache")
        with self.engine.connect() as conn:
            return {t: int(conn.execute(text(f"select count(*) from {t}")).scalar_one()) for t in tables}


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
