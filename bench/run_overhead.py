"""What a launch path adds to a run: one sample bundle ingested in process (as `make demo` does),
from the UI (`launchRun`: the run worker is a new process, whose in-process executor runs every
step) and by the upload sensor (`dagster dev`: the bundle lands,
the daemon's tick requests the run). Each path runs in a fresh home of its own (its own ArcadeDB,
Qdrant Edge and embeddings cache), so each pays the same cold start. Timed from the launch (the
call, the mutation, or the run's creation by the tick) to the run's end, beside the seconds its steps
computed. The peer is the in-process run: each path's ratio to it is printed.
Runs from `dagster dev` go through its queued run coordinator (the daemon starts them) and the
default run launcher. Run: `.venv/bin/python -m bench.run_overhead [--repeat 2]`
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "bundles" / "demo-roadster" / "fuel-pump-2019"
PROJECT, JOB = "overhead", "sample"
RUN_TIMES = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status creationTime startTime endTime
  stepStats { startTime endTime } } } }"""


def home_env(work: Path) -> dict[str, str]:
    from wessley_dagster_tests.conftest import dagster_home
    from wessley_dagster_tests.servers import free_port

    return {
        **os.environ,
        "WESSLEY_HOME": str(work / "home"),
        "DAGSTER_HOME": str(dagster_home(work)),
        "WESSLEY_ARCADEDB_BOLT_PORT": str(free_port()),
        "WESSLEY_ARCADEDB_HTTP_PORT": str(free_port()),
    }


def in_process() -> dict[str, Any]:
    """In this process (a fresh one, its home in the environment): add the staged sample's
    partition, then time `execute_job` once the code location is loaded."""
    from dagster import DagsterInstance

    from wessley_dagster.definitions import defs  # noqa: F401 - loaded before the clock starts
    from wessley_dagster.launch import run_ingest
    from wessley_dagster_tests.conftest import add_partitions

    instance = DagsterInstance.get()
    add_partitions(instance, f"{PROJECT}__{JOB}")
    start = time.time()
    run = run_ingest(instance, f"{PROJECT}__{JOB}")
    end = time.time()
    stats = instance.get_run_step_stats(run.run_id)
    steps = sum(s.end_time - s.start_time for s in stats)
    return {
        "success": run.is_success,
        "seconds": end - start,
        "steps_s": steps,
        "to_start_s": min(s.start_time for s in stats) - start,
    }


def from_server(env: dict[str, str], work: Path, path: str) -> dict[str, Any]:
    """`dagster dev`, as `make dev` starts it: launched from the UI (the upload sensor turned off
    first, so that it does not run the bundle too), or by the sensor."""
    from dagster import DagsterInstance

    from wessley_dagster_tests.conftest import add_partitions
    from wessley_dagster_tests.dagster_dev import DagsterDev, eventually

    server = DagsterDev(env, work)
    try:
        key = f"{PROJECT}__{JOB}"
        if path == "ui":
            server.stop_sensor("upload_sensor")
        stage(env)
        if path == "ui":  # the partition is there, as the sensor (without a run) or a user adds it
            with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
                add_partitions(instance, key)
            launched = time.time()
            run_id = server.launch(key)
        else:
            (run,) = eventually(lambda: server.runs(**{"dagster/partition": key}), lambda runs: len(runs) == 1, 180)
            run_id, launched = run["runId"], None
        server.wait_run(run_id)
        times = server.query(RUN_TIMES, id=run_id)["runOrError"]
        start = launched or times["creationTime"]
        steps = sum(s["endTime"] - s["startTime"] for s in times["stepStats"] if s["endTime"])
        return {
            "success": times["status"] == "SUCCESS",
            "seconds": times["endTime"] - start,
            "steps_s": steps,
            "to_start_s": times["startTime"] - start,  # queued, dequeued, the run worker's process up
        }
    finally:
        server.stop()


def stage(env: dict[str, str]) -> None:
    from wessley_dagster_tests.conftest import stage_bundle

    stage_bundle(SAMPLE, Path(env["WESSLEY_HOME"]) / "uploads", PROJECT, JOB)


def one(path: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wessley-overhead-") as tmp:
        work = Path(tmp)
        env = home_env(work)
        try:
            if path == "in_process":
                stage(env)
                command = [sys.executable, "-m", "bench.run_overhead", "--in-process"]
                out = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=True).stdout
                return json.loads(out.rsplit("figures: ", 1)[1])
            return from_server(env, work, path)
        finally:
            subprocess.run(
                [sys.executable, "-m", "wessley_dagster.cli", "arcadedb", "stop"],
                env=env,
                capture_output=True,
                check=False,
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)  # the child
    args = parser.parse_args()
    if args.in_process:
        print("figures: " + json.dumps(in_process()))
        return
    paths = ("in_process", "ui", "sensor")
    runs: dict[str, list[dict[str, Any]]] = {p: [] for p in paths}
    for _ in range(args.repeat):
        for path in paths:
            figures = one(path)
            runs[path].append(figures)
            seconds, to_start, steps = (round(figures[k], 1) for k in ("seconds", "to_start_s", "steps_s"))
            print(
                f"{path:<11} {seconds:>5} s launch to end, {to_start:>4} s of it to the run's start, "
                f"steps {steps:>5} s, success {figures['success']}",
                flush=True,
            )
    median = {p: round(statistics.median(r["seconds"] for r in runs[p]), 1) for p in paths}
    ratios = {p: round(median[p] / median["in_process"], 2) for p in paths}
    print("median seconds: " + ", ".join(f"{p} {median[p]} ({ratios[p]}x in process)" for p in paths))
    print(
        "result: "
        + json.dumps(
            {
                "median_s": median,
                "ratio_to_in_process": ratios,
                "steps_s": {p: round(statistics.median(r["steps_s"] for r in runs[p]), 1) for p in paths},
                "all_succeeded": all(r["success"] for v in runs.values() for r in v),
            }
        )
    )


if __name__ == "__main__":
    main()
