"""The bundle's three parts as assets of their own: text spans, components, netlist. Each reads
its file from the upload the `bundle` asset validated (the same bytes, by digest) and is the one
stored copy of that part."""

from dagster import AssetExecutionContext, Failure, asset

from wessley_dagster.assets.common import ARTIFACTS_IO, BACKEND_RETRY, PER_JOB, job_ids
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
from wessley_dagster.resources.storage import UploadsResource
from wessley_dagster.retries import retry_only_transient

_COMMON = {**PER_JOB, "io_manager_key": ARTIFACTS_IO, "group_name": "ingest", "retry_policy": BACKEND_RETRY}


def _read(context: AssetExecutionContext, name: str, bundle: ValidatedUpload, uploads: UploadsResource):
    project_id, job_id = job_ids(context)
    with retry_only_transient(name):
        raw = uploads.object_store().get(f"{project_id}/{job_id}/{name}")
        try:
            return read_part(name, raw, bundle, uploads.limits())
        except BundleError as exc:
            raise Failure(description=f"{context.partition_key}: {exc}", allow_retries=False) from exc


@asset(**_COMMON)
def text_spans(context: AssetExecutionContext, bundle: ValidatedUpload, uploads: UploadsResource) -> list[TextSpan]:
    """OCR / PDF text spans with page, bbox, confidence and engine."""
    spans: list[TextSpan] = _read(context, TEXT_SPANS, bundle, uploads)
    context.add_output_metadata({**table_metadata(spans, TextSpan), "pages": len({s.page for s in spans})})
    return spans


@asset(**_COMMON)
def components(context: AssetExecutionContext, bundle: ValidatedUpload, uploads: UploadsResource) -> list[Component]:
    """Components with their pins and the spans they were read from."""
    parts: list[Component] = _read(context, COMPONENTS, bundle, uploads)
    pins = sum(len(c.pins) for c in parts)
    context.add_output_metadata({**table_metadata(parts, Component), "declared_pins": pins})
    return parts


@asset(**_COMMON)
def netlist(context: AssetExecutionContext, bundle: ValidatedUpload, uploads: UploadsResource) -> Netlist:
    """Nets with their component-pin connections, plus junction/segment topology when present."""
    nets: Netlist = _read(context, NETLIST, bundle, uploads)
    connections = sum(len(n.connections) for n in nets.nets)
    context.add_output_metadata(
        {**table_metadata(nets.nets, Net), "connections": connections, "junctions": len(nets.junctions)}
    )
    return nets
