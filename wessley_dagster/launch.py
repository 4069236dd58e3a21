"""One partition's run of `ingest_job` in this process, as a run worker makes it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import DagsterInstance, JobDefinition, execute_job, reconstructable

from wessley_dagster.definitions import defs

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # warnings only on the console


def resolved_ingest_job() -> JobDefinition:
    """`ingest_job` with the code location's resources and executor (a reconstructable target)."""
    return defs.resolve_job_def("ingest_job")


def run_ingest(instance: DagsterInstance, partition_key: str, tags: Mapping[str, str] | None = None) -> Any:
    """One partition of `ingest_job` on the configured executor: unlike `execute_in_process` it
    keeps no step output in memory. Logs only warnings to the console. Returns the run."""
    with execute_job(
        reconstructable(resolved_ingest_job),
        instance=instance,
        run_config=QUIET,
        tags={"dagster/partition": partition_key, **(tags or {})},
    ) as result:
        return result.dagster_run
