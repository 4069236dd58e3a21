"""The metadata contract through supabase-py's REST client (PostgREST), for a deployment that
reaches Supabase by its URL and service key rather than a database connection. The schema is
applied as the Supabase CLI applies it (`supabase db push` of supabase/migrations/). What one
request cannot do atomically (a quota increment, replacing an artifact registry) goes through a
Postgres function called with `rpc`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
from postgrest import APIError
from postgrest.types import CountMethod, ReturnMethod
from supabase import Client, ClientOptions, create_client

from wessley_dagster.domain.bundle import Manifest
from wessley_dagster.domain.jobs import DONE_STAGE, PENDING, REFUSED, UPLOAD_STAGE, JobStatus
from wessley_dagster.stores.metadata import (
    FREE_PLAN,
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

# Hashes per `in.(…)` filter: each is 64 characters of the request line, kept well under the
# 8 KB a proxy in front of PostgREST commonly accepts.
IN_BATCH = 100

# What `select … into strict` raises in the functions when the job row does not exist.
NO_DATA_FOUND = "P0002"


def _bytea(vector: np.ndarray) -> str:
    """A float32 vector as PostgREST takes a bytea: hex text with a `\\x` prefix."""
    return "\\x" + vector_bytes(vector).hex()


def _floats(value: str) -> np.ndarray:
    return bytes_vector(bytes.fromhex(value.removeprefix("\\x")))


def _dates(now: datetime) -> dict[str, str]:
    return {"p_reset": next_month(now), "p_today": now.date().isoformat()}


class SupabaseMetadataStore(MetadataStore):
    def __init__(self, url: str, service_key: str, plan: Plan = FREE_PLAN, timeout: float = 30.0) -> None:
        super().__init__(plan)
        self.client: Client = create_client(url, service_key, ClientOptions(postgrest_client_timeout=timeout))

    def _table(self, name: str) -> Any:
        return self.client.table(name)

    def _rpc(self, name: str, params: Mapping[str, Any]) -> Any:
        return self.client.rpc(name, dict(params)).execute().data

    def _ensure_quota(self, user_id: str, now: datetime) -> dict[str, Any]:
        return self._rpc("wessley_ensure_quota", {"p_user": user_id, "p_plan": dict(self.plan), **_dates(now)})

    # --- projects and jobs -------------------------------------------------------------------

    def register_job(
        self,
        manifest: Manifest,
        status: JobStatus,
        stage: str | None = None,
        error: str | None = None,
        upload_digest: str | None = None,
    ) -> None:
        # Three requests, each idempotent: a retry after any of them converges on the same rows.
        # Columns left out of an upsert keep their stored value (progress, the digest); a trigger
        # keeps each row's first created_at.
        now = now_iso()
        self._ensure_quota(manifest.user_id, datetime.now(UTC))
        self._table("projects").upsert(
            {
                "project_id": manifest.project_id,
                "user_id": manifest.user_id,
                "vehicle": manifest.vehicle.model_dump(mode="json"),
                "created_at": now,
                "updated_at": now,
            },
            on_conflict="project_id",
            returning=ReturnMethod.minimal,
        ).execute()
        job = {
            "project_id": manifest.project_id,
            "job_id": manifest.job_id,
            "user_id": manifest.user_id,
            "status": status,
            "stage": stage,
            "error": error,
            "created_at": manifest.created_at.isoformat(),
            "updated_at": now,
        }
        if upload_digest is not None:
            job["upload_digest"] = upload_digest
        self._upsert_job(job)

    def project_owner(self, project_id: str, now: datetime | None = None) -> str | None:
        rows = self._table("projects").select("user_id").eq("project_id", project_id).execute().data
        if not rows:
            rows = (
                self._table("upload_claims")
                .select("user_id")
                .eq("project_id", project_id)
                .gte("expires_at", (now or datetime.now(UTC)).isoformat())
                .execute()
                .data
            )
        return rows[0]["user_id"] if rows else None

    def claim_project(self, project_id: str, user_id: str, ttl_s: int, now: datetime | None = None) -> str:
        start, until = claim_window(ttl_s, now)
        params = {"p_project": project_id, "p_user": user_id, "p_now": start, "p_expires": until}
        return self._rpc("wessley_claim_project", params)

    def refuse_upload(self, project_id: str, job_id: str, user_id: str, error: str, upload_digest: str) -> None:
        now = now_iso()
        self._upsert_job(
            {
                "project_id": project_id,
                "job_id": job_id,
                "user_id": user_id,
                "status": JobStatus.INVALID,
                "stage": UPLOAD_STAGE,
                "error": error[:4000],
                "upload_digest": upload_digest,
                "created_at": now,
                "updated_at": now,
                "finished_at": now,
            }
        )

    def _upsert_job(self, row: Mapping[str, Any]) -> None:
        jobs = self._table("ingestion_jobs")
        jobs.upsert(dict(row), on_conflict="project_id,job_id", returning=ReturnMethod.minimal).execute()

    def settled_upload(self, project_id: str, job_id: str, upload_digest: str) -> bool:
        query = self._job_query(self._table("ingestion_jobs").select("job_id"), project_id, job_id)
        return bool(query.eq("upload_digest", upload_digest).in_("status", list(REFUSED)).execute().data)

    @staticmethod
    def _job_query(query: Any, project_id: str, job_id: str) -> Any:
        return query.eq("project_id", project_id).eq("job_id", job_id)

    def _update_job(self, project_id: str, job_id: str, values: Mapping[str, Any]) -> Any:
        """A PATCH of one job row, counted (`Prefer: count=exact`) so that a missing row is seen."""
        update = self._table("ingestion_jobs").update(
            dict(values), count=CountMethod.exact, returning=ReturnMethod.minimal
        )
        return self._job_query(update, project_id, job_id)

    @staticmethod
    def _updated(project_id: str, job_id: str, response: Any) -> None:
        if not response.count:
            raise UnknownJob(project_id, job_id)

    def mark_invalid(self, project_id: str, job_id: str, error: str, upload_digest: str) -> None:
        now = now_iso()
        values = {
            "status": JobStatus.INVALID,
            "stage": "bundle",
            "error": error[:4000],
            "upload_digest": upload_digest,
            "updated_at": now,
            "finished_at": now,
        }
        self._update_job(project_id, job_id, values).execute()

    def set_stage(self, project_id: str, job_id: str, stage: str, progress: int, run_id: str | None = None) -> None:
        values = {
            "status": JobStatus.RUNNING,
            "stage": stage,
            "progress": progress,
            "error": None,
            "updated_at": now_iso(),
        }
        if run_id is not None:
            values["dagster_run_id"] = run_id
        self._updated(project_id, job_id, self._update_job(project_id, job_id, values).execute())

    def complete_job(
        self, project_id: str, job_id: str, metrics: Mapping[str, Any], chunker_version: str, embedding_model: str
    ) -> None:
        now = now_iso()
        values = {
            "status": JobStatus.SUCCEEDED,
            "stage": DONE_STAGE,
            "progress": 100,
            "error": None,
            "metrics": dict(metrics),
            "artifacts": [r["name"] for r in self.artifacts(project_id, job_id)],
            "chunker_version": chunker_version,
            "embedding_model": embedding_model,
            "updated_at": now,
            "finished_at": now,
        }
        self._updated(project_id, job_id, self._update_job(project_id, job_id, values).execute())

    def finish_run(self, project_id: str, job_id: str, run_id: str) -> None:
        now = now_iso()
        values = {
            "status": JobStatus.SUCCEEDED,
            "stage": DONE_STAGE,
            "progress": 100,
            "error": None,
            "updated_at": now,
            "finished_at": now,
        }
        self._update_job(project_id, job_id, values).eq("dagster_run_id", run_id).eq(
            "status", JobStatus.RUNNING
        ).execute()

    def fail_job(self, project_id: str, job_id: str, error: str) -> None:
        # Two filtered updates that no row matches both of: each row changes whole, in one request.
        now = now_iso()
        values = {"error": error[:4000], "updated_at": now, "finished_at": now}
        self._update_job(project_id, job_id, {"status": JobStatus.FAILED, **values}).neq(
            "status", JobStatus.INVALID
        ).execute()
        self._update_job(project_id, job_id, values).eq("status", JobStatus.INVALID).execute()

    def job(self, project_id: str, job_id: str) -> dict[str, Any] | None:
        rows = self._job_query(self._table("ingestion_jobs").select("*"), project_id, job_id).execute().data
        return rows[0] if rows else None

    def jobs(self, job_id: str | None = None) -> list[dict[str, Any]]:
        query = self._table("ingestion_jobs").select("*")
        if job_id is not None:
            query = query.eq("job_id", job_id)
        return query.order("project_id").order("job_id").execute().data

    # --- artifacts -----------------------------------------------------------------------------

    def replace_artifacts(self, project_id: str, job_id: str, rows: Iterable[Mapping[str, Any]]) -> None:
        now = now_iso()
        keys = ("name", "artifact_type", "storage_url", "backend", "content_type", "size_bytes")
        payload = [
            {**{k: row[k] for k in keys}, "metadata": dict(row.get("metadata") or {}), "created_at": now}
            for row in rows
        ]
        self._rpc("wessley_replace_artifacts", {"p_project": project_id, "p_job": job_id, "p_rows": payload})

    def _artifact_rows(self, columns: str, project_id: str | None, job_id: str | None) -> list[dict[str, Any]]:
        query = self._table("artifacts").select(columns)
        if project_id is not None:
            query = query.eq("project_id", project_id)
        if job_id is not None:
            query = query.eq("job_id", job_id)
        return query.order("project_id").order("job_id").order("name").execute().data

    def artifacts(self, project_id: str | None = None, job_id: str | None = None) -> list[dict[str, Any]]:
        return self._artifact_rows("*", project_id, job_id)

    def storage_usage(self, project_id: str | None = None, job_id: str | None = None) -> list[dict[str, Any]]:
        # Summed here: PostgREST's aggregates are off unless the server enables them.
        totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
        for row in self._artifact_rows("project_id,job_id,backend,size_bytes", project_id, job_id):
            total = totals[(row["project_id"], row["job_id"], row["backend"])]
            total[0] += 1
            total[1] += int(row["size_bytes"])
        return [
            {"project_id": p, "job_id": j, "backend": b, "objects": n, "bytes": size}
            for (p, j, b), (n, size) in sorted(totals.items())
        ]

    # --- quotas --------------------------------------------------------------------------------

    def quota(self, user_id: str) -> dict[str, Any]:
        return self._ensure_quota(user_id, datetime.now(UTC))

    def record_usage(self, project_id: str, job_id: str, artifact_bytes: int, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        try:
            self._rpc(
                "wessley_record_usage",
                {
                    "p_project": project_id,
                    "p_job": job_id,
                    "p_bytes": artifact_bytes,
                    "p_plan": dict(self.plan),
                    "p_month": month_start(now),
                    **_dates(now),
                },
            )
        except APIError as exc:
            if exc.code == NO_DATA_FOUND:
                raise UnknownJob(project_id, job_id) from exc
            raise

    def reset_monthly_usage(self, now: datetime | None = None) -> int:
        return int(self._rpc("wessley_reset_monthly_usage", _dates(now or datetime.now(UTC))))

    def pending_ingestions(self, user_id: str, now: datetime) -> int:
        rows = (
            self._table("ingestion_jobs")
            .select("counted_month")
            .eq("user_id", user_id)
            .in_("status", list(PENDING))
            .execute()
            .data
        )
        month = month_start(now)
        return sum(1 for row in rows if row["counted_month"] != month)

    # --- embedding cache -----------------------------------------------------------------------

    def get_many(self, model: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        wanted, found = list(hashes), {}
        for start in range(0, len(wanted), IN_BATCH):
            rows = (
                self._table("embedding_cache")
                .select("text_sha256,vector")
                .eq("model", model)
                .in_("text_sha256", wanted[start : start + IN_BATCH])
                .execute()
                .data
            )
            found.update((row["text_sha256"], _floats(row["vector"])) for row in rows)
        return found

    def put_many(self, model: str, vectors: Mapping[str, np.ndarray]) -> None:
        rows = [
            {"model": model, "text_sha256": h, "dimension": len(v), "vector": _bytea(v)} for h, v in vectors.items()
        ]
        cache = self._table("embedding_cache")
        for start in range(0, len(rows), 500):
            batch = rows[start : start + 500]
            cache.upsert(
                batch, on_conflict="model,text_sha256", ignore_duplicates=True, returning=ReturnMethod.minimal
            ).execute()

    def totals(self) -> dict[str, int]:
        return {t: int(self._table(t).select("*", count=CountMethod.exact, head=True).execute().count) for t in TABLES}
