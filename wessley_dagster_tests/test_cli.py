"""The command line beyond search (which the pipeline test covers): watching a job live."""

import json
import threading

from wessley_dagster import cli
from wessley_dagster.domain.bundle import Manifest
from wessley_dagster.domain.jobs import JobStatus
from wessley_dagster.stores.metadata.sql import SqlMetadataStore
from wessley_dagster_tests.conftest import SYNTHETIC


def test_jobs_watch_prints_each_change_until_the_job_ends(env, resources, monkeypatch, capsys):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    store = resources["metadata"].store
    manifest = Manifest.model_validate({**json.loads((SYNTHETIC / "manifest.json").read_text()), "job_id": "live"})
    store.register_job(manifest, status=JobStatus.QUEUED, stage="queued")
    reads = threading.Semaphore(0)
    job = SqlMetadataStore.job

    def counted(self, *args):
        row = job(self, *args)
        reads.release()
        return row

    monkeypatch.setattr(SqlMetadataStore, "job", counted)

    def seen() -> None:
        """Wait until the watcher has read the row since the last change: two reads, as the first
        may have begun before the change."""
        while reads.acquire(blocking=False):
            pass
        for _ in range(2):
            assert reads.acquire(timeout=30)

    def the_run() -> None:
        for stage, progress in (("bundle", 10), ("chunks", 40), ("chunks", 40), ("exports", 90)):
            seen()
            store.set_stage(manifest.project_id, "live", stage, progress, run_id="r1")
        seen()
        store.complete_job(manifest.project_id, "live", {"components": 10}, "2", "m")

    runner = threading.Thread(target=the_run)
    runner.start()
    code = cli.main(["jobs", "watch", manifest.project_id, "live", "--interval", "0.05", "--timeout", "30"])
    runner.join()
    assert code == 0
    lines = [line.split()[1:4] for line in capsys.readouterr().out.splitlines()]
    assert lines == [
        ["queued", "queued", "0%"],
        ["running", "bundle", "10%"],
        ["running", "chunks", "40%"],
        ["running", "exports", "90%"],
        ["succeeded", "done", "100%"],
    ]
    store.fail_job(manifest.project_id, "live", "boom")
    assert cli.main(["jobs", "watch", manifest.project_id, "live", "--timeout", "5"]) == 1
    assert capsys.readouterr().out.split()[1:5] == ["failed", "done", "100%", "boom"]


def test_storage_shows_objects_and_bytes_per_project_job_and_backend(env, resources, monkeypatch, capsys):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    store = resources["metadata"].store
    base = json.loads((SYNTHETIC / "manifest.json").read_text())
    row = {"artifact_type": "json", "storage_url": "u", "content_type": "c"}
    for job, artifacts in (("a", [("s3", 10), ("s3", 5), ("local", 7)]), ("b", [("local", 1)])):
        store.register_job(Manifest.model_validate({**base, "job_id": job}), status="succeeded")
        rows = [{"name": f"f{i}", "backend": b, "size_bytes": n, **row} for i, (b, n) in enumerate(artifacts)]
        store.replace_artifacts(base["project_id"], job, rows)
    assert cli.main(["storage", "--project", base["project_id"], "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["job_id"], r["backend"], r["objects"], r["bytes"]) for r in listed] == [
        ("a", "local", 1, 7),
        ("a", "s3", 2, 15),
        ("b", "local", 1, 1),
    ]
    assert cli.main(["storage"]) == 0
    assert capsys.readouterr().out.splitlines()[0].split() == ["project", "job", "backend", "objects", "bytes"]
