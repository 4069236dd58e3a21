"""The Dagster instance on PostgreSQL (`deploy/dagster-postgres.yaml`): `dagster dev` on a real
PostgreSQL 15 with the queued run coordinator; an upload's run is queued, started by the daemon,
and recorded in PostgreSQL."""

import uuid

from sqlalchemy import create_engine, text

from wessley_dagster_tests.conftest import REPO, SYNTHETIC, dagster_home, stage_bundle, unique, uploads_dir
from wessley_dagster_tests.dagster_dev import DagsterDev, eventually


def test_a_run_goes_through_the_queue_of_an_instance_on_postgres(env, postgres, tmp_path):
    import os

    database = f"dagster_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'create database "{database}"'))
    home = dagster_home(tmp_path, REPO / "deploy" / "dagster-postgres.yaml")
    dev_env = {
        **os.environ,
        **env,
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_DB": database,
        "DAGSTER_PG_PORT": str(postgres.port),
    }
    key = stage_bundle(SYNTHETIC, uploads_dir(env), unique("pg"), "job")
    server = DagsterDev(dev_env, tmp_path)
    try:
        (run,) = eventually(lambda: server.runs(**{"dagster/partition": key}), lambda runs: len(runs) == 1, 180)
        assert server.wait_run(run["runId"]) == "SUCCESS"
    finally:
        server.stop()
    instance_db = create_engine(postgres.url.rsplit("/", 1)[0] + "/" + database)
    with instance_db.connect() as conn:
        status = conn.execute(text("select status from runs where run_id = :r"), {"r": run["runId"]}).scalar_one()
        queued = conn.execute(
            text("select count(*) from event_logs where run_id = :r and dagster_event_type = 'PIPELINE_ENQUEUED'"),
            {"r": run["runId"]},
        ).scalar_one()
    assert (status, queued) == ("SUCCESS", 1)  # in PostgreSQL, and through the queue
