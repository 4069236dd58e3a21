"""Shared fixtures: one real ArcadeDB server for the session, and per-test embedded backends
under a temporary WESSLEY_HOME (Qdrant Edge, a local artifacts folder, SQLite)."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The tests watch every retry of a step whose backend is down: a short first wait keeps the same
# retries and backoff without the production pause (set before wessley_dagster reads it at import).
os.environ.setdefault("WESSLEY_RETRY_DELAY_S", "0.25")

from dagster import DagsterInstance, instance_for_test

from wessley_dagster.partitions import ingestion_partitions
from wessley_dagster.resources.profiles import build_resources
from wessley_dagster.settings import Settings
from wessley_dagster.stores.arcadedb import ArcadeDBServer
from wessley_dagster_tests.servers import Neo4jServer, PostgresServer, S3ProxyServer, free_port

REPO = Path(__file__).resolve().parents[1]
BUNDLES = REPO / "data" / "bundles"
SYNTHETIC = BUNDLES / "demo-roadster" / "fuel-pump-2019"
SPEEDUINO = BUNDLES / "speeduino" / "v0.4.3d"
SOURCES = REPO / "data" / "sources"

# The longest files first (measured with --durations on 2 cores): make test's xdist workers,
# told to keep this order (--no-loadscope-reorder; xdist otherwise sorts files by their number of
# tests, which puts these one-test files last), take files as they free up, so the longest start
# at once and no worker is left alone with one at the end.
SLOWEST_FIRST = (
    "test_pipeline.py",
    "api/test_api.py",
    "test_graph_faults.py",
    "test_launch_paths.py",
    "test_celery.py",
    "adapters/test_ground_truth.py",
    "test_packaging.py",
    "api/test_api_hostile.py",
    "test_ui.py",
    "test_instance_postgres.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.path.relative_to(REPO / "wessley_dagster_tests").as_posix()
        return SLOWEST_FIRST.index(path) if path in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: within a file, and among the rest, collection order stays


@pytest.fixture(scope="session")
def arcadedb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArcadeDBServer]:
    server = ArcadeDBServer(tmp_path_factory.mktemp("arcadedb"), bolt_port=free_port(), http_port=free_port())
    server.ensure_running()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def neo4j(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jServer]:
    server = Neo4jServer(tmp_path_factory.mktemp("neo4j")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.stop()


def fresh_database(postgres: PostgresServer) -> str:
    """A new database on the session's PostgreSQL server; its SQLAlchemy URL."""
    from sqlalchemy import create_engine, text

    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    engine.dispose()
    return postgres.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    return fresh_database(postgres)


@pytest.fixture(scope="session")
def s3proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3ProxyServer]:
    """S3Proxy: an S3 server that checks presigned URLs' expiry (moto does not)."""
    server = S3ProxyServer(tmp_path_factory.mktemp("s3proxy")).start()
    yield server
    server.stop()


def home_env(home: Path, arcadedb: ArcadeDBServer) -> dict[str, str]:
    """The environment of a fresh install at `home`: embedded defaults, deterministic embeddings."""
    return {
        "WESSLEY_HOME": str(home),
        "WESSLEY_EMBEDDINGS": "hashing",
        # One graph server for the whole session (starting one costs seconds); tests use unique projects.
        "WESSLEY_ARCADEDB_DIR": str(arcadedb.root),
        "WESSLEY_ARCADEDB_BOLT_PORT": str(arcadedb.bolt_port),
        "WESSLEY_ARCADEDB_HTTP_PORT": str(arcadedb.http_port),
    }


@pytest.fixture
def env(tmp_path: Path, arcadedb: ArcadeDBServer) -> dict[str, str]:
    return home_env(tmp_path / "home", arcadedb)


