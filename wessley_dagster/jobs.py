"""The jobs: ingestion of one partition, and the monthly reset of quota usage."""

from dagster import AssetSelection, OpExecutionContext, define_asset_job, job, op

from wessley_dagster.resources.metadata import MetadataResource

ingest_job = define_asset_job(
    "ingest_job",
    selection=AssetSelection.groups("ingest", "index", "export", "record"),
    description="Validate one uploaded bundle and load it into the graph, the vector index, storage and metadata.",
)


@op
def reset_monthly_usage(context: OpExecutionContext, metadata: MetadataResource) -> int:
    """Every user whose quota month has ended starts the new one at zero ingestions."""
    reset = metadata.store.reset_monthly_usage()
    context.log.info(f"{reset} quota rows reset for the new month")
    return reset


@job(description="Reset each user's monthly ingestion count when their quota month ends.")
def quota_reset_job() -> None:
    reset_monthly_usage()
