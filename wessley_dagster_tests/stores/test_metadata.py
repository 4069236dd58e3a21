import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from wessley_dagster.domain.bundle import Manifest, Vehicle
from wessley_dagster.stores.metadata import MetadataStore

PLAN = {"plan": "free", "monthly_ingestion_limit": 2, "storage_limit_bytes": 1000}


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    """One contract, two databases: the embedded SQLite file and a real PostgreSQL 15."""
    url = f"sqlite:///{tmp_path / 'meta.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    s = MetadataStore(url)
    assert s.migrate() == ["20261124000000", "20261125000000", "20261125010000", "20261125020000"]
    assert s.migrate() == []  # applied once
    return s


def manifest(job_id: str, user: str = "u1", project: str = "p") -> Manifest:
    return Manifest(
        project_id=project, job_id=job_id, user_id=user, vehicle=Vehicle(make="M", model="X", year=2020),
        source_document="doc.pdf", page_count=1, created_at=datetime.now(UTC),
    )  # fmt: skip


def test_job_lifecycle(store):
    store.register_job(manifest("j1"), status="queued")
    store.set_stage("p", "j1", "chunks", 40, run_id="run-1")
    assert store.job("p", "j1")["status"] == "running"
    store.replace_artifacts("p", "j1", [
        {"name": "a.json", "artifact_type": "json", "storage_url": "file:///a", "backend": "local",
         "content_type": "application/json", "size_bytes": 10},
    ])  # fmt: skip
    store.complete_job("p", "j1", {"components": 3}, "1", "hashing-w3-256")
    job = store.job("p", "j1")
    assert (job["status"], job["progress"], job["stage"], job["dagster_run_id"]) == ("succeeded", 100, "done", "run-1")
    store.fail_job("p", "j1", "boom")
    assert (store.job("p", "j1")["status"], store.job("p", "j1")["error"]) == ("failed", "boom")
    store.register_job(manifest("j1"), status="queued")
    assert len(store.jobs()) == 1


def test_artifacts_are_replaced_not_appended(store):
    store.register_job(manifest("j1"), status="running")
    row = {"artifact_type": "json", "storage_url": "u", "backend": "local", "content_type": "c", "size_bytes": 1}
    store.replace_artifacts("p", "j1", [{"name": "a", **row}, {"name": "b", **row}])
    store.replace_artifacts("p", "j1", [{"name": "b", **row}])
    assert [a["name"] for a in store.artifacts("p", "j1")] == ["b"]


def test_quota_rejects_the_job_over_the_monthly_limit_but_not_a_rerun(store):
    for job in ("j1", "j2"):
        assert store.quota_rejection(manifest(job), 10, PLAN) is None
        store.register_job(manifest(job), status="queued")
    assert store.quota_rejection(manifest("j1"), 10, PLAN) is None  # a re-run of a known job
    reason = store.quota_rejection(manifest("j3"), 10, PLAN)
    assert reason == "monthly ingestion quota exceeded: 2 of 2 used (plan free)"
    assert store.quota_rejection(manifest("j1", user="u2"), 2000, PLAN).startswith("storage quota exceeded: 0 + 2000")


def test_usage_is_counted_once_per_job_and_month_and_reset_when_the_month_ends(store):
    november, december = datetime(2026, 11, 25, tzinfo=UTC), datetime(2026, 12, 1, 0, 5, tzinfo=UTC)
    store.register_job(manifest("j1"), status="running")
    store.record_usage("p", "j1", 300, PLAN, now=november)
    store.record_usage("p", "j1", 250, PLAN, now=november)  # a re-run: no second ingestion, 50 bytes fewer
    quota = store.quota("u1", PLAN)
    assert (quota["ingestions_used"], quota["storage_used_bytes"]) == (1, 250)
    store.register_job(manifest("j2"), status="running")
    assert store.quota_rejection(manifest("j3"), 0, PLAN) == "monthly ingestion quota exceeded: 2 of 2 used (plan free)"
    store.complete_job("p", "j2", {}, "2", "m")
    store.record_usage("p", "j2", 100, PLAN, now=november)
    assert store.quota("u1", PLAN)["ingestions_used"] == 2
    assert store.reset_monthly_usage(now=november) == 0  # November has not ended
    assert store.reset_monthly_usage(now=december) == 1
    quota = store.quota("u1", PLAN)
    assert (quota["ingestions_used"], quota["storage_used_bytes"], quota["reset_date"]) == (0, 350, "2027-01-01")
    store.record_usage("p", "j1", 250, PLAN, now=december)  # a re-run in the new month counts there once
    assert store.quota("u1", PLAN)["ingestions_used"] == 1


