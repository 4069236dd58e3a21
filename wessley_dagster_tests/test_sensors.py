"""The upload sensor against a local folder and against moto's S3 server over real HTTP, and the
run-failure sensor against a real failed run."""

import json

import boto3
from dagster import DagsterEventType, build_run_status_sensor_context, build_sensor_context
from dagster import build_resources as dagster_resources

from wessley_dagster.resources import build_resources
from wessley_dagster.resources.metadata import MetadataResource
from wessley_dagster.sensors import ingest_failure_sensor, upload_sensor
from wessley_dagster_tests.conftest import SYNTHETIC, stage_bundle, unique, uploads_dir


def evaluate(instance, resources, cursor=None):
    sensor_resources = {k: resources[k] for k in ("uploads", "metadata")}
    with build_sensor_context(instance=instance, resources=sensor_resources, cursor=cursor) as context:
        return upload_sensor(context)


def apply(instance, result):
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def test_local_upload_adds_a_partition_and_one_run(env, resources, instance):
    project = unique("proj")
    key = stage_bundle(SYNTHETIC, uploads_dir(env), project, "job-1")
    result = evaluate(instance, resources)
    assert [r.partition_key for r in result.run_requests] == [key]
    assert result.run_requests[0].run_key.startswith(f"{key}@")
    assert [list(r.partition_keys) for r in result.dynamic_partitions_requests] == [[key]]
    assert resources["metadata"].store.job(project, "job-1")["status"] == "queued"
    apply(instance, result)

    # Nothing new: no request, and the handled upload is not queued again (its job keeps its state).
    resources["metadata"].store.set_stage(project, "job-1", "chunks", 40)
    again = evaluate(instance, resources, cursor=result.cursor)
    assert (again.run_requests, again.dynamic_partitions_requests) == ([], [])
    assert resources["metadata"].store.job(project, "job-1")["status"] == "running"

    second = stage_bundle(SYNTHETIC, uploads_dir(env), project, "job-2")
    newer = evaluate(instance, resources, cursor=result.cursor)
    assert second in {r.partition_key for r in newer.run_requests}
    assert [list(r.partition_keys) for r in newer.dynamic_partitions_requests] == [[second]]


def test_an_incomplete_upload_waits_for_its_manifest(env, resources, instance):
    key = stage_bundle(SYNTHETIC, uploads_dir(env), unique("proj"), "job")
    project, job = key.split("__")
    (uploads_dir(env) / project / job / "manifest.json").unlink()
    assert evaluate(instance, resources).run_requests == []


def test_quota_rejects_before_any_work(env, instance):
    resources = build_resources(env)
    resources["metadata"] = MetadataResource(
        sqlite_path=f"{env['WESSLEY_HOME']}/metadata.db", monthly_ingestion_limit=1
    )
    project = unique("proj")
    stage_bundle(SYNTHETIC, uploads_dir(env), project, "a")
    stage_bundle(SYNTHETIC, uploads_dir(env), project, "b")
    result = evaluate(instance, resources)
    assert [r.partition_key for r in result.run_requests] == [f"{project}__a"]
    rejected = resources["metadata"].store.job(project, "b")
    assert rejected["status"] == "rejected"
    assert rejected["error"] == "monthly ingestion quota exceeded: 1 of 1 used (plan free)"


def test_s3_upload_through_moto(env, s3_env, instance, monkeypatch):
    for name, value in s3_env.items():
        monkeypatch.setenv(name, value)
    bucket = s3_env["S3_BUCKET"]
    resources = build_resources({**env, **s3_env, "WESSLEY_UPLOADS": f"s3://{bucket}/uploads"})
    client = boto3.client("s3", endpoint_url=s3_env["S3_ENDPOINT_URL"], region_name="us-east-1")
    project = unique("proj")
    for name in ("text_spans.ndjson", "components.json", "netlist.json", "manifest.json"):
        body = (SYNTHETIC / name).read_bytes()
        if name == "manifest.json":
            body = json.dumps({**json.loads(body), "project_id": project, "job_id": "s3job"}).encode()
        client.put_object(Bucket=bucket, Key=f"uploads/{project}/s3job/{name}", Body=body)
    client.put_object(Bucket=bucket, Key="uploads/stray-file.txt", Body=b"not a bundle")

    result = evaluate(instance, resources)
    assert [r.partition_key for r in result.run_requests] == [f"{project}__s3job"]
    etag = client.head_object(Bucket=bucket, Key=f"uploads/{project}/s3job/manifest.json")["ETag"].strip('"')
    assert result.run_requests[0].run_key == f"{project}__s3job@{etag}"
    assert result.cursor is not None
    # The bundle asset reads the same S3 location the sensor watched (EnvVar secrets resolve in Dagster).
    with dagster_resources({"uploads": resources["uploads"]}) as live:
        netlist = live.uploads.object_store().get(f"{project}/s3job/netlist.json")
    assert netlist == (SYNTHETIC / "netlist.json").read_bytes()


def test_failed_run_marks_the_job_failed_with_the_step_error(env, resources, instance):
    from wessley_dagster_tests.test_pipeline import run

    project = unique("proj")
    key = stage_bundle(SYNTHETIC, uploads_dir(env), project, "doomed")
    components = uploads_dir(env) / project / "doomed" / "components.json"
    components.write_text(components.read_text().replace('"page": 2', '"page": -2', 1))
    apply(instance, evaluate(instance, resources))  # the sensor queues it: the manifest is fine
    assert resources["metadata"].store.job(project, "doomed")["status"] == "queued"

    result = run(key, resources, instance, raise_on_error=False)
    failure = next(e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE)
    context = build_run_status_sensor_context(
        sensor_name="ingest_failure_sensor",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"metadata": resources["metadata"]},
    ).for_run_failure()
    ingest_failure_sensor(context)
    job = resources["metadata"].store.job(project, "doomed")
    assert job["status"] == "failed"
    assert (
        "bundle: " in job["error"]
        and "components.json: $[4].page: Input should be greater than or equal to 1" in job["error"]
    )
