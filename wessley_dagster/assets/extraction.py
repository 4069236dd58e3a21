"""The bundle's three parts as assets of their own: text spans, components, netlist."""

from dagster import AssetExecutionContext, asset

from wessley_dagster.assets.common import ARTIFACTS_IO, PER_JOB
from wessley_dagster.domain.bundle import Bundle, Component, Netlist, TextSpan

_COMMON = {**PER_JOB, "io_manager_key": ARTIFACTS_IO, "group_name": "ingest"}


@asset(**_COMMON)
def text_spans(context: AssetExecutionContext, bundle: Bundle) -> list[TextSpan]:
    """OCR / PDF text spans with page, bbox, confidence and engine."""
    pages = sorted({s.page for s in bundle.text_spans})
    context.add_output_metadata({"count": len(bundle.text_spans), "pages": len(pages)})
    return bundle.text_spans


@asset(**_COMMON)
def components(context: AssetExecutionContext, bundle: Bundle) -> list[Component]:
    """Components with their pins and the spans they were read from."""
    pins = sum(len(c.pins) for c in bundle.components)
    context.add_output_metadata({"count": len(bundle.components), "declared_pins": pins})
    return bundle.components


@asset(**_COMMON)
def netlist(context: AssetExecutionContext, bundle: Bundle) -> Netlist:
    """Nets with their component-pin connections, plus junction/segment topology when present."""
    connections = sum(len(n.connections) for n in bundle.netlist.nets)
    context.add_output_metadata(
        {
            "nets": len(bundle.netlist.nets),
            "connections": connections,
            "junctions": len(bundle.netlist.junctions),
        }
    )
    return bundle.netlist
