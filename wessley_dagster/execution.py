"""How runs execute, chosen from the settings here and only here.

- `WESSLEY_EXECUTOR=in_process` (default): every step of a run in the run's own process. On a
  small machine a process per step cost more than the steps.
- `WESSLEY_EXECUTOR=celery`: each step is a task on Dagster's Celery executor (`dagster-celery`),
  on the broker `CELERY_BROKER_URL` (e.g. `redis://host:6379/0`), results on
  `CELERY_RESULT_BACKEND` (default: the broker). Steps that open an embedded vector store, which
  admits one process, carry the `dagster-celery/queue` tag of one queue (`EMBEDDED_QUEUE`) that a
  single worker serves; with a Qdrant server configured, every step may run on any worker.

Whatever the executor, the process that runs steps collects its oldest garbage less often
(`tune_collector`).
"""

from __future__ import annotations

import gc

from dagster import ExecutorDefinition, in_process_executor
from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG

from wessley_dagster.settings import ConfigurationError, ExecutorKind, Settings

EMBEDDED_QUEUE = "embedded"

# Python's full collection walks every live object. A step holding a large vehicle's parts holds
# millions, none of them garbage: at 1,050 pages 27 full collections took 19 s of the run and
# found almost nothing. Looked for after 1,000 younger collections instead of 10 (bench/RESULTS.md).
COLLECTOR_THRESHOLDS = (700, 10, 1000)


def tune_collector() -> None:
    """Set this process's collector thresholds: the run worker, a Celery worker and a test
    materializing in process all load the definitions, which call this."""
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


def build_executor(settings: Settings) -> ExecutorDefinition:
    if settings.wessley_executor == ExecutorKind.IN_PROCESS:
        return in_process_executor
    if not settings.celery_broker_url:
        raise ConfigurationError("WESSLEY_EXECUTOR=celery needs CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0)")
    from dagster_celery import celery_executor

    backend = "CELERY_RESULT_BACKEND" if settings.celery_result_backend else "CELERY_BROKER_URL"
    # Read from the environment by Dagster at run time: a broker password never enters the config.
    return celery_executor.configured({"broker": {"env": "CELERY_BROKER_URL"}, "backend": {"env": backend}})


def embedded_vectors_tags(settings: Settings) -> dict[str, str]:
    """The op tags of a step that opens the vector store: one Celery queue while it is embedded."""
    return {} if settings.qdrant_url else {DAGSTER_CELERY_QUEUE_TAG: EMBEDDED_QUEUE}
