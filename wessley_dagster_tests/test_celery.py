"""Scale-out on Dagster's Celery executor (`dagster-celery`): a Redis broker (Debian's
redis-server), the Dagster instance on PostgreSQL (`deploy/dagster-postgres.yaml`) and two worker
processes started from `deploy/celery.yaml`, as a deployment runs them. One worker also serves the
queue of the steps that open Qdrant Edge, which admits one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from array import array
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from dagster import AssetKey, DagsterEventType, DagsterInstance, DagsterRunStatus
from sqlalchemy import create_engine, text

from wessley_dagster.assets.embeddings import Embeddings
from wessley_dagster.domain.chunking import build_chunks, dense_chunks
from wessley_dagster.domain.embedders import HashingEmbedder
from wessley_dagster.execution import EMBEDDED_QUEUE
from wessley_dagster.io_managers.artifacts import read_artifact
from wessley_dagster_tests.conftest import (
    REPO,
    SPEEDUINO,
    SYNTHETIC,
    add_partitions,
    dagster_home,
    resources_for,
    stage_bundle,
    unique,
    uploads_dir,
)
from wessley_dagster_tests.servers import CeleryWorker, PostgresServer, RedisServer
from wessley_dagster_tests.test_pipeline import load

EMBEDDED_STEPS = {
    "vector_index",
    "vector_index_vector_count_matches_chunks",
    "vector_index_vector_dimension_matches_collection",
}


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def celery_env(
    env: dict[str, str], postgres: PostgresServer, redis: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The embedded defaults, the Dagster instance in a fresh PostgreSQL database, Celery on Redis."""
    database = f"dagster_{uuid.uuid4().hex[:8]}"
    with create_engine(postgres.url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'create database "{database}"'))
    home = dagster_home(tmp_path, REPO / "deploy" / "dagster-postgres.yaml")
    values = {
        **env,
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_DB": database,
        "DAGSTER_PG_PORT": str(postgres.port),
        "WESSLEY_EXECUTOR": "celery",
        "CELERY_BROKER_URL": redis.url,
        "CELERY_RESULT_BACKEND": redis.url,
        # The Speeduino's 296 distinct dense texts are four embedding steps.
        "WESSLEY_EMBED_BATCH_CHUNKS": "75",
    }
    for name, value in values.items():  # this process reads the same instance
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def workers(celery_env: dict[str, str], tmp_path: Path) -> Iterator[dict[str, CeleryWorker]]:
    tag = uuid.uuid4().hex[:6]
    started = {}
    try:
        for name, queues in (("w1", ["dagster", EMBEDDED_QUEUE]), ("w2", ["dagster"])):
            worker = CeleryWorker(
                celery_env, REPO / "deploy" / "celery.yaml", f"{name}-{tag}", queues, tmp_path / f"{name}.log"
            )
            started[name] = worker.start()
        yield started
    finally:
        for worker in started.values():
            worker.stop()


