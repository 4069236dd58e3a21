"""Faults in the artifacts store, on a real file system: its folder is a tmpfs that turns read-only,
then one that fills up in the middle of a run. Retrying cannot help either, so the writing step
fails at once, and the job row names the stage and the OS error. Once the disk is writable
again, one rerun brings every store to the bundle's state."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wessley_dagster_tests.conftest import SPEEDUINO, add_partitions, record_failure, stage_bundle, unique, uploads_dir
from wessley_dagster_tests.test_pipeline import run, state

PAGE = 4096  # tmpfs charges whole pages


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[None]:
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    # No skip: the fault suite needs a real read-only and full disk, so the tests run as root (or
    # with CAP_SYS_ADMIN), as CI does; without that this fails and says why.
    assert mounted.returncode == 0, (
        f"a real read-only or full disk needs a tmpfs mount (root or CAP_SYS_ADMIN): {mounted.stderr.decode().strip()}"
    )
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def remount(path: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True)


def step_events(result, kind: str) -> list:
    return [e for e in result.all_events if e.event_type_value == kind]


def failed_step(result) -> tuple[str, str]:
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    data = failure.step_failure_data
    return failure.step_key, (data.user_failure_data.description if data.user_failure_data else data.error.message)


def same_length_state(resources, project: str, job: str) -> dict:
    """The partition's stored state without its ids (two jobs of one bundle, ids of one length)."""
    s = state(resources, project, job)
    return {
        "points": s["points"],
        "graph": (len(s["graph"]["nodes"]), len(s["graph"]["relationships"])),
        "artifacts": [(key.split("/", 2)[2], size) for key, size in s["artifacts"]],
        "artifact_rows": s["artifact_rows"],
        "job": s["job"],
    }


def test_read_only_then_full_artifacts_disk(env, resources, instance):
    artifacts = Path(env["WESSLEY_HOME"]) / "artifacts"
    metadata = resources["metadata"]
    with tmpfs(artifacts, "64m"):
        project = unique("disk")
        key = stage_bundle(SPEEDUINO, uploads_dir(env), project, "job-a")
        add_partitions(instance, key)
        assert run(key, resources, instance).success
        reference = state(resources, project, "job-a")

        # Read-only: the first artifact write fails, with no retry, and nothing anywhere changes.
        remount(artifacts, "ro")
        result = run(key, resources, instance, raise_on_error=False)
        assert not result.success and not step_events(result, "STEP_UP_FOR_RETRY")
        step, message = failed_step(result)
        assert step == "bundle" and message.startswith("storing bundle: "), message
        assert "local: [Errno 30] Read-only file system" in message
        record_failure(result, instance, metadata)
        job = metadata.store.job(project, "job-a")
        assert job["status"] == "failed" and "Read-only file system" in job["error"]
        assert job["error"].endswith("(no step had completed)")
        assert {k: v for k, v in state(resources, project, "job-a").items() if k != "job"} == {
            k: v for k, v in reference.items() if k != "job"
        }

        # Full: a second job of the same bundle finds room for about half of its artifacts.
        remount(artifacts, "rw")
        assert run(key, resources, instance).success  # back to normal once writable
        assert state(resources, project, "job-a") == reference
        needed = sum(-(-size // PAGE) * PAGE for _, size in reference["artifacts"])
        stats = os.statvfs(artifacts)
        filler = artifacts / "filler"
        filler.write_bytes(b"\0" * (stats.f_bavail * stats.f_frsize - needed // 2))
        second = stage_bundle(SPEEDUINO, uploads_dir(env), project, "job-b")
        add_partitions(instance, second)
        result = run(second, resources, instance, raise_on_error=False)
        assert not result.success and not step_events(result, "STEP_UP_FOR_RETRY")
        step, message = failed_step(result)
        assert "local: [Errno 28] No space left on device" in message, message
        assert message.startswith(f"storing {step}: ")
        completed = {e.step_key for e in step_events(result, "STEP_SUCCESS")}
        assert "bundle" in completed  # the disk filled in the middle of the run
        record_failure(result, instance, metadata)
        job = metadata.store.job(project, "job-b")
        assert job["status"] == "failed" and "No space left on device" in job["error"]
        assert "completed before it: bundle" in job["error"]
        assert not any(p.name.endswith(".tmp") for p in artifacts.rglob("*"))  # no half-written object

        filler.unlink()
        assert run(second, resources, instance).success
        assert same_length_state(resources, project, "job-b") == same_length_state(resources, project, "job-a")
