"""Every way a user starts work writes the job row the same way. `dagster dev` (webserver and
daemon) runs on loopback as `make dev` starts it; runs are launched through its GraphQL API as the
UI does: the upload sensor's run, `ingest_job`, "Materialize" of an asset selection, a
backfill, and the nightly reconcile's request. Each ends with the row `succeeded` at stage
`done`, carrying that run's id, or `invalid` with the reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from dagster import DagsterInstance, build_schedule_context

from wessley_dagster.resources.embeddings import EmbeddingsResource
from wessley_dagster.schedules import nightly_reconcile
from wessley_dagster.stores.metadata.sql import SqlMetadataStore
from wessley_dagster_tests.conftest import SYNTHETIC, resources_for, stage_bundle, unique, uploads_dir
from wessley_dagster_tests.dagster_dev import BACKFILL, eventually


def test_every_launch_path_writes_the_job_row_the_same_way(dev, env, monkeypatch):
    server, dev_env = dev
    meta = SqlMetadataStore(f"sqlite:///{env['WESSLEY_HOME']}/metadata.db")

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
    backfill = server.query(
        BACKFILL,
        p={
            "partitionNames": [key],
            "fromFailure": False,
            "assetSelection": [
                {"path": [a]}
                for a in (
                    "bundle",
                    "text_spans",
                    "components",
                    "netlist",
                    "chunks",
                    "embeddings",
                    "vector_index",
                    "schematic_graph",
                    "exports",
                    "job_record",
                )
            ],
        },
    )["launchPartitionBackfill"]
    assert backfill["__typename"] == "LaunchBackfillSuccess", backfill
    (backfill_run,) = eventually(
        lambda: server.runs(**{"dagster/backfill": backfill["backfillId"]}), lambda runs: len(runs) == 1, 180
    )
    assert server.wait_run(backfill_run["runId"]) == "SUCCESS"
    row = settled(project, "first", backfill_run["runId"])
    assert (row["status"], row["stage"], row["progress"]) == ("succeeded", "done", 100)

    # The nightly reconcile, evaluated against the same instance, asks for the partition once the
    # embedding model changes; its request is launched as the scheduler would.
    monkeypatch.setenv("DAGSTER_HOME", dev_env["DAGSTER_HOME"])
    resources = resources_for(env)
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
    # The upload sensor may see the changed file first and refuse it (stage `upload`); either way the
    # row is `invalid` and names the file and the place.
    row = eventually(lambda: meta.job(project, "first"), lambda r: "components.json: $[4].page" in (r["error"] or ""))
    assert row["status"] == "invalid" and row["stage"] in ("bundle", "upload")
