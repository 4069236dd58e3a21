"""Export artifacts under `<project>/<job>/exports/`: the GraphML graph and the debug overlay.
The JSON and NDJSON exports are the parts as their own assets stored them: nothing is copied."""

from dagster import AssetExecutionContext, asset

from wessley_dagster.assets.common import (
    ARTIFACTS_IO,
    BACKEND_RETRY,
    OWNERS,
    TAGS,
    job_ids,
    record_stage,
    stored_in,
)
from wessley_dagster.domain.bundle import DEBUG_OVERLAY, Component, Netlist, TextSpan, ValidatedUpload
from wessley_dagster.domain.exports import ExportFile, build_exports
from wessley_dagster.partitions import ingestion_partitions
from wessley_dagster.resources.metadata import MetadataResource
from wessley_dagster.resources.storage import UploadsResource


@asset(
    group_name="export",
    kinds=stored_in(ARTIFACTS_IO),
    io_manager_key=ARTIFACTS_IO,
    partitions_def=ingestion_partitions,
    owners=OWNERS,
    tags=TAGS,
    retry_policy=BACKEND_RETRY,
)
def exports(
    context: AssetExecutionContext,
    bundle: ValidatedUpload,
    text_spans: list[TextSpan],
    components: list[Component],
    netlist: Netlist,
    uploads: UploadsResource,
    metadata: MetadataResource,
) -> list[ExportFile]:
    """graph.graphml (written as it is generated) and the debug overlay if one was uploaded."""
    project_id, job_id = job_ids(context)
    overlay = uploads.object_store().get(f"{project_id}/{job_id}/{DEBUG_OVERLAY}") if bundle.has_debug_overlay else None
    files = build_exports(bundle.assemble(text_spans, components, netlist), overlay)
    record_stage(context, metadata)
    return files