def test_twenty_concurrent_increments_lose_none(postgres_url):
    store = MetadataStore(postgres_url)
    store.migrate()
    jobs = [f"j{i}" for i in range(20)]
    for job in jobs:
        store.register_job(manifest(job), status="running")
    barrier = threading.Barrier(len(jobs))

    def succeed(job: str) -> None:
        barrier.wait()
        store.record_usage("p", job, 1000 + int(job[1:]), PLAN | {"monthly_ingestion_limit": 100})

    with ThreadPoolExecutor(len(jobs)) as pool:
        list(pool.map(succeed, jobs))
    quota = store.quota("u1", PLAN)
    assert (quota["ingestions_used"], quota["storage_used_bytes"]) == (20, sum(1000 + i for i in range(20)))


def test_embedding_cache_round_trips_float32(store):
    store.put_many("m", {"h1": [0.5, -1.25], "h2": [1.0, 2.0]})
    store.put_many("m", {"h1": [9.0, 9.0]})  # first write wins: same text, same vector
    assert store.get_many("m", ["h1", "h3"]) == {"h1": [0.5, -1.25]}
    assert store.get_many("other", ["h1"]) == {}


def test_row_level_security_shows_a_signed_in_user_only_their_own_rows(postgres_url):
    """As Supabase's PostgREST runs a user's request: role `authenticated`, the JWT's claims set."""
    store = MetadataStore(postgres_url)
    store.migrate()
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    row = {"artifact_type": "json", "storage_url": "u", "backend": "local", "content_type": "c", "size_bytes": 1}
    for user, project in ((alice, "pa"), (bob, "pb")):
        store.register_job(manifest("j1", user, project), status="succeeded")
        store.replace_artifacts(project, "j1", [{"name": "a", **row}])
        store.quota(user, PLAN)
    store.put_many("m", {"h": [1.0]})

    def visible(role: str, sub: str | None = None) -> dict[str, list[str]]:
        with store.engine.begin() as conn:
            conn.exec_driver_sql(f"set local role {role}")
            if sub:
                conn.execute(text("select set_config('request.jwt.claims', :c, true)"), {"c": json.dumps({"sub": sub})})
            return {
                table: sorted(str(r[0]) for r in conn.execute(text(f"select {column} from {table}")))
                for table, column in (("projects", "project_id"), ("ingestion_jobs", "project_id"),
                                      ("artifacts", "project_id"), ("user_quotas", "user_id"))
            }  # fmt: skip

    assert visible("authenticated", alice) == {"projects": ["pa"], "ingestion_jobs": ["pa"], "artifacts": ["pa"],
                                               "user_quotas": [alice]}  # fmt: skip
    assert visible("authenticated", bob)["ingestion_jobs"] == ["pb"]
    assert visible("authenticated") == {"projects": [], "ingestion_jobs": [], "artifacts": [], "user_quotas": []}
    assert visible("service_role")["ingestion_jobs"] == ["pa", "pb"]  # bypasses RLS
    with pytest.raises(ProgrammingError, match="permission denied"), store.engine.begin() as conn:
        conn.exec_driver_sql("set local role authenticated")
        conn.exec_driver_sql("select * from embedding_cache")


@pytest.mark.parametrize("url", ["not a url", "postgresql://u:s3cret@host:notaport/db", "mysql+nothing://u:s3cret@h/d"])
def test_a_malformed_database_url_is_a_clear_error_that_never_shows_the_password(url):
    from wessley_dagster.resources.metadata import MetadataResource

    with pytest.raises(ValueError, match=r"^SUPABASE_DB_URL \(metadata db_url\) is not a database URL") as error:
        MetadataResource(db_url=url).open_store()
    assert "s3cret" not in str(error.value) and error.value.__cause__ is None
