"""How runs execute, chosen from the settings here and only here.

- `WESSLEY_EXECUTOR=in_process` (default): every step of a run in the run's own process. On a
  small machine a process per step cost more than the steps.
- `WESSLEY_EXECUTOR=celery`: each step is a task on Dagster's Celery executor (`dagster-celery`),
  on the broker `CELERY_BROKER_URL` (e.g. `redis://host:6379/0`), results on
  `CELERY_RESULT_BACKEND` (default: the broker). Steps that open an embedded vector store, which
  admits one process, carry the `dagster-celery/queue` tag of one queue (`EMBEDDED_QUEUE`) that a
  single worker serves; with a Qdrant server configured, every step may run on any worker.
"""

from __future__ import annotations

from dagster import ExecutorDefinition, in_process_executor
from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG

from wessley_dagster.settings import ConfigurationError, ExecutorKind, Settings

EMBEDDED_QUEUE = "embedded"


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
