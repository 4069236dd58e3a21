import json
from datetime import UTC, datetime

from dagster import SkipReason, build_schedule_context

from wessley_dagster.domain.bundle import Manifest
from wessley_dagster.domain.chunking import CHUNKER_VERSION
from wessley_dagster.resources.embeddings import EmbeddingsResource
from wessley_dagster.schedules import nightly_reconcile, outdated_reason
from wessley_dagster_tests.conftest import SYNTHETIC, add_partitions, stage_bundle, unique, uploads_dir
from wessley_dagster_tests.test_pipeline import run


def evaluate(instance, resources):
    with build_schedule_context(
        instance=instance,
        resources={k: resources[k] for k in ("embeddings_model", "uploads", "metadata")},
        scheduled_execution_time=datetime(2026, 11, 24, 3, tzinfo=UTC),
    ) as context:
        return nightly_reconcile(context)


def test_reconcile_backfills_missing_and_outdated_partitions(env, resources, instance):
    project = unique("proj")
    done = stage_bundle(SYNTHETIC, uploads_dir(env), project, "done")
    missing = stage_bundle(SYNTHETIC, uploads_dir(env), project, "missing")
    add_partitions(instance, done, missing)
    assert run(done, resources, instance).success

    requests = evaluate(instance, resources)
    assert [(r.partition_key, r.tags["reconcile"]) for r in requests] == [(missing, "never materialized")]
    assert requests[0].run_key == f"reconcile:{missing}:2026-11-24"

    assert run(missing, resources, instance).success
    assert isinstance(evaluate(instance, resources), SkipReason)

    other_model = {**resources, "embeddings_model": EmbeddingsResource(provider="hashing", dimension=64)}
    stale = evaluate(instance, other_model)
    assert sorted(r.partition_key for r in stale) == sorted([done, missing])
    assert stale[0].tags["reconcile"] == "embedding model hashing-w3-256 -> hashing-w3-64"


def test_an_invalid_upload_is_not_requested_again_until_it_changes_nor_counted(env, resources, instance):
    from wessley_dagster_tests.test_sensors import apply
    from wessley_dagster_tests.test_sensors import evaluate as sense

    project = unique("proj")
    key = stage_bundle(SYNTHETIC, uploads_dir(env), project, "bad")
    apply(instance, sense(instance, resources))  # valid when it landed: queued, counted while pending
    spans = uploads_dir(env) / project / "bad" / "text_spans.ndjson"  # then replaced by a broken one
    spans.write_bytes(spans.read_bytes().replace(b'"page": 1', b'"page": 0', 1))
    meta = resources["metadata"].store
    meta._exec("update user_quotas set monthly_ingestion_limit = 1 where user_id = 'demo-user'")
    other = Manifest.model_validate({**json.loads((SYNTHETIC / "manifest.json").read_text()), "job_id": "other"})
    assert meta.quota_rejection(other, 0).startswith("monthly ingestion quota exceeded: 1 of 1")
    assert not run(key, resources, instance, raise_on_error=False).success
    job = meta.job(project, "bad")
    assert (job["status"], job["stage"]) == ("invalid", "bundle") and "text_spans.ndjson" in job["error"]
    assert meta.quota_rejection(other, 0) is None  # an invalid upload uses no quota
    assert meta.quota("demo-user")["ingestions_used"] == 0

    assert isinstance(evaluate(instance, resources), SkipReason)  # unchanged: left alone
    spans.write_bytes(spans.read_bytes().replace(b'"page": 0', b'"page": 1', 1))
    assert [r.partition_key for r in evaluate(instance, resources)] == [key]  # fixed: requested

    # Over quota is settled the same way: the reconcile must not start what the sensor refused.
    late = stage_bundle(SYNTHETIC, uploads_dir(env), project, "late")
    add_partitions(instance, late)
    manifest = Manifest.model_validate(
        {**json.loads((SYNTHETIC / "manifest.json").read_text()), "project_id": project, "job_id": "late"}
    )
    digest = resources["uploads"].upload_digest(project, "late")
    meta.register_job(manifest, status="rejected", error="monthly ingestion quota exceeded", upload_digest=digest)
    assert late not in [r.partition_key for r in evaluate(instance, resources)]


def test_the_monthly_reset_runs_its_job_which_zeroes_ended_months(env, resources, instance):
    from dagster import build_schedule_context

    from wessley_dagster.definitions import defs
    from wessley_dagster.schedules import monthly_quota_reset

    meta = resources["metadata"].store
    manifest = Manifest.model_validate(json.loads((SYNTHETIC / "manifest.json").read_text()))
    meta.register_job(manifest, status="running")
    meta.record_usage(manifest.project_id, manifest.job_id, 10)
    meta._exec("update user_quotas set reset_date = '2026-11-01'")  # as if counted in October
    with build_schedule_context(
        instance=instance, scheduled_execution_time=datetime(2026, 11, 1, 0, 5, tzinfo=UTC)
    ) as ctx:
        request = monthly_quota_reset(ctx)
    assert request.run_key == "quota-reset:2026-11"
    job = defs.resolve_job_def("quota_reset_job")
    result = job.execute_in_process(instance=instance, resources={"metadata": resources["metadata"]})
    assert result.success and result.output_for_node("reset_monthly_usage") == 1
    assert meta.quota(manifest.user_id)["ingestions_used"] == 0


def test_outdated_reason():
    current = {"chunker_version": CHUNKER_VERSION, "embedding_model": "m"}
    assert outdated_reason(current, "m") is None
    assert outdated_reason({**current, "chunker_version": "0"}, "m") == f"chunker 0 -> {CHUNKER_VERSION}"
    assert outdated_reason(None, "m") == "never materialized"
