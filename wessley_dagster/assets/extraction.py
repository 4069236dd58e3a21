"""The bundle's three parts as assets of their own: text spans, components, netlist. Each reads
its file from the upload the `bundle` asset validated (the same bytes, by digest) and is the one
stored copy of that part."""

from dagster import AssetExecutionContext, Failure, asset

from wessley_dagster.assets.common import ARTIFACTS_IO, BACKEND_RETRY, PER_JOB, job_ids, record_stage
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
from wessley_dagster.resources.metadata import MetadataResource
from wessley_dagster.resources.storage import UploadsResource
from wessley_dagster.retries import retry_only_transient

_COMMON = {**PER_JOB, "io_manager_key": ARTIFACTS_IO, "group_name": "ingest", "retry_policy": BACKEND_RETRY}


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
    record_stage(context, metadata, context.asset_key.path[-1], 20)
    return part


@asset(**_COMMON)
def text_spans(
    context: AssetExecutionContext, bundle: ValidatedUpload, uploads: UploadsResource, metadata: MetadataResource
) -> list[TextSpan]:
    """OCR / PDF text spans with page, bbox, confidence and engine."""
    spans: list[TextSpan] = _read(context, TEXT_SPANS, bundle, uploads, metadata)
    context.add_output_metadata({**table_metadata(spans, TextSpan), "pages": len({s.page for s in spans})})
    return spans


@asset(**_COMMON)
def components(
    context: AssetExecutionContext, bundle: ValidatedUpload, uploads: UploadsResource, metadata: MetadataResource
) -> list[Component]:
    """Components with their pins and the spans they were read from."""
    parts: list[Component] = _read(context, COMPONENTS, bundle, uploads, metadata)
    pins = sum(len(c.pins) for c in parts)
    context.add_output_metadata({**table_metadata(parts, Component), "declared_pins": pins})
    return parts


@asset(**_COMMON)
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
