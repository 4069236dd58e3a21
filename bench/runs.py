"""Runs of `ingest_job` as a run worker makes them: `execute_job` on a reconstructable job, which
keeps no step output in memory (`execute_in_process` holds every output until the run ends)."""

from __future__ import annotations

from typing import Any

from dagster import DagsterInstance, JobDefinition, execute_job, reconstructable

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def ingest_job() -> JobDefinition:
    from wessley_dagster.definitions import defs

    return defs.resolve_job_def("ingest_job")


def run_ingest(instance: DagsterInstance, partition_key: str, tags: dict[str, str] | None = None) -> Any:
    """One partition of `ingest_job` in this process, on the code location's own resources."""
    with execute_job(
        reconstructable(ingest_job),
        instance=instance,
        run_config=QUIET,
        tags={"dagster/partition": partition_key, **(tags or {})},
    ) as result:
        return result.dagster_run
