"""Every way a user starts work writes the job row the same way. `dagster dev` (webserver and
daemon) runs on loopback as `make dev` starts it; runs are launched through its GraphQL API as the
UI does: the upload sensor's run, `ingest_job`, "Materialize" of an asset selection, a
backfill, and the nightly reconcile's request. Each ends with the row `succeeded` at stage
`done`, carrying that run's id, or `invalid` with the reason."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from dagster import DagsterInstance, build_schedule_context

from wessley_dagster.resources import build_resources
from wessley_dagster.resources.embeddings import EmbeddingsResource
from wessley_dagster.schedules import nightly_reconcile
from wessley_dagster.stores.metadata import MetadataStore
from wessley_dagster_tests.conftest import REPO, SYNTHETIC, stage_bundle, unique, uploads_dir
from wessley_dagster_tests.servers import free_port

LOCATION, REPOSITORY = "wessley_dagster", "__repository__"

LAUNCH = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
BACKFILL = """mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""
RUN_STATUS = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""
RUNS = """query($tags: [ExecutionTag!]) { runsOrError(filter: {tags: $tags}) {
  ... on Runs { results { runId status } } } }"""


class DagsterDev:
    def __init__(self, env: dict[str, str], home: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        log = open(home / "dagster-dev.log", "wb")  # noqa: SIM115 - handed to the child process
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster"), "dev", "-h", "127.0.0.1", "-p", str(self.port),
             "-w", str(REPO / "workspace.yaml")],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if self.query("{ version }").get("version"):
                    return
            except requests.RequestException:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"dagster dev exited: {(home / 'dagster-dev.log').read_text()[-3000:]}")
            time.sleep(1)
        raise TimeoutError("dagster dev did not answer")

    def query(self, query: str, **variables: Any) -> dict[str, Any]:
        response = requests.post(self.url, json={"query": query, "variables": variables}, timeout=60)
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    def launch(self, partition: str, job: str = "ingest_job", assets: list[str] | None = None,
               tags: dict[str, str] | None = None) -> str:  # fmt: skip
        selector: dict[str, Any] = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "jobName": job}
        if assets:
            selector["assetSelection"] = [{"path": [a]} for a in assets]
        all_tags = {"dagster/partition": partition, **(tags or {})}
        params = {
            "selector": selector,
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in all_tags.items()]},
        }
        result = self.query(LAUNCH, p=params)["launchRun"]
        assert result["__typename"] == "LaunchRunSuccess", result
        return result["run"]["runId"]

    def wait_run(self, run_id: str) -> str:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            status = self.query(RUN_STATUS, id=run_id)["runOrError"]["status"]
            if status in ("SUCCESS", "FAILURE", "CANCELED"):
                return status
            time.sleep(1)
        raise TimeoutError(f"run {run_id} did not finish")

    def runs(self, **tags: str) -> list[dict[str, str]]:
        found = self.query(RUNS, tags=[{"key": k, "value": v} for k, v in tags.items()])
        return found["runsOrError"]["results"]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def eventually(read: Callable[[], Any], accept: Callable[[Any], bool], timeout: float = 120) -> Any:
    """The daemon's sensors tick on their own clock: wait for the row to settle."""
    deadline = time.monotonic() + timeout
    value = read()
    while not accept(value) and time.monotonic() < deadline:
        time.sleep(1)
        value = read()
    return value


@pytest.fixture
def dev(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[DagsterDev, dict[str, str]]]:
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(REPO / "dagster.yaml", dagster_home / "dagster.yaml")
    dev_env = {**os.environ, **env, "DAGSTER_HOME": str(dagster_home)}
    server = DagsterDev(dev_env, tmp_path)
    try:
        yield server, dev_env
    finally:
        server.stop()


