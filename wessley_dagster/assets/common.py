"""What every per-job asset shares: its partition, owners, tags, retry policy, the kinds of the
backends that store it, and the job row's stage."""

from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetExecutionContext,
    AssetKey,
    AssetRecordsFilter,
    Backoff,
    Jitter,
    RetryPolicy,
)

from wessley_dagster.domain.bundle import split_partition_key
from wessley_dagster.domain.jobs import PROGRESS
from wessley_dagster.execution import embedded_vectors_tags
from wessley_dagster.resources.metadata import MetadataResource
from wessley_dagster.resources.profiles import deployment_resources
from wessley_dagster.settings import current_settings

OWNERS = ["team:data-engineering"]
TAGS = {"domain": "vehicle-schematics"}

# A backend that is configured but down fails the step after these retries, never silently. The
# first wait (`WESSLEY_RETRY_DELAY_S`) doubles at each retry.
BACKEND_RETRY = RetryPolicy(
    max_retries=3, delay=current_settings().wessley_retry_delay_s, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
)

ARTIFACTS_IO, GRAPH_IO, VECTOR_IO = "artifacts_io_manager", "graph_io_manager", "vector_io_manager"
# Qdrant Edge admits one process at a time: the steps that open the vector store share a pool
# (one at a time across runs) and, under Celery, one worker's queue.
EMBEDDED_VECTORS_POOL = "embedded_vectors"
EMBEDDED_VECTORS_TAGS = embedded_vectors_tags(current_settings())


def stored_in(*resource_keys: str, also: frozenset[str] = frozenset()) -> set[str]:
    """The kinds the UI shows on an asset: those of the configured IO manager or resources that
    store it (`arcadedb` or `neo4j`, `file`, `s3` or `supabase`, …), and any it names itself."""
    resources = deployment_resources()
    return {*also, *(resources[key].kind for key in resource_keys)}


def job_ids(context: AssetExecutionContext) -> tuple[str, str]:
    return split_partition_key(context.partition_key)


def record_stage(context: AssetExecutionContext, metadata: MetadataResource) -> None:
    """The job row follows the run, whichever way it was launched: this asset's stage is done."""
    stage = context.asset_key.path[-1]
    metadata.store.set_stage(*job_ids(context), stage, PROGRESS[stage], run_id=context.run_id)


def recorded_metadata(context: AssetExecutionContext | AssetCheckExecutionContext, key: AssetKey) -> dict[str, Any]:
    """The metadata of this partition's latest materialization of `key` (empty if it has none):
    what a step recorded of its output (counts, a dimension), without loading the output."""
    records = context.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=key, asset_partitions=[context.partition_key]), limit=1
    ).records
    made = records[0].asset_materialization if records else None
    return {k: v.value for k, v in made.metadata.items()} if made else {}
