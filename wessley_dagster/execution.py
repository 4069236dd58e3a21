"""How runs execute, chosen from the environment here and only here, and one partition's run in
this process as a run worker makes it.

- `WESSLEY_EXECUTOR=in_process` (default): every step of a run in the run's own process. On a
  small machine a process per step cost more than the steps.
- `WESSLEY_EXECUTOR=celery`: each step is a task on Dagster's Celery executor (`dagster-celery`),
  on the broker `CELERY_BROKER_URL` (e.g. `redis://host:6379/0`), results on
  `CELERY_RESULT_BACKEND` (default: the broker). Steps that open an embedded vector store, which
  admits one process, carry the `dagster-celery/queue` tag of one queue (`EMBEDDED_QUEUE`) that a
  single worker serves; with a Qdrant server configured, every step may run on any worker.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from dagster import (
    DagsterInstance,
    ExecutorDefinition,
    JobDefinition,
    execute_job,
    in_process_executor,
    reconstructable,
)
from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG

EXECUTORS = ("in_process", "celery")
EMBEDDED_QUEUE = "embedded"
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def build_executor(env: Mapping[str, str] | None = None) -> ExecutorDefinition:
    env = os.environ if env is None else env
    kind = env.get("WESSLEY_EXECUTOR") or "in_process"
    if kind == "in_process":
        return in_process_executor
    if kind != "celery":
        raise ValueError(f"WESSLEY_EXECUTOR={kind!r}: expected one of {', '.join(EXECUTORS)}")
    if not env.get("CELERY_BROKER_URL"):
        raise ValueError("WESSLEY_EXECUTOR=celery needs CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0)")
    from dagster_celery import celery_executor

    backend = "CELERY_RESULT_BACKEND" if env.get("CELERY_RESULT_BACKEND") else "CELERY_BROKER_URL"
    # Read from the environment by Dagster at run time: a broker password never enters the config.
    return celery_executor.configured({"broker": {"env": "CELERY_BROKER_URL"}, "backend": {"env": backend}})


def embedded_vectors_tags(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The op tags of a step that opens the vector store: one Celery queue while it is embedded."""
    env = os.environ if env is None else env
    return {} if env.get("QDRANT_URL") else {DAGSTER_CELERY_QUEUE_TAG: EMBEDDED_QUEUE}


def ingest_job() -> JobDefinition:
    """`ingest_job` with the code location's resources and executor (a reconstructable target)."""
    from wessley_dagster.definitions import defs

    return defs.resolve_job_def("ingest_job")


def run_ingest(instance: DagsterInstance, partition_key: str, tags: Mapping[str, str] | None = None) -> Any:
    """One partition of `ingest_job` in this process, on the configured executor, as a run worker
    runs it: unlike `execute_in_process` it keeps no step output in memory. Logs only warnings
    to the console. Returns the run."""
    with execute_job(
        reconstructable(ingest_job),
        instance=instance,
        run_config=QUIET,
        tags={"dagster/partition": partition_key, **(tags or {})},
    ) as result:
        return result.dagster_run
