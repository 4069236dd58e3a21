"""Nightly reconcile: re-run partitions whose vector index is missing or was built by another
chunker version or embedding model than the current code uses."""

from collections.abc import Mapping

from dagster import (
    AssetKey,
    AssetRecordsFilter,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from wessley_dagster.domain.chunking import CHUNKER_VERSION
from wessley_dagster.jobs import ingest_job
from wessley_dagster.partitions import ingestion_partitions
from wessley_dagster.resources.embeddings import EmbeddingsResource

VECTOR_INDEX = AssetKey("vector_index")


def outdated_reason(metadata: Mapping[str, object] | None, embedding_model: str) -> str | None:
    """Why a partition's vector index needs rebuilding, or None if it is current."""
    if metadata is None:
        return "never materialized"
    if metadata.get("chunker_version") != CHUNKER_VERSION:
        return f"chunker {metadata.get('chunker_version')} -> {CHUNKER_VERSION}"
    if metadata.get("embedding_model") != embedding_model:
        return f"embedding model {metadata.get('embedding_model')} -> {embedding_model}"
    return None


@schedule(job=ingest_job, cron_schedule="0 3 * * *", default_status=DefaultScheduleStatus.RUNNING)
def nightly_reconcile(
    context: ScheduleEvaluationContext, embeddings_model: EmbeddingsResource
) -> list[RunRequest] | SkipReason:
    """Backfill every partition whose outputs are missing or outdated."""
    model = embeddings_model.embedder().model
    day = context.scheduled_execution_time.date().isoformat()
    requests = []
    for key in context.instance.get_dynamic_partitions(ingestion_partitions.name):
        records = context.instance.fetch_materializations(
            AssetRecordsFilter(asset_key=VECTOR_INDEX, asset_partitions=[key]), limit=1
        ).records
        event = records[0].asset_materialization if records else None
        reason = outdated_reason({k: v.value for k, v in event.metadata.items()} if event else None, model)
        if reason:
            requests.append(RunRequest(partition_key=key, run_key=f"reconcile:{key}:{day}", tags={"reconcile": reason}))
    return requests or SkipReason("every partition is current")
