"""Fault: the metadata database, a real PostgreSQL 15, goes away in the middle of a run. The step
that writes the job row retries, then fails loudly with the database's own error. While the
database is down the failure sensor cannot record the failure either, and it raises rather than
dropping it. Once the database is back, the failure is recorded and one rerun leaves every store
and the job row as a clean run would."""

import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from wessley_dagster.domain.chunking import build_chunks
from wessley_dagster.domain.graph_model import bundle_to_graph
from wessley_dagster.stores.metadata.sql import SqlMetadataStore
from wessley_dagster_tests.conftest import error_chain, record_failure, resources_for, unique, upload
from wessley_dagster_tests.servers import PostgresServer
from wessley_dagster_tests.synthetic import make_bundle
from wessley_dagster_tests.test_pipeline import run

LATE_STAGES = ("vector_index", "schematic_graph", "exports")


def test_metadata_database_gone_mid_run(env, instance, monkeypatch):
    server = PostgresServer().start()
    try:
        monkeypatch.setenv("SUPABASE_DB_URL", server.url)
        resources = resources_for({**env, "SUPABASE_DB_URL": server.url})
        project, job = unique("meta"), "gone"
        big = make_bundle(project, job, components=500, pins_per=4)
        key = upload(env, instance, big)
        store = SqlMetadataStore(server.url)
        store.migrate()  # the tables exist before the watcher looks

        outcome = {}
        runner = threading.Thread(
            target=lambda: outcome.setdefault("result", run(key, resources, instance, raise_on_error=False))
        )
        runner.start()
        watcher = create_engine(server.url, pool_pre_ping=True)
        deadline = time.monotonic() + 120
        stage = None
        while stage not in LATE_STAGES and time.monotonic() < deadline:
            with watcher.connect() as conn:
                stage = conn.execute(
                    text("select stage from ingestion_jobs where project_id = :p and job_id = :j"),
                    {"p": project, "j": job},
                ).scalar()
            time.sleep(0.02)
        watcher.dispose()
        assert stage in LATE_STAGES, f"the run never reached a late stage (last seen: {stage})"
        server.kill()  # mid-run: the bundle and chunks are stored, some indexes too
        runner.join(300)
        result = outcome["result"]

        assert not result.success
        failures = [e for e in result.all_events if e.is_step_failure]
        assert failures
        for failure in failures:  # each retried (the error is transient), then failed with the cause
            retries = [
                e
                for e in result.all_events
                if e.event_type_value == "STEP_UP_FOR_RETRY" and e.step_key == failure.step_key
            ]
            assert len(retries) == 3
            chain = error_chain(failure)
            assert any(line.startswith("OperationalError: ") and "Connection refused" in line for line in chain)
        assert {"bundle", "chunks"} <= {e.step_key for e in result.all_events if e.is_step_success}

        with pytest.raises(OperationalError):  # the sensor fails loudly; its next tick tries again
            record_failure(result, instance, resources["metadata"])
        server.start()
        record_failure(result, instance, resources["metadata"])
        row = store.job(project, job)
        assert row["status"] == "failed" and "OperationalError" in row["error"]
        assert "completed before it: bundle" in row["error"]

        assert run(key, resources, instance).success
        row = store.job(project, job)
        assert (row["status"], row["stage"], row["progress"], row["error"]) == ("succeeded", "done", 100, None)
        graph = bundle_to_graph(big).counts()
        graph.pop("Vehicle")
        assert {k: row["metrics"]["graph"].get(k, 0) for k in graph} == graph
        assert row["metrics"]["vector_points"] == len(build_chunks(big))
        stored = resources["storage"].object_store().list(f"{project}/{job}/")
        assert [a["name"] for a in store.artifacts(project, job)] == [o.key.split("/", 2)[2] for o in stored]
    finally:
        server.stop()
