"""The upload sensor against a local folder and against moto's S3 server over real HTTP, and the
run-failure sensor against a real failed run."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import boto3
from dagster import build_resources as dagster_resources
from dagster import build_sensor_context
from moto.s3.models import s3_backends

from wessley_dagster.resources.metadata import SqlMetadataResource
from wessley_dagster.sensors import upload_sensor
from wessley_dagster.stores.objects import LocalFolderStore, S3Store
from wessley_dagster_tests.conftest import SYNTHETIC, record_failure, resources_for, stage_bundle, unique, uploads_dir


def evaluate(instance, resources, cursor=None):
    sensor_resources = {k: resources[k] for k in ("uploads", "metadata")}
    with build_sensor_context(instance=instance, resources=sensor_resources, cursor=cursor) as context:
        return upload_sensor(context)


def apply(instance, result):
    """What the sensor daemon does with a tick's result: add the partitions, and create one run per
    request, tagged with its run key (the daemon never launches a run key twice)."""
    from dagster._core.test_utils import create_run_for_test

    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    for request in result.run_requests:
        tags = {"dagster/run_key": request.run_key, "dagster/partition": request.partition_key, **request.tags}
        create_run_for_test(instance, job_name="ingest_job", tags=tags)


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


def test_a_manifest_first_upload_runs_when_the_rest_lands(env, resources, instance):
    key = stage_bundle(SYNTHETIC, uploads_dir(env), unique("proj"), "job")
    project, job = key.split("__")
    folder = uploads_dir(env) / project / job
    held = {name: (folder / name).read_bytes() for name in ("netlist.json", "components.json")}
    for name in held:
        (folder / name).unlink()
    first = evaluate(instance, resources)
    assert first.run_requests == [] and resources["metadata"].store.job(project, job) is None
    for name, data in held.items():
        (folder / name).write_bytes(data)
    later = evaluate(instance, resources, cursor=first.cursor)
    assert [r.partition_key for r in later.run_requests] == [key]


def test_a_handled_upload_is_not_queued_again_after_a_cursor_reset(env, resources, instance):
    from dagster._core.test_utils import create_run_for_test

    project = unique("proj")
    stage_bundle(SYNTHETIC, uploads_dir(env), project, "done")
    (request,) = evaluate(instance, resources).run_requests
    create_run_for_test(instance, job_name="ingest_job", tags={"dagster/run_key": request.run_key})
    resources["metadata"].store.complete_job(project, "done", {}, "2", "m")
    assert evaluate(instance, resources, cursor=None).run_requests == []  # the first tick, or a reset
    assert resources["metadata"].store.job(project, "done")["status"] == "succeeded"


def write_upload(env, project: str, job: str, manifest: dict | bytes) -> None:
    folder = uploads_dir(env) / project / job
    folder.mkdir(parents=True)
    for name in ("text_spans.ndjson", "components.json", "netlist.json"):
        (folder / name).write_bytes((SYNTHETIC / name).read_bytes())
    (folder / "manifest.json").write_bytes(manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode())


def ingest_first_upload(env, resources, instance, project: str, job: str):
    """A sound upload the sensor has handled: its project exists and belongs to the sample's user."""
    stage_bundle(SYNTHETIC, uploads_dir(env), project, job)
    result = evaluate(instance, resources)
    apply(instance, result)
    return result


def test_uploads_that_lie_about_their_folder_or_owner_write_nothing(env, resources, instance):
    meta = resources["metadata"].store
    victim = unique("victim")
    first = ingest_first_upload(env, resources, instance, victim, "real")
    before = meta._rows("select * from projects where project_id = :p", {"p": victim})
    manifest = json.loads((SYNTHETIC / "manifest.json").read_text())

    mallory = unique("mallory")
    # Another tenant's project declared from mallory's own folder; the victim's project and a job
    # in it from another user; a folder that aliases another partition; an unreadable manifest.
    write_upload(env, mallory, "x1", {**manifest, "project_id": victim, "job_id": "x1", "user_id": "mallory"})
    write_upload(env, victim, "x2", {**manifest, "project_id": victim, "job_id": "x2", "user_id": "mallory"})
    write_upload(env, f"{victim}__real", "1", {**manifest, "project_id": victim, "job_id": "real__1"})
    write_upload(env, mallory, "x3", b'{"project_id": ')
    result = evaluate(instance, resources, cursor=first.cursor)
    assert result.run_requests == [] and result.dynamic_partitions_requests == []
    assert meta._rows("select * from projects where project_id = :p", {"p": victim}) == before
    assert {j["job_id"] for j in meta.jobs() if j["project_id"] == victim} == {"real"}
    assert meta.project_owner(mallory) is None


