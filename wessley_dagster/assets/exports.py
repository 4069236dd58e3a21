"""Export artifacts: JSON, NDJSON and GraphML under `<project>/<job>/exports/`."""

from dagster import AssetExecutionContext, asset

from wessley_dagster.assets.common import ARTIFACTS_IO, BACKEND_RETRY, PER_JOB, job_ids, record_stage
from wessley_dagster.domain.bundle import DEBUG_OVERLAY, Component, Netlist, TextSpan, ValidatedUpload
from wessley_dagster.domain.chunking import Chunk
from wessley_dagster.domain.exports import ExportFile, build_exports
from wessley_dagster.resources.metadata import MetadataResource
from wessley_dagster.resources.storage import UploadsResource


@asset(
    **PER_JOB,
    io_manager_key=ARTIFACTS_IO,
    group_name="export",
    retry_policy=BACKEND_RETRY,
)
def exports(
    context: AssetExecutionContext,
    bundle: ValidatedUpload,
    text_spans: list[TextSpan],
    components: list[Component],
    netlist: Netlist,
    chunks: list[Chunk],
    uploads: UploadsResource,
    metadata: MetadataResource,
) -> list[ExportFile]:
    """bundle.json, text_spans.ndjson, chunks.ndjson, graph.graphml and the debug overlay if uploaded."""
    project_id, job_id = job_ids(context)
    overlay = uploads.object_store().get(f"{project_id}/{job_id}/{DEBUG_OVERLAY}") if bundle.has_debug_overlay else None
    files = build_exports(bundle.assemble(text_spans, components, netlist), chunks, overlay)
    record_stage(context, metadata, "exports", 90)
    return files
