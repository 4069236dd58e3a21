"""Chunks for the vector index: page-aware overlapping text windows, and one description per
component, per net and per page. Every chunk carries the dictionary terms found in it.

Bump CHUNKER_VERSION whenever the output for the same bundle changes: the nightly reconcile
re-materializes partitions whose chunks were made by an older version.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from wessley_dagster.domain.bundle import Bundle, TextSpan
from wessley_dagster.domain.circuit import Circuit
from wessley_dagster.domain.descriptions import describe_component, describe_net, describe_page
from wessley_dagster.domain.terms import find_terms

CHUNKER_VERSION = "2"

ChunkType = Literal["text", "component", "net", "page"]


class ChunkSettings(BaseModel):
    max_chars: int = Field(default=800, gt=0)
    overlap_chars: int = Field(default=120, ge=0)


class Chunk(BaseModel):
    chunk_id: str
    chunk_type: ChunkType
    text: str
    page: int | None = None
    component_id: str | None = None
    net: str | None = None
    component_ids: list[str] = Field(default_factory=list)  # the parts it names or describes
    kind: str | None = None  # a component's kind, a net's role
    span_ids: list[str] = Field(default_factory=list)
    terms: list[str] = Field(default_factory=list)


def _pieces(unit_id: str, text: str, max_chars: int) -> list[tuple[str, str]]:
    """Split one over-long span on whitespace so that no piece exceeds max_chars."""
    if len(text) <= max_chars:
        return [(unit_id, text)]
    pieces, current = [], ""
    for word in text.split():
        while len(word) > max_chars:  # a single unbroken token longer than a chunk
            if current:
                pieces.append((unit_id, current))
                current = ""
            pieces.append((unit_id, word[:max_chars]))
            word = word[max_chars:]
        if current and len(current) + 1 + len(word) > max_chars:
            pieces.append((unit_id, current))
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        pieces.append((unit_id, current))
    return pieces


def window(units: Sequence[tuple[str, str]], max_chars: int, overlap_chars: int) -> list[tuple[str, list[str]]]:
    """Greedy overlapping windows over (id, text) units, never cutting inside a unit that fits.

    Returns (text, ids of the units it covers). Each window after the first starts with the
    trailing units of the previous one whose length fits in overlap_chars.
    """
    pieces: list[tuple[str, str]] = []
    for unit_id, text in units:
        text = text.strip()
        if len(text) > max_chars:
            pieces.extend(_pieces(unit_id, text, max_chars))
        elif text:
            pieces.append((unit_id, text))
    cost = [len(text) + 1 for _, text in pieces]  # each piece with the space that joins it
    windows: list[tuple[str, list[str]]] = []
    start, count = 0, len(pieces)
    while start < count:
        end, size = start + 1, cost[start] - 1
        while end < count and size + cost[end] <= max_chars:
            size += cost[end]
            end += 1
        chunk = pieces[start:end]
        windows.append((" ".join(t for _, t in chunk), list(dict.fromkeys(i for i, _ in chunk))))
        if end == count:
            break
        back, kept = end, 0
        while back - 1 > start and kept + cost[back - 1] <= overlap_chars:
            back -= 1
            kept += cost[back]
        start = back
    return windows


def _reading_order(span: TextSpan) -> tuple[int, float]:
    """Top to bottom by line (tops rounded to the point), then left to right."""
    return (round(span.bbox[1]), span.bbox[0])


def text_chunks(spans: Sequence[TextSpan], settings: ChunkSettings) -> list[Chunk]:
    by_page: dict[int, list[TextSpan]] = defaultdict(list)
    for span in spans:
        by_page[span.page].append(span)
    chunks = []
    for page in sorted(by_page):
        ordered = sorted(by_page[page], key=_reading_order)
        units = [(s.id, s.text) for s in ordered]
        for i, (text, ids) in enumerate(window(units, settings.max_chars, settings.overlap_chars)):
            chunks.append(Chunk(chunk_id=f"text:p{page}:{i}", chunk_type="text", text=text, page=page, span_ids=ids))
    return chunks


def build_chunks(bundle: Bundle, settings: ChunkSettings | None = None) -> list[Chunk]:
    settings = settings or ChunkSettings()
    circuit = Circuit(bundle)
    chunks = text_chunks(bundle.text_spans, settings)
    # A text window names the parts whose provenance spans it covers: every hit points at a part.
    parts_of_span: dict[str, list[str]] = defaultdict(list)
    for comp in bundle.components:
        for span_id in comp.span_ids:
            parts_of_span[span_id].append(comp.id)
    for chunk in chunks:
        chunk.component_ids = list(dict.fromkeys(c for s in chunk.span_ids for c in parts_of_span.get(s, ())))
    for comp in bundle.components:
        chunks.append(
            Chunk(
                chunk_id=f"component:{comp.id}",
                chunk_type="component",
                text=describe_component(circuit, comp),
                page=comp.page,
                component_id=comp.id,
                component_ids=[comp.id],
                kind=circuit.kinds[comp.id],
                span_ids=comp.span_ids,
            )
        )
    pages_by_component = {c.id: c.page for c in bundle.components}
    for net in bundle.netlist.nets:
        pages = sorted({pages_by_component[c.component_id] for c in net.connections})
        chunks.append(
            Chunk(
                chunk_id=f"net:{net.name}",
                chunk_type="net",
                text=describe_net(circuit, net),
                page=pages[0] if pages else None,
                net=net.name,
                component_ids=list(dict.fromkeys(c.component_id for c in net.connections)),
                kind=circuit.roles[net.name].kind,
            )
        )
    vehicle = bundle.manifest.vehicle
    vehicle_text = f"{vehicle.year} {vehicle.make} {vehicle.model}"
    for page in sorted({s.page for s in bundle.text_spans} | set(circuit.by_page)):
        text = describe_page(circuit, page, bundle.manifest.source_document, vehicle_text)
        chunks.append(Chunk(chunk_id=f"page:{page}", chunk_type="page", text=text, page=page))
    for chunk in chunks:
        chunk.terms = find_terms(chunk.text)
    return chunks