@pytest.fixture(params=["arcadedb", "neo4j"])
def graph_env(request: pytest.FixtureRequest, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """`env` with the graph on the embedded ArcadeDB server, or on a real Neo4j 5.26 server."""
    if request.param == "arcadedb":
        return env
    server: Neo4jServer = request.getfixturevalue("neo4j")
    monkeypatch.setenv("NEO4J_PASSWORD", server.auth[1])  # passed to Dagster as an EnvVar
    return {**env, "NEO4J_URI": server.uri, "NEO4J_USER": server.auth[0], "NEO4J_PASSWORD": server.auth[1]}


def resources_for(env: dict[str, str]) -> dict[str, Any]:
    """The code location's resources for the deployment `env` describes."""
    return build_resources(Settings.from_env(env))


@pytest.fixture
def resources(env: dict[str, str]) -> dict[str, Any]:
    return resources_for(env)


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    """A persistent instance in a temporary DAGSTER_HOME (schedules need an instance ref)."""
    with instance_for_test() as inst:
        yield inst


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def stage_bundle(source: Path, uploads: Path, project_id: str, job_id: str, **manifest_changes: Any) -> str:
    """Copy a bundle into an uploads folder under new ids (manifest last); returns its partition key."""
    target = uploads / project_id / job_id
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.name != "manifest.json":
            shutil.copy(path, target / path.name)
    manifest = json.loads((source / "manifest.json").read_text())
    manifest.update(project_id=project_id, job_id=job_id, **manifest_changes)
    (target / "manifest.json").write_text(json.dumps(manifest))
    return f"{project_id}__{job_id}"


def uploads_dir(env: dict[str, str]) -> Path:
    return Path(env["WESSLEY_HOME"]) / "uploads"


def dagster_home(tmp_path: Path, instance_yaml: Path = REPO / "dagster.yaml") -> Path:
    """A fresh DAGSTER_HOME under tmp_path holding the given instance config as `dagster.yaml`."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(instance_yaml, home / "dagster.yaml")
    return home


def record_failure(result: Any, instance: DagsterInstance, metadata: Any) -> None:
    """What the run-failure sensor does for the failed run behind a `materialize()` result."""
    from dagster import DagsterEventType, build_run_status_sensor_context

    from wessley_dagster.sensors import ingest_failure_sensor

    failure = next(e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE)
    context = build_run_status_sensor_context(
        sensor_name="ingest_failure_sensor",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"metadata": metadata},
    ).for_run_failure()
    ingest_failure_sensor(context)


def upload(env: dict[str, str], instance: DagsterInstance, bundle: Any) -> str:
    """Write a bundle model's files where uploads land and add its partition; returns the key."""
    from wessley_dagster.adapters.writer import bundle_files

    project_id, job_id = bundle.manifest.project_id, bundle.manifest.job_id
    folder = uploads_dir(env) / project_id / job_id
    folder.mkdir(parents=True, exist_ok=True)
    for name, data, _ in bundle_files(bundle):
        (folder / name).write_bytes(data)
    add_partitions(instance, bundle.partition_key)
    return bundle.partition_key


def error_chain(failure_event: Any) -> list[str]:
    """`Class: message` of a failed step's error and of each error it was raised from."""
    chain, error = [], failure_event.step_failure_data.error
    while error is not None:
        chain.append(f"{error.cls_name}: {error.message}")
        error = error.cause or error.context
    return chain


def add_partitions(instance: DagsterInstance, *keys: str) -> None:
    instance.add_dynamic_partitions(ingestion_partitions.name, list(keys))


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's S3 server over real HTTP on loopback; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_env(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Credentials and endpoint for moto, plus a fresh bucket; returned as S3_* variables."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    bucket = unique("bucket")
    boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1").create_bucket(Bucket=bucket)
    return {
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": moto_server,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "testing",
        "S3_SECRET_ACCESS_KEY": "testing",
    }


@pytest.fixture
def dev(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[Any, dict[str, str]]]:
    """`dagster dev` on this test's home and a fresh DAGSTER_HOME; yields it and its environment."""
    import os

    from wessley_dagster_tests.dagster_dev import DagsterDev

    dev_env = {**os.environ, **env, "DAGSTER_HOME": str(dagster_home(tmp_path))}
    server = DagsterDev(dev_env, tmp_path)
    try:
        yield server, dev_env
    finally:
        server.stop()
