"""The metadata contract over SQLAlchemy: SQLite by default, Supabase's Postgres
(`SUPABASE_DB_URL`) in production. `migrate()` applies supabase/migrations/ in order and records
them in `schema_migrations`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, create_engine, text

from wessley_dagster.domain.bundle import Manifest
from wessley_dagster.domain.jobs import DONE_STAGE, UPLOAD_STAGE, JobStatus
from wessley_dagster.stores.metadata import (
    FREE_PLAN,
    MIGRATIONS,
    SCHEMA,
    TABLES,
    MetadataStore,
    Plan,
    UnknownJob,
    bytes_vector,
    claim_window,
    month_start,
    next_month,
    now_iso,
    vector_bytes,
)

PLAIN_POSTGRES = SCHEMA / "plain_postgres.sql"
POSTGRES_ONLY = "-- postgres-only"


# A quota whose month has ended starts the next at zero ingestions (stored bytes carry over).
RESET_ENDED_MONTHS = "update user_quotas set ingestions_used = 0, reset_date = :reset where reset_date <= :today"


def _reset_params(now: datetime) -> dict[str, str]:
    return {"reset": next_month(now), "today": now.date().isoformat()}


class SqlMetadataStore(MetadataStore):
    def __init__(self, url: str, plan: Plan = FREE_PLAN) -> None:
        super().__init__(plan)
        # A server may drop idle connections; a SQLite file cannot, so it skips the ping per checkout.
        self.engine: Engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))

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
        for path in sorted((p for p in MIGRATIONS.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name):
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
                    {"v": version, "t": now_iso()},
                )
            applied_now.append(version)
        return applied_now

    def _exec(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(sql), dict(params or {}))

    def _update_job(self, sql: str, params: Mapping[str, Any]) -> None:
        """An UPDATE of the job row `:p`/`:j`, which must exist."""
        with self.engine.begin() as conn:
            if conn.execute(text(sql), dict(params)).rowcount == 0:
                raise UnknownJob(params["p"], params["j"])

    def _rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text(sql), dict(params or {}))]

    # --- projects and jobs -------------------------------------------------------------------

    def register_job(
        self,
        manifest: Manifest,
        status: JobStatus,
        stage: str | None = None,
        error: str | None = None,
        upload_digest: str | None = None,
    ) -> None:
        now = now_iso()
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
            self._ensure_quota(conn, manifest.user_id, datetime.now(UTC))
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

    def project_owner(self, project_id: str, now: datetime | None = None) -> str | None:
        rows = self._rows(
            # The project's owner outranks a claim, as in claim_project; a UNION alone keeps no order.
            "select user_id, 0 as rank from projects where project_id = :p union all "
            "select user_id, 1 from upload_claims where project_id = :p and expires_at >= :now order by rank",
            {"p": project_id, "now": (now or datetime.now(UTC)).isoformat()},
        )
        return rows[0]["user_id"] if rows else None

    def claim_project(self, project_id: str, user_id: str, ttl_s: int, now: datetime | None = None) -> str:
        start, until = claim_window(ttl_s, now)
        params = {"p": project_id, "u": user_id, "now": start, "exp": until}
        with self.engine.begin() as conn:
            owner = conn.execute(text("select user_id from projects where project_id = :p"), params).first()
            if owner is not None:
                return owner[0]
            conn.execute(text("delete from upload_claims where project_id = :p and expires_at < :now"), params)
            conn.execute(
                text(
                    "insert into upload_claims (project_id, user_id, claimed_at, expires_at) "
                    "values (:p, :u, :now, :exp) on conflict (project_id) do update set expires_at = "
                    "excluded.expires_at where upload_claims.user_id = excluded.user_id"
                ),
                params,
            )
            return conn.execute(text("select user_id from upload_claims where project_id = :p"), params).one()[0]

    def refuse_upload(self, project_id: str, job_id: str, user_id: str, error: str, upload_digest: str) -> None:
        now = now_iso()
        self._exec(
            "insert into ingestion_jobs (project_id, job_id, user_id, status, stage, progress, error, upload_digest, "
            "created_at, updated_at, finished_at) values (:p, :j, :u, :invalid, :stage, 0, :e, :d, :now, :now, "
            ":now) on conflict (project_id, job_id) do update set status = :invalid, stage = :stage, "
            "error = excluded.error, upload_digest = excluded.upload_digest, updated_at = excluded.updated_at, "
            "finished_at = excluded.finished_at",
            {
                "p": project_id,
                "j": job_id,
                "u": user_id,
                "e": error[:4000],
                "d": upload_digest,
                "now": now,
                "invalid": JobStatus.INVALID,
                "stage": UPLOAD_STAGE,
            },
        )

    def settled_upload(self, project_id: str, job_id: str, upload_digest: str) -> bool:
        rows = self._rows(
            "select 1 from ingestion_jobs where project_id = :p and job_id = :j and upload_digest = :d "
            "and status in (:invalid, :rejected)",
            {
                "p": project_id,
                "j": job_id,
                "d": upload_digest,
                "invalid": JobStatus.INVALID,
                "rejected": JobStatus.REJECTED,
            },
        )
        return bool(rows)

    def mark_invalid(self, project_id: str, job_id: str, error: str, upload_digest: str) -> None:
        self._exec(
            "update ingestion_jobs set status = :invalid, stage = 'bundle', error = :e, upload_digest = :d, "
            "updated_at = :now, finished_at = :now where project_id = :p and job_id = :j",
            {
                "p": project_id,
                "j": job_id,
                "e": error[:4000],
                "d": upload_digest,
                "now": now_iso(),
                "invalid": JobStatus.INVALID,
            },
        )

    def set_stage(self, project_id: str, job_id: str, stage: str, progress: int, run_id: str | None = None) -> None:
        self._update_job(
            "update ingestion_jobs set status = :running, stage = :stage, progress = :progress, error = null, "
            "dagster_run_id = coalesce(:run, dagster_run_id), updated_at = :now "
            "where project_id = :p and job_id = :j",
            {
                "p": project_id,
                "j": job_id,
                "stage": stage,
                "progress": progress,
                "run": run_id,
                "now": now_iso(),
                "running": JobStatus.RUNNING,
            },
        )

    def complete_job(
        self, project_id: str, job_id: str, metrics: Mapping[str, Any], chunker_version: str, embedding_model: str
    ) -> None:
        artifacts = [r["name"] for r in self.artifacts(project_id, job_id)]
        now = now_iso()
        self._update_job(
            "update ingestion_jobs set status = :succeeded, stage = :done, progress = 100, error = null, "
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
                "succeeded": JobStatus.SUCCEEDED,
                "done": DONE_STAGE,
            },
        )

    def finish_run(self, project_id: str, job_id: str, run_id: str) -> None:
        self._exec(
            "update ingestion_jobs set status = :succeeded, stage = :done, progress = 100, error = null, "
            "updated_at = :now, finished_at = :now "
            "where project_id = :p and job_id = :j and dagster_run_id = :run and status = :running",
            {
                "p": project_id,
                "j": job_id,
                "run": run_id,
                "now": now_iso(),
                "succeeded": JobStatus.SUCCEEDED,
                "done": DONE_STAGE,
                "running": JobStatus.RUNNING,
            },
        )

    def fail_job(self, project_id: str, job_id: str, error: str) -> None:
        self._exec(
            "update ingestion_jobs set status = case when status = :invalid then :invalid else :failed end, "
            "error = :e, updated_at = :now, finished_at = :now "
            "where project_id = :p and job_id = :j",
            {
                "p": project_id,
                "j": job_id,
                "e": error[:4000],
                "now": now_iso(),
                "invalid": JobStatus.INVALID,
                "failed": JobStatus.FAILED,
            },
        )

    def job(self, project_id: str, job_id: str) -> dict[str, Any] | None:
        rows = self._rows(
            "select * from ingestion_jobs where project_id = :p and job_id = :j",
            {"p": project_id, "j": job_id},
        )
        return rows[0] if rows else None

    def jobs(self, job_id: str | None = None) -> list[dict[str, Any]]:
        return self._rows(
            "select * from ingestion_jobs where (:j is null or job_id = :j) order by project_id, job_id", {"j": job_id}
        )

    # --- artifacts -----------------------------------------------------------------------------

    def replace_artifacts(self, project_id: str, job_id: str, rows: Iterable[Mapping[str, Any]]) -> None:
        now = now_iso()
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
        return self._rows(
            "select project_id, job_id, backend, count(*) as objects, sum(size_bytes) as bytes from artifacts "
            "where (:p is null or project_id = :p) and (:j is null or job_id = :j) "
            "group by project_id, job_id, backend order by project_id, job_id, backend",
            {"p": project_id, "j": job_id},
        )

    # --- quotas --------------------------------------------------------------------------------

    def _ensure_quota(self, conn: Connection, user_id: str, now: datetime) -> None:
        """The user's quota row exists, and a month that has ended has its ingestions reset."""
        conn.execute(
            text(
                "insert into user_quotas (user_id, plan, monthly_ingestion_limit, storage_limit_bytes, reset_date) "
                "values (:u, :plan, :ing, :sto, :reset) on conflict (user_id) do nothing"
            ),
            {
                "u": user_id,
                "plan": self.plan["plan"],
                "ing": self.plan["monthly_ingestion_limit"],
                "sto": self.plan["storage_limit_bytes"],
                "reset": next_month(now),
            },
        )
        conn.execute(text(RESET_ENDED_MONTHS + " and user_id = :u"), {"u": user_id, **_reset_params(now)})

    def quota(self, user_id: str) -> dict[str, Any]:
        with self.engine.begin() as conn:
            self._ensure_quota(conn, user_id, datetime.now(UTC))
            row = conn.execute(text("select * from user_quotas where user_id = :u"), {"u": user_id}).one()
        return dict(row._mapping)

    def record_usage(self, project_id: str, job_id: str, artifact_bytes: int, now: datetime | None = None) -> None:
        # The job row is locked first (PostgreSQL) so that two runs of one job cannot both count it;
        # different jobs of one user each add in a single UPDATE, so none is lost.
        now = now or datetime.now(UTC)
        month = month_start(now)
        lock = " for update" if self.engine.dialect.name == "postgresql" else ""
        with self.engine.begin() as conn:
            job = conn.execute(
                text(
                    f"select user_id, counted_month, counted_bytes from ingestion_jobs "
                    f"where project_id = :p and job_id = :j{lock}"
                ),
                {"p": project_id, "j": job_id},
            ).one_or_none()
            if job is None:
                raise UnknownJob(project_id, job_id)
            self._ensure_quota(conn, job.user_id, now)
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
        now = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            result = conn.execute(text(RESET_ENDED_MONTHS), _reset_params(now))
        return int(result.rowcount)

    def pending_ingestions(self, user_id: str, now: datetime) -> int:
        rows = self._rows(
            "select count(*) as n from ingestion_jobs where user_id = :u and status in (:queued, :running) "
            "and (counted_month is null or counted_month <> :m)",
            {"u": user_id, "m": month_start(now), "queued": JobStatus.QUEUED, "running": JobStatus.RUNNING},
        )
        return int(rows[0]["n"])

    # --- embedding cache (EmbeddingCache protocol) ----------------------------------------------

    def get_many(self, model: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        wanted = list(hashes)
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            names = {f"h{i}": h for i, h in enumerate(chunk)}
            rows = self._rows(
                f"select text_sha256, vector from embedding_cache where model = :m "
                f"and text_sha256 in ({', '.join(':' + n for n in names)})",
                {"m": model, **names},
            )
            for row in rows:
                found[row["text_sha256"]] = bytes_vector(bytes(row["vector"]))
        return found

    def put_many(self, model: str, vectors: Mapping[str, np.ndarray]) -> None:
        rows = [{"m": model, "h": h, "d": len(v), "v": vector_bytes(v)} for h, v in vectors.items()]
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
        with self.engine.connect() as conn:
            return {t: int(conn.execute(text(f"select count(*) from {t}")).scalar_one()) for t in TABLES}


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