def test_a_refused_upload_in_its_owners_project_gets_an_invalid_row(env, resources, instance):
    meta = resources["metadata"].store
    project = unique("proj")
    first = ingest_first_upload(env, resources, instance, project, "first")
    manifest = json.loads((SYNTHETIC / "manifest.json").read_text())
    write_upload(env, project, "second", {**manifest, "project_id": project, "job_id": "another-name"})
    assert evaluate(instance, resources, cursor=first.cursor).run_requests == []
    row = meta.job(project, "second")
    assert row["status"] == "invalid" and "names project" in row["error"] and f"{project}/second/" in row["error"]
    # An invalid manifest that still says who sent it is reported to that user's project too; one
    # that does not read at all, or claims another user, is only logged.
    write_upload(env, project, "third", {**manifest, "project_id": project, "job_id": "third", "created_at": "soon"})
    write_upload(env, project, "fourth", b'{"user_id": ')
    write_upload(
        env,
        project,
        "fifth",
        {**manifest, "project_id": project, "job_id": "fifth", "user_id": "eve", "created_at": "soon"},
    )
    assert evaluate(instance, resources, cursor=first.cursor).run_requests == []
    row = meta.job(project, "third")
    assert (
        row["status"] == "invalid"
        and row["error"].startswith("manifest.json: invalid: ")
        and "created_at" in row["error"]
    )
    assert meta.job(project, "fourth") is None and meta.job(project, "fifth") is None


