"""`make demo` as a user runs it: a fresh home, the sample bundles ingested through the upload
sensor, a readable output, and `make dev`'s sensor on the same instance ingesting nothing again."""

import json
import subprocess
import sys
from pathlib import Path

from dagster import DagsterInstance, build_sensor_context

from wessley_dagster.sensors import upload_sensor
from wessley_dagster_tests.conftest import BUNDLES, REPO, dagster_home, resources_for


def test_demo_then_the_sensor_of_make_dev_ingests_nothing_twice(env, tmp_path, monkeypatch):
    home = dagster_home(tmp_path)
    demo_env = {**env, "DAGSTER_HOME": str(home), "PATH": str(Path(sys.executable).parent)}
    result = subprocess.run(
        [sys.executable, "-m", "wessley_dagster.cli", "demo"],
        env=demo_env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    stored = json.loads(result.stdout.strip().splitlines()[-1].removeprefix("stored: "))
    bundles = len(list(BUNDLES.glob("*/*/manifest.json")))
    assert stored["job_rows"] == bundles and stored["vector_points"] > 0
    # Logs a user can read: no migration chatter, no library warnings, nothing on stderr.
    assert result.stderr == "", result.stderr
    assert "alembic" not in result.stdout and "Warning" not in result.stdout

    monkeypatch.setenv("DAGSTER_HOME", str(home))
    resources = resources_for(env)
    with DagsterInstance.get() as instance:
        sensor_resources = {k: resources[k] for k in ("uploads", "metadata")}
        with build_sensor_context(instance=instance, resources=sensor_resources) as context:
            tick = upload_sensor(context)  # `make dev`'s first tick: no cursor
        assert tick.run_requests == []
        runs = instance.get_runs()
        assert len(runs) == bundles and all(r.tags.get("dagster/run_key") for r in runs)
