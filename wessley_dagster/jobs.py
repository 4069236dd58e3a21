"""The ingestion job: every per-job asset (and its checks) for one partition."""

from dagster import AssetSelection, define_asset_job

from wessley_dagster.partitions import ingestion_partitions

ingest_job = define_asset_job(
    "ingest_job",
    selection=AssetSelection.groups("ingest", "index", "export", "record"),
    partitions_def=ingestion_partitions,
    description="Validate one uploaded bundle and load it into the graph, the vector index, storage and metadata.",
)
