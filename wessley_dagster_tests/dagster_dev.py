"""`dagster dev` (webserver and daemon) on loopback as `make dev` starts it, for the tests that
drive Dagster as its users do: through its GraphQL API and in a browser."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from wessley_dagster_tests.conftest import REPO
from wessley_dagster_tests.servers import free_port

LOCATION, REPOSITORY = "wessley_dagster", "__repository__"

LAUNCH = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
BACKFILL = """mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""
RUN_STATUS = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""
SENSOR = """query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { ... on Sensor { sensorState { id } } } }"""
STOP_SENSOR = """mutation($id: String!) { stopSensor(id: $id) {
  ... on StopSensorMutationResult { instigationState { status } } ... on PythonError { message } } }"""
RUNS = """query($tags: [ExecutionTag!]) { runsOrError(filter: {tags: $tags}) {
  ... on Runs { results { runId status } } } }"""


class DagsterDev:
    def __init__(self, env: dict[str, str], home: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base_url}/graphql"
        log = open(home / "dagster-dev.log", "wb")  # noqa: SIM115 - handed to the child process
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "dagster"),
                "dev",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-w",
                str(REPO / "workspace.yaml"),
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
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

    def launch(
        self,
        partition: str,
        job: str = "ingest_job",
        assets: list[str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> str:
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

    def stop_sensor(self, name: str) -> None:
        """Turn a sensor off, as its toggle in the UI does."""
        selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "sensorName": name}
        sensor = self.query(SENSOR, s=selector)["sensorOrError"]
        stopped = self.query(STOP_SENSOR, id=sensor["sensorState"]["id"])["stopSensor"]
        assert stopped["instigationState"]["status"] == "STOPPED", stopped

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