def test_every_launch_path_writes_the_job_row_the_same_way(dev, env, monkeypatch):
    server, dev_env = dev
    meta = MetadataStore(f"sqlite:///{env['WESSLEY_HOME']}/metadata.db")

    def settled(project: str, job: str, run_id: str | None = None) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            return meta.job(project, job) or {}

        def done(row: dict[str, Any]) -> bool:
            return row.get("status") in ("succeeded", "failed", "invalid") and (
                run_id is None or row.get("dagster_run_id") == run_id
            )

        return eventually(read, done)

    # The sensor: an upload lands, the daemon's tick requests its run.
    project = unique("paths")
    key = stage_bundle(SYNTHETIC, uploads_dir(env), project, "first")
    (sensor_run,) = eventually(lambda: server.runs(**{"dagster/partition": key}), lambda runs: len(runs) == 1, 180)
    assert server.wait_run(sensor_run["runId"]) == "SUCCESS"
    row = settled(project, "first", sensor_run["runId"])
    assert (row["status"], row["stage"], row["progress"]) == ("succeeded", "done", 100)
    full_metrics = json.loads(row["metrics"])
    assert full_metrics["components"] == 10

    # `ingest_job` from the launchpad.
    run_id = server.launch(key)
    assert server.wait_run(run_id) == "SUCCESS"
    row = settled(project, "first", run_id)
    assert (row["status"], row["stage"], row["progress"]) == ("succeeded", "done", 100)

    # "Materialize" of a selection that leaves out job_record: the success sensor closes the row.
    run_id = server.launch(key, job="__ASSET_JOB", assets=["chunks", "embeddings"])
    assert server.wait_run(run_id) == "SUCCESS"
    row = settled(project, "first", run_id)
    assert (row["status"], row["stage"], row["progress"]) == ("succeeded", "done", 100)
    assert json.loads(row["metrics"]) == full_metrics  # those of the last run that included job_record

    # A backfill of every asset of the partition: one run, tagged with its backfill.
    backfill = server.query(BACKFILL, p={
        "partitionNames": [key], "fromFailure": False,
        "assetSelection": [{"path": [a]} for a in ("bundle", "text_spans", "components", "netlist", "chunks",
                                                   "embeddings", "vector_index", "schematic_graph", "exports",
                                                   "job_record")],
    })["launchPartitionBackfill"]  # fmt: skip
    assert backfill["__typename"] == "LaunchBackfillSuccess", backfill
    (backfill_run,) = eventually(lambda: server.runs(**{"dagster/backfill": backfill["backfillId"]}),
                                 lambda runs: len(runs) == 1, 180)  # fmt: skip
    assert server.wait_run(backfill_run["runId"]) == "SUCCESS"
    row = settled(project, "first", backfill_run["runId"])
    assert (row["status"], row["stage"], row["progress"]) == ("succeeded", "done", 100)

    # The nightly reconcile, evaluated against the same instance, asks for the partition once the
    # embedding model changes; its request is launched as the scheduler would.
    monkeypatch.setenv("DAGSTER_HOME", dev_env["DAGSTER_HOME"])
    resources = build_resources(env)
    schedule_resources = {
        "embeddings_model": EmbeddingsResource(provider="hashing", dimension=64),
        "uploads": resources["uploads"],
        "metadata": resources["metadata"],
    }
    at = datetime(2026, 11, 25, 3, tzinfo=UTC)
    with (
        DagsterInstance.get() as instance,
        build_schedule_context(instance=instance, scheduled_execution_time=at, resources=schedule_resources) as context,
    ):
        (request,) = [r for r in nightly_reconcile(context) if r.partition_key == key]
    run_id = server.launch(key, tags={**request.tags, "dagster/schedule_name": "nightly_reconcile"})
    assert server.wait_run(run_id) == "SUCCESS"
    row = settled(project, "first", run_id)
    assert (row["status"], row["stage"], row["progress"]) == ("succeeded", "done", 100)

    # A failing run from the UI: the failure sensor writes the reason on the row.
    components = uploads_dir(env) / project / "first" / "components.json"
    components.write_text(components.read_text().replace('"page": 2', '"page": -2', 1))
    run_id = server.launch(key, job="__ASSET_JOB", assets=["bundle"])
    assert server.wait_run(run_id) == "FAILURE"
    row = eventually(
        lambda: meta.job(project, "first"), lambda r: (r["error"] or "").endswith("(no step had completed)")
    )
    assert row["status"] == "invalid" and row["stage"] == "bundle"
    assert "components.json: $[4].page" in row["error"] and row["error"].startswith("bundle: invalid bundle")