def launch(env: dict[str, str], key: str, select: str | None = None) -> subprocess.Popen[bytes]:
    """`dagster job execute` of one partition (or `dagster asset materialize` of `select`): the
    run's orchestration in that process, every step a Celery task."""
    dagster = str(Path(sys.executable).parent / "dagster")
    location = ["-m", "wessley_dagster.definitions"]
    if select:
        command = [dagster, "asset", "materialize", *location, "--select", select, "--partition", key]
    else:
        command = [
            dagster,
            "job",
            "execute",
            *location,
            "-j",
            "ingest_job",
            "--tags",
            json.dumps({"dagster/partition": key}),
        ]
    return subprocess.Popen(
        command, env={**os.environ, **env}, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def finished(instance: DagsterInstance, key: str, process: subprocess.Popen[bytes]) -> str:
    output = process.communicate(timeout=600)[0].decode()
    run = next(r for r in instance.get_runs() if r.tags.get("dagster/partition") == key)  # the newest
    assert run.status == DagsterRunStatus.SUCCESS, output[-3000:]
    return run.run_id


def step_workers(instance: DagsterInstance, run_id: str) -> dict[str, set[str]]:
    """Each step of a run and the Celery workers that executed it, from the run's engine events."""
    where: dict[str, set[str]] = defaultdict(set)
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        event = record.dagster_event
        worker = event.engine_event_data.metadata.get("Celery worker") if event else None
        if worker is not None and record.step_key:
            where[record.step_key].add(worker.value.split("@", 1)[0])
    return where


def assert_landed(
    instance: DagsterInstance, run_id: str, project: str, job: str, source: Path, env: dict[str, str]
) -> None:
    """The run retried nothing, its checks passed, and every store holds the whole partition."""
    for kind in (DagsterEventType.STEP_FAILURE, DagsterEventType.STEP_UP_FOR_RETRY):
        assert not instance.all_logs(run_id, of_type=kind), f"{job}: {kind}"
    evaluations = instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    assert len(evaluations) == 5 and all(e.dagster_event.event_specific_data.passed for e in evaluations)
    resources = resources_for(env)
    bundle = load(source)
    assert resources["vectors"].store.count(project, job) == len(build_chunks(bundle))
    assert resources["graph"].store.counts(project, job)["Component"] == len(bundle.components)
    resources["vectors"].store.close()
    row = resources["metadata"].store.job(project, job)
    assert (row["status"], row["stage"]) == ("succeeded", "done")


def embedding_steps(where: dict[str, set[str]]) -> dict[str, set[str]]:
    return {step: workers for step, workers in where.items() if step.startswith("embeddings.embed_batch[")}


def assert_vectors_as_in_process(project: str, job: str, source: Path, env: dict[str, str]) -> None:
    """The stored embeddings are those one process computes for the same chunks."""
    store = resources_for(env)["storage"].object_store()
    embeddings = read_artifact(store, f"{project}/{job}", "embeddings", Embeddings)
    dense = dense_chunks(build_chunks(load(source)))
    expected = [array("f", v).tolist() for v in HashingEmbedder().embed([c.dense_text for c in dense])]
    assert embeddings.chunk_ids == [c.chunk_id for c in dense] and np.array_equal(embeddings.vectors, expected)


def test_partitions_run_on_two_celery_workers(celery_env, workers):
    instance = DagsterInstance.get()
    project = unique("celery")
    uploads = uploads_dir(celery_env)
    solo = stage_bundle(SYNTHETIC, uploads, project, "solo")
    speeduino = stage_bundle(SPEEDUINO, uploads, project, "speeduino")
    pair = {speeduino: SPEEDUINO, stage_bundle(SYNTHETIC, uploads, project, "roadster"): SYNTHETIC}
    add_partitions(instance, solo, *pair)
    names = {w.worker_name for w in workers.values()}
    w1 = workers["w1"].worker_name

    # One partition: its steps spread over both workers; the Edge steps on the one serving their queue.
    run_id = finished(instance, solo, launch(celery_env, solo))
    where = step_workers(instance, run_id)
    assert set().union(*where.values()) == names
    assert {step for step in where if step in EMBEDDED_STEPS} == EMBEDDED_STEPS
    assert all(where[step] == {w1} for step in EMBEDDED_STEPS)
    assert_landed(instance, run_id, project, "solo", SYNTHETIC, celery_env)

    # Two partitions at once on the two workers: both land whole, no lock error, no lost point.
    processes = {key: launch(celery_env, key) for key in pair}
    # Both runs end before this process opens the Edge folder to count: Qdrant Edge admits one
    # process, and the other run's vector checks must not find it held by the test.
    run_ids = {key: finished(instance, key, process) for key, process in processes.items()}
    for key, run_id in run_ids.items():
        assert_landed(instance, run_id, project, key.split("__")[1], pair[key], celery_env)

    # The Speeduino's embeddings again with the cache emptied, alone, so that both workers are
    # free: its four batches run on both, each embedding its part, and the vectors are one process's.
    with resources_for(celery_env)["metadata"].store.engine.begin() as conn:
        conn.execute(text("delete from embedding_cache"))
    run_id = finished(instance, speeduino, launch(celery_env, speeduino, select="embeddings"))
    batches = embedding_steps(step_workers(instance, run_id))
    assert len(batches) == 4 and set().union(*batches.values()) == names
    (made,) = instance.get_latest_materialization_events([AssetKey("embeddings")]).values()
    assert made is not None and made.asset_materialization.metadata["embedded"].value == 296
    assert_vectors_as_in_process(project, "speeduino", SPEEDUINO, celery_env)
