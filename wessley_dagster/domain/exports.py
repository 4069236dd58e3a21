"""Export artifacts of one job beyond the stored parts: the graph as GraphML, and the debug
overlay passed through. The parts themselves are the JSON and NDJSON exports (`text_spans.ndjson`,
`components.ndjson`, `netlist.json`, `chunks.ndjson` beside them), stored once by their own assets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wessley_dagster.domain.bundle import Bundle
from wessley_dagster.domain.graph_model import bundle_to_graph, graphml_chunks


@dataclass(frozen=True)
class ExportFile:
    name: str
    content_type: str
    data: bytes | Iterable[bytes]  # chunks are written as they come, in one pass


def build_exports(bundle: Bundle, debug_overlay: bytes | None = None) -> list[ExportFile]:
    files = [ExportFile("graph.graphml", "application/graphml+xml", graphml_chunks(bundle_to_graph(bundle)))]
    if debug_overlay is not None:
        files.append(ExportFile("debug_overlay.png", "image/png", debug_overlay))
    return files
