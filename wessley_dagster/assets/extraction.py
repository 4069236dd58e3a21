"""The bundle's three parts as assets of their own: text spans, components, netlist."""

from dagster import AssetExecutionContext, asset

from wessley_dagster.assets.common import ARTIFACTS_IO, PER_JOB
from wessley_dagster.assets.table_metadata import table_metadata
from wessley_dagster.domain.bundle import Bundle, Component, Net, Netlist, TextSpan

_COMMON = {**PER_JOB, "io_manager_key": ARTIFACTS_IO, "group_name": "ingest"}


@asset(**_COMMON)
def text_spans(context: AssetExecutionContext, bundle: Bundle) -> list[TextSpan]:
    """OCR / PDF text spans with page, bbox, confidence and engine."""
    pages = {s.page for s in bundle.text_spans}
    context.add_output_metadata({**table_metadata(bundle.text_spans, TextSpan), "pages": len(pages)})
    return bundle.text_spans


@asset(**_COMMON)
def components(context: AssetExecutionContext, bundle: Bundle) -> list[Component]:
    """Components with their pins and the spans they were read from."""
    pins = sum(len(c.pins) for c in bundle.components)
    context.add_output_metadata({**table_metadata(bundle.components, Component), "declared_pins": pins})
    return bundle.components


@asset(**_COMMON)
def netlist(context: AssetExecutionContext, bundle: Bundle) -> Netlist:
    """Nets with their component-pin connections, plus junction/segment topology when present."""
    connections = sum(len(n.connections) for n in bundle.netlist.nets)
    context.add_output_metadata(
        {
            **table_metadata(bundle.netlist.nets, Net),  # one row per net
            "connections": connections,
            "junctions": len(bundle.netlist.junctions),
        }
    )
    return bundle.netlist