def test_quota_rejects_before_any_work(env, instance):
    resources = resources_for(env)
    resources["metadata"] = SqlMetadataResource(
        db_url=f"sqlite:///{Path(env['WESSLEY_HOME']).resolve()}/metadata.db", monthly_ingestion_limit=1
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
    resources = resources_for({**env, **s3_env, "WESSLEY_UPLOADS": f"s3://{bucket}/uploads"})
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
    assert result.run_requests[0].run_key.startswith(f"{project}__s3job@")
    assert result.cursor is not None
    # The bundle asset reads the same S3 location the sensor watched (EnvVar secrets resolve in Dagster).
    with dagster_resources({"uploads": resources["uploads"]}) as live:
        netlist = live.uploads.object_store().get(f"{project}/s3job/netlist.json")
    assert netlist == (SYNTHETIC / "netlist.json").read_bytes()
    # A file replaced after the manifest (a new ETag) is a new upload: a new run key.
    client.put_object(
        Bucket=bucket,
        Key=f"uploads/{project}/s3job/netlist.json",
        Body=(SYNTHETIC / "netlist.json").read_bytes() + b"\n",
    )
    again = evaluate(instance, resources)
    assert [r.run_key for r in again.run_requests] != [r.run_key for r in result.run_requests]


def test_failed_run_marks_the_job_with_the_step_error(env, resources, instance):
    from wessley_dagster_tests.test_pipeline import run

    project = unique("proj")
    key = stage_bundle(SYNTHETIC, uploads_dir(env), project, "doomed")
    apply(instance, evaluate(instance, resources))  # the sensor queues it: the upload is valid
    assert resources["metadata"].store.job(project, "doomed")["status"] == "queued"
    components = uploads_dir(env) / project / "doomed" / "components.json"  # replaced before its run
    components.write_text(components.read_text().replace('"page": 2', '"page": -2', 1))

    result = run(key, resources, instance, raise_on_error=False)
    record_failure(result, instance, resources["metadata"])
    job = resources["metadata"].store.job(project, "doomed")
    assert job["status"] == "invalid"  # failed validation: not retried, not counted, not re-requested
    assert (
        "bundle: " in job["error"]
        and "components.json: $[4].page: Input should be greater than or equal to 1" in job["error"]
    )


def staged_elsewhere(tmp_path, project: str, job: str, mtime: float = 1_600_000_000.0):
    """A bundle prepared outside the uploads folder, every file dated 2020 (as `cp -p` or `mv` keep them)."""
    stage_bundle(SYNTHETIC, tmp_path / "staging", project, job)
    folder = tmp_path / "staging" / project / job
    for path in folder.iterdir():
        os.utime(path, (mtime, mtime))
    return folder


def test_moved_and_copied_uploads_with_old_timestamps_are_seen(env, resources, instance, tmp_path):
    project = unique("proj")
    stage_bundle(SYNTHETIC, uploads_dir(env), project, "fresh")
    first = evaluate(instance, resources)
    apply(instance, first)
    (uploads_dir(env) / project).mkdir(exist_ok=True)
    shutil.move(staged_elsewhere(tmp_path, project, "moved"), uploads_dir(env) / project / "moved")
    subprocess.run(
        ["cp", "-rp", str(staged_elsewhere(tmp_path, project, "copied")), str(uploads_dir(env) / project)], check=True
    )
    assert (uploads_dir(env) / project / "copied" / "manifest.json").stat().st_mtime == 1_600_000_000.0
    later = evaluate(instance, resources, cursor=first.cursor)
    assert sorted(r.partition_key for r in later.run_requests) == [f"{project}__copied", f"{project}__moved"]
    apply(instance, later)
    assert evaluate(instance, resources, cursor=later.cursor).run_requests == []
    assert evaluate(instance, resources, cursor=None).run_requests == []  # a reset cursor: nothing re-queued


def test_s3_listing_of_10000_keys_resumes_with_start_after(env, s3_env, instance, monkeypatch):
    for name, value in s3_env.items():
        monkeypatch.setenv(name, value)
    bucket = s3_env["S3_BUCKET"]
    resources = resources_for(
        {**env, **s3_env, "WESSLEY_UPLOADS": f"s3://{bucket}/uploads", "WESSLEY_SENSOR_PAGE_KEYS": "1000"}
    )
    bodies = {
        name: (SYNTHETIC / name).read_bytes() for name in ("text_spans.ndjson", "components.json", "netlist.json")
    }
    manifest = json.loads((SYNTHETIC / "manifest.json").read_text())
    project = unique("proj")
    complete = [f"job-{i:04d}" for i in range(0, 2480, 83)]  # 30 uploads spread through the key space
    objects = []
    for i in range(2480):
        job = f"job-{i:04d}"
        for name, body in bodies.items():
            objects.append((f"uploads/{project}/{job}/{name}", body))
        if job in complete:
            objects.append(
                (
                    f"uploads/{project}/{job}/manifest.json",
                    json.dumps({**manifest, "project_id": project, "job_id": job}).encode(),
                )
            )
    objects += [(f"uploads/zz-stray/{i}.txt", b"x") for i in range(10_000 - len(objects))]
    assert len(objects) == 10_000
    # Written straight into the moto server's store (10,000 PUTs over HTTP take a minute here);
    # every listing the sensor makes still goes over HTTP.
    partition, account = s3_backends.bucket_accounts[bucket]
    backend = s3_backends[account][partition]
    for key, body in objects:
        backend.put_object(bucket, key, body)

    # Each tick reads one page from where the last stopped, always ending at a folder's end.
    requested, afters, cursor = [], [], None
    for _ in range(11):
        result = evaluate(instance, resources, cursor=cursor)
        apply(instance, result)
        requested += [r.partition_key for r in result.run_requests]
        cursor = result.cursor
        afters.append(json.loads(cursor)["after"])
    assert sorted(requested) == [f"{project}__{job}" for job in complete]  # each once
    assert afters[-1] == ""  # the whole listing was read: the next tick starts from the top
    assert all(a.endswith("/text_spans.ndjson") or "zz-stray" in a for a in afters[:-1])  # a folder's last key
    assert afters[:-1] == sorted(afters[:-1])
    assert evaluate(instance, resources, cursor=None).run_requests == []


def test_s3_store_lists_one_page_from_start_after(s3_env):
    client = boto3.client(
        "s3",
        endpoint_url=s3_env["S3_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for i in range(30):
        client.put_object(Bucket=s3_env["S3_BUCKET"], Key=f"in/k{i:02d}", Body=b"x")
    calls = []
    client.meta.events.register("before-call.s3.ListObjectsV2", lambda params, **_: calls.append(params))
    store = S3Store(client, s3_env["S3_BUCKET"], "in")
    assert [o.key for o in store.list("", start_after="k09", limit=5)] == ["k10", "k11", "k12", "k13", "k14"]
    assert len(calls) == 1 and calls[0]["query_string"]["start-after"] == "in/k09"


def test_pages_end_at_a_folder_and_a_folder_larger_than_a_page_is_read_whole(tmp_path):
    from wessley_dagster.sensors import UploadCursor, _folders_to_check

    store = LocalFolderStore(tmp_path)
    for i in range(12):
        store.put(f"p/big/f{i:02d}", b"x", "text/plain")
    for job in ("j1", "j2", "j3"):
        for name in ("a", "b", "c"):
            store.put(f"q/{job}/{name}", b"x", "text/plain")
    cursor, seen = UploadCursor(), []
    for _ in range(6):
        folders, cursor.after = _folders_to_check(store, cursor, page_keys=5)
        seen.append({name: len(files) for name, files in folders.items()})
        if not cursor.after:
            break
    assert seen == [{"p/big": 12}, {"q/j1": 3}, {"q/j2": 3}, {"q/j3": 3}]
