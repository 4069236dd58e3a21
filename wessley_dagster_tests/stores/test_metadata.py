import json
import re
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from postgrest import APIError
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, ProgrammingError

from wessley_dagster.domain.bundle import Manifest, Vehicle
from wessley_dagster.domain.jobs import JobStatus
from wessley_dagster.stores.metadata import MIGRATIONS, MetadataStore, Plan, UnknownJob
from wessley_dagster.stores.metadata.rest import SupabaseMetadataStore
from wessley_dagster.stores.metadata.sql import SqlMetadataStore
from wessley_dagster_tests.fake_postgrest import FakePostgrest

PLAN = Plan(plan="free", monthly_ingestion_limit=2, storage_limit_bytes=1000)
JWT_SECRET = "test-jwt-secret-at-least-32-characters-long"


def migrated(url: str, plan: Plan = PLAN) -> SqlMetadataStore:
    store = SqlMetadataStore(url, plan)
    assert store.migrate() == sorted(p.name.split("_", 1)[0] for p in MIGRATIONS.glob("*.sql"))
    assert store.migrate() == []  # applied once
    return store


@pytest.fixture
def postgrest(postgres_url: str) -> Iterator[FakePostgrest]:
    """PostgREST's subset over a migrated database, as `supabase db push` would leave it."""
    migrated(postgres_url)
    with FakePostgrest(postgres_url.replace("postgresql+psycopg2://", "postgresql://"), JWT_SECRET) as server:
        yield server


def rest_store(postgrest: FakePostgrest, plan: Plan = PLAN) -> SupabaseMetadataStore:
    return SupabaseMetadataStore(postgrest.url, postgrest.key("service_role"), plan)


@pytest.fixture(params=["sqlite", "postgres", "rest"])
def store(request, tmp_path) -> MetadataStore:
    """One contract, three backends: the embedded SQLite file, a real PostgreSQL 15, and the same
    PostgreSQL through supabase-py and PostgREST's REST subset."""
    if request.param == "rest":
        return rest_store(request.getfixturevalue("postgrest"))
    url = f"sqlite:///{tmp_path / 'meta.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    return migrated(url)


def manifest(job_id: str, user: str = "u1", project: str = "p") -> Manifest:
    return Manifest(
        project_id=project,
        job_id=job_id,
        user_id=user,
        vehicle=Vehicle(make="M", model="X", year=2020),
        source_document="doc.pdf",
        page_count=1,
        created_at=datetime.now(UTC),
    )


def test_job_lifecycle(store):
    store.register_job(manifest("j1"), status="queued")
    store.set_stage("p", "j1", "chunks", 40, run_id="run-1")
    assert store.job("p", "j1")["status"] == "running"
    store.replace_artifacts(
        "p",
        "j1",
        [
            {
                "name": "a.json",
                "artifact_type": "json",
                "storage_url": "file:///a",
                "backend": "local",
                "content_type": "application/json",
                "size_bytes": 10,
            },
        ],
    )
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
        assert store.quota_rejection(manifest(job), 10) is None
        store.register_job(manifest(job), status="queued")
    assert store.quota_rejection(manifest("j1"), 10) is None  # a re-run of a known job
    reason = store.quota_rejection(manifest("j3"), 10)
    assert reason == "monthly ingestion quota exceeded: 2 of 2 used (plan free)"
    assert store.quota_rejection(manifest("j1", user="u2"), 2000).startswith("storage quota exceeded: 0 + 2000")


