"""The bundle's three parts as assets of their own: text spans, components, netlist. Each reads
its file from the upload the `bundle` asset validated (the same bytes, by digest) and is the one
stored copy of that part."""

from dagster import AssetExecutionContext, Failure, asset

from wessley_dagster.assets.common import (
    ARTIFACTS_IO,
    BACKEND_RETRY,
    OWNERS,
    TAGS,
    job_ids,
    record_stage,
    stored_in,
)
from wessley_dagster.assets.table_metadata import table_metadata
from wessley_dagster.domain.bundle import (
    COMPONENTS,
    NETLIST,
    TEXT_SPANS,
    BundleError,
    Component,
    Net,
    Netlist,
    TextSpan,
    ValidatedUpload,
    read_part,
)
from wessley_dagster.partitions import ingestion_partitions
from wessley_dagster.resources.metadata import MetadataResource
from wessley_dagster.resources.storage import UploadsResource
from wessley_dagster.retries import retry_only_transient


def _read(
    context: AssetExecutionContext,
    name: str,
    bundle: ValidatedUpload,
    uploads: UploadsResource,
    metadata: MetadataResource,
):
    project_id, job_id = job_ids(context)
    with retry_only_transient(name):
        raw = uploads.object_store().get(f"{project_id}/{job_id}/{name}")
        try:
            part = read_part(name, raw, bundle, uploads.limits())
        except BundleError as exc:
            raise Failure(description=f"{context.partition_key}: {exc}", allow_retries=False) from exc
    record_stage(context, metadata)
    return part


@asset(
    group_name="ingest",
    kinds=stored_in(ARTIFACTS_IO),
    io_manager_key=ARTIFACTS_IO,
    partitions_def=ingestion_partitions,
    owners=OWNERS,
    tags=TAGS,
    retry_policy=BACKEND_RETRY,
)
def text_spans(
    context: AssetExecutionContext, bundle: ValidatedUpload, uploads: UploadsResource, metadata: MetadataResource
) -> list[TextSpan]:
    """OCR / PDF text spans with page, bbox, confidence and engine."""
    spans: list[TextSpan] = _read(context, TEXT_SPANS, bundle, uploads, metadata)
    context.add_output_metadata({**table_metadata(spans, TextSpan), "pages": len({s.page for s in spans})})
    return spans


@asset(
    group_name="ingest",
    kinds=stored_in(ARTIFACTS_IO),
    io_manager_key=ARTIFACTS_IO,
    partitions_def=ingestion_partitions,
    owners=OWNERS,
    tags=TAGS,
    retry_policy=BACKEND_RETRY,
)
def components(
    context: AssetExecutionContext, bundle: ValidatedUpload, uploads: UploadsResource, metadata: MetadataResource
) -> list[Component]:
    """Components with their pins and the spans they were read from."""
    parts: list[Component] = _read(context, COMPONENTS, bundle, uploads, metadata)
    pins = sum(len(c.pins) for c in parts)
    context.add_output_metadata({**table_metadata(parts, Component), "declared_pins": pins})
    return parts


@asset(
    group_name="ingest",
    kinds=stored_in(ARTIFACTS_IO),
    io_manager_key=ARTIFACTS_IO,
    partitions_def=ingestion_partitions,
    owners=OWNERS,
    tags=TAGS,
    retry_policy=BACKEND_RETRY,
)
def netlist(
    context: AssetExecutionContext, bundle: ValidatedUpload, uploads: UploadsResource, metadata: MetadataResource
) -> Netlist:
    """Nets with their component-pin connections, plus junction/segment topology when present."""
    nets: Netlist = _read(context, NETLIST, bundle, uploads, metadata)
    connections = sum(len(n.connections) for n in nets.nets)
    context.add_output_metadata(
        {**table_metadata(nets.nets, Net), "connections": connections, "junctions": len(nets.junctions)}
    )
    return nets
