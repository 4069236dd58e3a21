"""Schedules. Nightly reconcile: re-run partitions whose vector index is missing or was built by
another chunker version or embedding model than the current code uses (an upload found invalid
or over quota is left alone until one of its files changes). Monthly: reset quota usage for the new month."""

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

from wessley_dagster.domain.bundle import split_partition_key
from wessley_dagster.domain.chunking import CHUNKER_VERSION
from wessley_dagster.jobs import ingest_job, quota_reset_job
from wessley_dagster.partitions import ingestion_partitions
from wessley_dagster.resources.embeddings import EmbeddingsResource
from wessley_dagster.resources.metadata import MetadataResource
from wessley_dagster.resources.storage import UploadsResource

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


def _settled(key: str, uploads: UploadsResource, metadata: MetadataResource) -> bool:
    """The upload as it is now was already found invalid or over quota (the sensor's own test)."""
    project_id, job_id = split_partition_key(key)
    return metadata.store.settled_upload(project_id, job_id, uploads.upload_digest(project_id, job_id))


@schedule(job=ingest_job, cron_schedule="0 3 * * *", default_status=DefaultScheduleStatus.RUNNING)
def nightly_reconcile(
    context: ScheduleEvaluationContext,
    embeddings_model: EmbeddingsResource,
    uploads: UploadsResource,
    metadata: MetadataResource,
) -> list[RunRequest] | SkipReason:
    """Backfill every partition whose outputs are missing or outdated, except uploads refused as
    they are (invalid, or over quota: requesting those would bypass the quota)."""
    model = embeddings_model.embedder().model
    day = context.scheduled_execution_time.date().isoformat()
    requests = []
    for key in context.instance.get_dynamic_partitions(ingestion_partitions.name):
        records = context.instance.fetch_materializations(
            AssetRecordsFilter(asset_key=VECTOR_INDEX, asset_partitions=[key]), limit=1
        ).records
        event = records[0].asset_materialization if records else None
        reason = outdated_reason({k: v.value for k, v in event.metadata.items()} if event else None, model)
        if reason and _settled(key, uploads, metadata):
            context.log.info(f"{key}: its upload was refused (invalid or over quota) and is unchanged; not requested")
        elif reason:
            requests.append(RunRequest(partition_key=key, run_key=f"reconcile:{key}:{day}", tags={"reconcile": reason}))
    return requests or SkipReason("every partition is current")


@schedule(job=quota_reset_job, cron_schedule="5 0 1 * *", default_status=DefaultScheduleStatus.RUNNING)
def monthly_quota_reset(context: ScheduleEvaluationContext) -> RunRequest:
    """On the first of each month: every quota whose month has ended starts at zero ingestions."""
    return RunRequest(run_key=f"quota-reset:{context.scheduled_execution_time:%Y-%m}")
