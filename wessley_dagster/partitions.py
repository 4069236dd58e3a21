"""One dynamic partition per ingestion job, keyed `<project_id>__<job_id>` (project ids may not
contain `__`, so the key splits unambiguously; see domain.bundle.split_partition_key)."""

from collections.abc import Mapping

from dagster import DynamicPartitionsDefinition

ingestion_partitions = DynamicPartitionsDefinition(name="ingestion_jobs")


def run_partition(tags: Mapping[str, str]) -> str | None:
    """The one partition a run is for: its `dagster/partition`, or a range of one partition (a run
    launched for a range; backfills run one partition per run, Dagster's default)."""
    if key := tags.get("dagster/partition"):
        return key
    start, end = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
    return start if start and start == end else None
