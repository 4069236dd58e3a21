"""The bundle gate: the whole upload read from the uploads location and checked against the
contract (every file, and the references between them) before anything downstream runs. It keeps
the manifest and each file's digest; the parts are read once, by their own assets."""

from dagster import AssetExecutionContext, Failure, MetadataValue, asset

from wessley_dagster.assets.common import (
    ARTIFACTS_IO,
    BACKEND_RETRY,
    OWNERS,
    TAGS,
    job_ids,
    record_stage,
    stored_in,
)
from wessley_dagster.domain.bundle import BundleError, ValidatedUpload, validate_upload
from wessley_dagster.domain.jobs import JobStatus
from wessley_dagster.partitions import ingestion_partitions
from wessley_dagster.resources.metadata import MetadataResource
from wessley_dagster.resources.storage import UploadsResource
from wessley_dagster.retries import retry_only_transient


@asset(
    group_name="ingest",
    kinds=stored_in(ARTIFACTS_IO, also=frozenset({"pydantic"})),
    io_manager_key=ARTIFACTS_IO,
    partitions_def=ingestion_partitions,
    owners=OWNERS,
    tags=TAGS,
    retry_policy=BACKEND_RETRY,
)
def bundle(context: AssetExecutionContext, uploads: UploadsResource, metadata: MetadataResource) -> ValidatedUpload:
    """The upload `<project>/<job>/` validated whole; bad input fails with file, place and problem."""
    project_id, job_id = job_ids(context)
    store = uploads.object_store()
    # The uploads store down is retried; a bad bundle or a symlink in the upload is not.
    with retry_only_transient("bundle"):
        try:
            result = validate_upload(
                lambda name: store.get(f"{project_id}/{job_id}/{name}"),
                expected_key=context.partition_key,
                limits=uploads.limits(),
            )
        except BundleError as exc:
            # The same bytes fail the same way: the job (if the sensor queued it) is marked invalid
            # with the upload's digest, so it is not requested again until a file changes.
            # Nothing downstream runs or writes.
            metadata.store.mark_invalid(project_id, job_id, str(exc), uploads.upload_digest(project_id, job_id))
            raise Failure(
                description=f"invalid bundle {context.partition_key}: {exc}",
                metadata={"file": exc.file, "where": exc.where, "problem": exc.problem},
                allow_retries=False,
            ) from exc
    metadata.store.register_job(result.manifest, status=JobStatus.RUNNING, stage="bundle")
    record_stage(context, metadata)
    context.add_output_metadata(
        {
            **result.counts,
            "vehicle": MetadataValue.json(result.manifest.vehicle.model_dump(mode="json")),
        }
    )
    return result
