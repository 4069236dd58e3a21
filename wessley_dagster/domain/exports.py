"""Export artifacts of one job: the validated bundle as JSON, spans and chunks as NDJSON, the
graph as GraphML, and the debug overlay passed through."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from wessley_dagster.domain.bundle import Bundle
from wessley_dagster.domain.chunking import Chunk
from wessley_dagster.domain.graph_model import bundle_to_graph, to_graphml


class ExportFile(BaseModel):
    name: str
    data: bytes
    content_type: str


def _ndjson(models: Sequence[BaseModel]) -> bytes:
    return b"".join(m.model_dump_json().encode() + b"\n" for m in models)


def build_exports(bundle: Bundle, chunks: Sequence[Chunk], debug_overlay: bytes | None = None) -> list[ExportFile]:
    files = [
        ExportFile(
            name="bundle.json",
            data=bundle.model_dump_json(indent=1).encode(),
            content_type="application/json",
        ),
        ExportFile(name="text_spans.ndjson", data=_ndjson(bundle.text_spans), content_type="application/x-ndjson"),
        ExportFile(name="chunks.ndjson", data=_ndjson(chunks), content_type="application/x-ndjson"),
        ExportFile(
            name="graph.graphml",
            data=to_graphml(bundle_to_graph(bundle)),
            content_type="application/graphml+xml",
        ),
    ]
    if debug_overlay is not None:
        files.append(ExportFile(name="debug_overlay.png", data=debug_overlay, content_type="image/png"))
    return files
