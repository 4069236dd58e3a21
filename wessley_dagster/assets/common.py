"""What every per-job asset shares: its partition, its retry policy, its project/job ids."""

import os
import warnings
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetExecutionContext,
    AssetKey,
    AssetRecordsFilter,
    BackfillPolicy,
    Backoff,
    BetaWarning,
    Jitter,
    RetryPolicy,
)

from wessley_dagster.domain.bundle import split_partition_key
from wessley_dagster.execution import embedded_vectors_tags
from wessley_dagster.partitions import ingestion_partitions
from wessley_dagster.resources.metadata import MetadataResource

# Each asset is one job's data: a backfill of many partitions runs one run per partition (tagged as
# a range of one, which the IO managers and the run sensors read as that partition).
PER_JOB = {
    "partitions_def": ingestion_partitions,
    "backfill_policy": BackfillPolicy.multi_run(1),
    "owners": ["team:data-engineering"],
    "tags": {"domain": "vehicle-schematics"},
}
# Chosen knowingly; its beta notice would otherwise print once per asset at every load.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=BetaWarning)

# A backend that is configured but down fails the step after these retries, never silently. The
# first wait (`WESSLEY_RETRY_DELAY_S`, default 2 s) doubles at each retry.
BACKEND_RETRY = RetryPolicy(
    max_retries=3,
    delay=float(os.environ.get("WESSLEY_RETRY_DELAY_S") or 2),
    backoff=Backoff.EXPONENTIAL,
    jitter=Jitter.PLUS_MINUS,
)

ARTIFACTS_IO = "artifacts_io_manager"
# Qdrant Edge admits one process at a time: the steps that open the vector store share a pool
# (one at a time across runs) and, under Celery, one worker's queue.
EMBEDDED_VECTORS = {"pool": "embedded_vectors", "op_tags": embedded_vectors_tags()}


def job_ids(context: AssetExecutionContext) -> tuple[str, str]:
    return split_partition_key(context.partition_key)


def record_stage(context: AssetExecutionContext, metadata: MetadataResource, stage: str, progress: int) -> None:
    """The job row follows the run, whichever way it was launched: this asset's stage is done."""
    metadata.store.set_stage(*job_ids(context), stage, progress, run_id=context.run_id)


def recorded_metadata(context: AssetExecutionContext | AssetCheckExecutionContext, key: AssetKey) -> dict[str, Any]:
    """The metadata of this partition's latest materialization of `key` (empty if it has none):
    what a step recorded of its output (counts, a dimension), without loading the output."""
    records = context.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=key, asset_partitions=[context.partition_key]), limit=1
    ).records
    made = records[0].asset_materialization if records else None
    return {k: v.value for k, v in made.metadata.items()} if made else {}