def _first_of_next_month(moment: datetime) -> datetime:
    return (moment.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def test_usage_is_counted_once_per_job_and_month_and_reset_when_the_month_ends(store):
    # This month is today's: a user's quota row is created, with its reset date, when first seen.
    this_month = datetime.now(UTC)
    next_month = _first_of_next_month(this_month) + timedelta(minutes=5)
    store.register_job(manifest("j1"), status="running")
    store.record_usage("p", "j1", 300, now=this_month)
    store.record_usage("p", "j1", 250, now=this_month)  # a re-run: no second ingestion, 50 bytes fewer
    quota = store.quota("u1")
    assert (quota["ingestions_used"], quota["storage_used_bytes"]) == (1, 250)
    store.register_job(manifest("j2"), status="running")
    assert store.quota_rejection(manifest("j3"), 0) == "monthly ingestion quota exceeded: 2 of 2 used (plan free)"
    store.complete_job("p", "j2", {}, "2", "m")
    store.record_usage("p", "j2", 100, now=this_month)
    assert store.quota("u1")["ingestions_used"] == 2
    assert store.reset_monthly_usage(now=this_month) == 0  # this month has not ended
    assert store.reset_monthly_usage(now=next_month) == 1
    quota = store.quota("u1")
    reset_date = _first_of_next_month(next_month).date().isoformat()
    assert (quota["ingestions_used"], quota["storage_used_bytes"], quota["reset_date"]) == (0, 350, reset_date)
    store.record_usage("p", "j1", 250, now=next_month)  # a re-run in the new month counts there once
    assert store.quota("u1")["ingestions_used"] == 1


@pytest.mark.parametrize("backend", ["postgres", "rest"])
def test_twenty_concurrent_increments_lose_none(backend, request):
    plan = PLAN | {"monthly_ingestion_limit": 100}
    if backend == "rest":
        store = rest_store(request.getfixturevalue("postgrest"), plan)
    else:
        store = migrated(request.getfixturevalue("postgres_url"), plan)
    jobs = [f"j{i}" for i in range(20)]
    for job in jobs:
        store.register_job(manifest(job), status="running")
    barrier = threading.Barrier(len(jobs))

    def succeed(job: str) -> None:
        barrier.wait()
        store.record_usage("p", job, 1000 + int(job[1:]))

    with ThreadPoolExecutor(len(jobs)) as pool:
        list(pool.map(succeed, jobs))
    quota = store.quota("u1")
    assert (quota["ingestions_used"], quota["storage_used_bytes"]) == (20, sum(1000 + i for i in range(20)))


def test_embedding_cache_round_trips_float32(store):
    store.put_many("m", {"h1": [0.5, -1.25], "h2": [1.0, 2.0]})
    store.put_many("m", {"h1": [9.0, 9.0]})  # first write wins: same text, same vector
    found = store.get_many("m", ["h1", "h3"])
    assert {h: (v.dtype.str, v.tolist()) for h, v in found.items()} == {"h1": ("<f4", [0.5, -1.25])}
    assert store.get_many("other", ["h1"]) == {}


def test_row_level_security_shows_a_signed_in_user_only_their_own_rows(postgres_url):
    """As Supabase's PostgREST runs a user's request: role `authenticated`, the JWT's claims set."""
    store = migrated(postgres_url)
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    row = {"artifact_type": "json", "storage_url": "u", "backend": "local", "content_type": "c", "size_bytes": 1}
    for user, project in ((alice, "pa"), (bob, "pb")):
        store.register_job(manifest("j1", user, project), status="succeeded")
        store.replace_artifacts(project, "j1", [{"name": "a", **row}])
        store.quota(user)
    store.put_many("m", {"h": [1.0]})

    def visible(role: str, sub: str | None = None) -> dict[str, list[str]]:
        with store.engine.begin() as conn:
            conn.exec_driver_sql(f"set local role {role}")
            if sub:
                conn.execute(text("select set_config('request.jwt.claims', :c, true)"), {"c": json.dumps({"sub": sub})})
            return {
                table: sorted(str(r[0]) for r in conn.execute(text(f"select {column} from {table}")))
                for table, column in (
                    ("projects", "project_id"),
                    ("ingestion_jobs", "project_id"),
                    ("artifacts", "project_id"),
                    ("user_quotas", "user_id"),
                )
            }

    assert visible("authenticated", alice) == {
        "projects": ["pa"],
        "ingestion_jobs": ["pa"],
        "artifacts": ["pa"],
        "user_quotas": [alice],
    }
    assert visible("authenticated", bob)["ingestion_jobs"] == ["pb"]
    assert visible("authenticated") == {"projects": [], "ingestion_jobs": [], "artifacts": [], "user_quotas": []}
    assert visible("service_role")["ingestion_jobs"] == ["pa", "pb"]  # bypasses RLS
    with pytest.raises(ProgrammingError, match="permission denied"), store.engine.begin() as conn:
        conn.exec_driver_sql("set local role authenticated")
        conn.exec_driver_sql("select * from embedding_cache")


@pytest.mark.parametrize("url", ["not a url", "postgresql://u:s3cret@host:notaport/db", "mysql+nothing://u:s3cret@h/d"])
def test_a_malformed_database_url_is_a_clear_error_that_never_shows_the_password(url):
    from wessley_dagster.resources.metadata import SqlMetadataResource

    with pytest.raises(ValueError, match=r"^SUPABASE_DB_URL \(metadata db_url\) is not a database URL") as error:
        SqlMetadataResource(db_url=url).open_store()
    assert "s3cret" not in str(error.value) and error.value.__cause__ is None


def test_updates_of_a_job_the_store_does_not_hold_fail_and_create_nothing(store):
    """What a run records of its own job needs the row; marking a refused upload or a failed run
    that never registered one changes nothing and is no error."""
    store.register_job(manifest("j1"), status="running")
    before = store.totals()
    for update in (
        lambda: store.set_stage("p", "nope", "chunks", 40),
        lambda: store.complete_job("nope", "j1", {}, "1", "m"),
        lambda: store.record_usage("p", "nope", 10),
    ):
        with pytest.raises(UnknownJob, match=r"no ingestion job '(nope|j1)' in project '(p|nope)'"):
            update()
    store.mark_invalid("p", "nope", "bad", "digest")
    store.fail_job("nope", "j1", "boom")
    assert store.totals() == before and store.job("p", "j1")["status"] == "running"


def test_a_finished_job_registered_again_keeps_its_creation_time_and_counts_once_a_month(store):
    store.register_job(manifest("j1"), status="running")
    created = store.job("p", "j1")["created_at"]
    store.complete_job("p", "j1", {}, "1", "m")
    store.record_usage("p", "j1", 100)
    store.register_job(manifest("j1"), status="queued")  # uploaded again under the same job id
    job = store.job("p", "j1")
    assert (job["status"], job["created_at"]) == ("queued", created)
    store.set_stage("p", "j1", "chunks", 40)
    store.complete_job("p", "j1", {}, "1", "m")
    store.record_usage("p", "j1", 100)
    assert (store.quota("u1")["ingestions_used"], store.quota("u1")["storage_used_bytes"]) == (1, 100)


def test_the_rest_store_sends_the_requests_postgrest_documents(postgrest):
    store, key = rest_store(postgrest), postgrest.key("service_role")
    postgrest.requests.clear()
    store.register_job(manifest("j1"), status="queued", upload_digest="d1")
    store.set_stage("p", "j1", "chunks", 40, run_id="r1")
    assert store.settled_upload("p", "j1", "d1") is False
    store.put_many("m", {"h1": [0.5]})
    store.record_usage("p", "j1", 10)
    sent = postgrest.requests
    assert [(r.method, r.path) for r in sent] == [
        ("POST", "/rest/v1/rpc/wessley_ensure_quota"),
        ("POST", "/rest/v1/projects"),
        ("POST", "/rest/v1/ingestion_jobs"),
        ("PATCH", "/rest/v1/ingestion_jobs"),
        ("GET", "/rest/v1/ingestion_jobs"),
        ("POST", "/rest/v1/embedding_cache"),
        ("POST", "/rest/v1/rpc/wessley_record_usage"),
    ]
    assert all(r.headers["apikey"] == key and r.headers["authorization"] == f"Bearer {key}" for r in sent)

    def prefer(r):
        return set(r.headers["prefer"].split(","))

    projects, jobs, patch, get, cache, usage = sent[1:]
    assert projects.query == (("on_conflict", "project_id"),)
    assert prefer(projects) == prefer(jobs) == {"return=minimal", "resolution=merge-duplicates"}
    assert jobs.query == (("on_conflict", "project_id,job_id"),) and jobs.body["upload_digest"] == "d1"
    assert "progress" not in jobs.body  # a re-registered job keeps its progress
    assert patch.query == (("project_id", "eq.p"), ("job_id", "eq.j1"))
    assert prefer(patch) == {"return=minimal", "count=exact"}
    assert patch.body | {"updated_at": None} == {
        "status": "running",
        "stage": "chunks",
        "progress": 40,
        "error": None,
        "dagster_run_id": "r1",
        "updated_at": None,
    }
    assert get.query == (
        ("select", "job_id"),
        ("project_id", "eq.p"),
        ("job_id", "eq.j1"),
        ("upload_digest", "eq.d1"),
        ("status", "in.(invalid,rejected)"),
    )
    assert prefer(cache) == {"return=minimal", "resolution=ignore-duplicates"}
    assert dict(cache.query)["on_conflict"] == "model,text_sha256"
    assert cache.body == [{"model": "m", "text_sha256": "h1", "dimension": 1, "vector": "\\x0000003f"}]
    assert usage.body["p_project"] == "p" and usage.body["p_bytes"] == 10 and usage.body["p_plan"] == dict(PLAN)


def test_over_rest_a_signed_in_user_reads_only_their_rows_and_a_bad_key_is_refused(postgrest):
    service = rest_store(postgrest)
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    for user, project in ((alice, "pa"), (bob, "pb")):
        service.register_job(manifest("j1", user, project), status="succeeded")
    as_alice = SupabaseMetadataStore(postgrest.url, postgrest.key("authenticated", alice), PLAN)
    assert [j["project_id"] for j in as_alice.jobs()] == ["pa"]
    assert as_alice.job("pb", "j1") is None and as_alice.project_owner("pb") is None
    with pytest.raises(APIError) as denied:  # a user cannot count usage or change a quota
        as_alice.record_usage("pa", "j1", 1)
    assert denied.value.code == "42501"
    forged = jwt.encode({"role": "service_role"}, "not-the-project-secret-but-32-chars-long", algorithm="HS256")
    with pytest.raises(APIError) as refused:
        SupabaseMetadataStore(postgrest.url, forged, PLAN).jobs()
    assert refused.value.code == "PGRST301"


def test_a_user_first_seen_gets_the_plan_and_no_project_exists_without_its_owners_quota(postgres_url):
    """The foreign keys link the four tables: a project's owner has a quota row (the store creates
    it from the plan on first sight), a job has its project, an artifact its job."""
    from sqlalchemy.exc import IntegrityError

    store = migrated(postgres_url)
    newcomer = str(uuid.uuid4())
    store.register_job(manifest("j1", newcomer, "pn"), status="queued")
    assert {k: store.quota(newcomer)[k] for k in PLAN} == dict(PLAN)
    now = datetime.now(UTC).isoformat()
    for sql, constraint in (
        ("insert into projects values ('px', 'nobody', '{}', :now, :now)", "projects_user_quota_fk"),
        (
            "insert into ingestion_jobs (project_id, job_id, user_id, status, created_at, updated_at) "
            "values ('no-project', 'j', :u, 'queued', :now, :now)",
            "ingestion_jobs_project_id_fkey",
        ),
        (
            "insert into artifacts values ('pn', 'no-job', 'a', 't', 'u', 'local', 'c', 1, null, :now)",
            "artifacts_project_id_job_id_fkey",
        ),
    ):
        with pytest.raises(IntegrityError, match=constraint), store.engine.begin() as conn:
            conn.execute(text(sql), {"now": now, "u": newcomer})


def test_a_claim_holds_a_new_project_for_its_user_until_it_expires(store):
    t0 = datetime(2026, 12, 6, 12, tzinfo=UTC)
    assert store.project_owner("claimed", now=t0) is None
    assert store.claim_project("claimed", "alice", 60, now=t0) == "alice"
    assert store.claim_project("claimed", "mallory", 60, now=t0 + timedelta(seconds=30)) == "alice"
    assert store.project_owner("claimed", now=t0 + timedelta(seconds=30)) == "alice"
    assert store.claim_project("claimed", "alice", 60, now=t0 + timedelta(seconds=50)) == "alice"  # renewed
    assert store.project_owner("claimed", now=t0 + timedelta(seconds=100)) == "alice"
    later = t0 + timedelta(seconds=200)  # never became a project: expired, free again
    assert store.project_owner("claimed", now=later) is None
    assert store.claim_project("claimed", "mallory", 60, now=later) == "mallory"
    store.register_job(manifest("j1", user="bob", project="owned"), status="queued")
    assert store.claim_project("owned", "mallory", 60) == "bob"  # a project's owner outranks any claim


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "rest"])
def test_of_two_users_claiming_a_new_project_at_once_exactly_one_wins(backend, request, tmp_path):
    if backend == "rest":
        store = rest_store(request.getfixturevalue("postgrest"))
    else:
        url = f"sqlite:///{tmp_path / 'meta.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
        store = migrated(url)
    users = [f"user{i}" for i in range(8)]
    barrier = threading.Barrier(len(users))

    def claim(user: str) -> str:
        barrier.wait()
        return store.claim_project("race", user, 600)

    with ThreadPoolExecutor(len(users)) as pool:
        holders = set(pool.map(claim, users))
    assert len(holders) == 1 and holders <= set(users)
    assert store.project_owner("race") == holders.pop()


def test_the_sql_check_constraint_lists_exactly_the_job_statuses(postgres_url):
    migration = next(m for m in MIGRATIONS.iterdir() if m.name.endswith("_job_status_check.sql")).read_text()
    listed = re.search(r"check \(status in \(([^)]*)\)\)", migration)
    assert listed and {v.strip(" '") for v in listed.group(1).split(",")} == {s.value for s in JobStatus}
    store = migrated(postgres_url)
    store.register_job(manifest("checked"), status=JobStatus.QUEUED, stage="queued")
    with pytest.raises(IntegrityError, match="ingestion_jobs_status_check"), store.engine.begin() as conn:
        conn.execute(text("update ingestion_jobs set status = 'done' where job_id = 'checked'"))
