"""Chunks for the vector index: page-aware overlapping text windows, and one description per
component, per net and per page. Every chunk carries the dictionary terms found in it.

Bump CHUNKER_VERSION whenever the output for the same bundle changes: the nightly reconcile
re-materializes partitions whose chunks were made by an older version.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from wessley_dagster.domain.bulk import paused_gc
from wessley_dagster.domain.bundle import Bundle, TextSpan
from wessley_dagster.domain.circuit import Circuit
from wessley_dagster.domain.descriptions import describe_component, describe_net, describe_page
from wessley_dagster.domain.kinds import drawing_only
from wessley_dagster.domain.terms import find_terms

CHUNKER_VERSION = "3"

DENSE_CHARS = 320
DRAWING_ONLY = "drawing-only"


class ChunkType(StrEnum):
    TEXT = "text"
    COMPONENT = "component"
    NET = "net"
    PAGE = "page"


# What gets a dense vector by default (WESSLEY_DENSE_CHUNK_TYPES): what the default search reads.
# Text windows and pages are found by BM25 alone unless a deployment embeds them too.
DENSE_CHUNK_TYPES: tuple[ChunkType, ...] = (ChunkType.COMPONENT, ChunkType.NET)


class ChunkSettings(BaseModel):
    max_chars: int = Field(default=800, gt=0)
    overlap_chars: int = Field(default=120, ge=0)


class Chunk(BaseModel):
    model_config = ConfigDict(use_enum_values=True)  # chunk_type is stored and logged as its string

    chunk_id: str = Field(description="text:p<page>:<n>, component:<ref>, net:<name> or page:<n>")
    chunk_type: ChunkType = Field(description="text, component, net or page")
    text: str = Field(description="what is indexed: BM25 reads it all, the dense embedder its opening")
    page: int | None = Field(default=None, description="the page it is on")
    component_id: str | None = Field(default=None, description="the part a component chunk describes")
    net: str | None = Field(default=None, description="the net a net chunk describes")
    component_ids: list[str] = Field(default_factory=list, description="the parts it names or describes")
    kind: str | None = Field(default=None, description="a component's kind, a net's role")
    span_ids: list[str] = Field(default_factory=list, description="the text spans it covers")
    terms: list[str] = Field(default_factory=list, description="dictionary terms and normalised values in it")
    # A keyword list, as the vector stores filter keywords (Qdrant Edge 0.9 does not match booleans).
    flags: list[str] = Field(
        default_factory=list, description="drawing-only: a logo, fiducial or mounting hole, not offered for a part"
    )

    @property
    def drawing_only(self) -> bool:
        return DRAWING_ONLY in self.flags

    @property
    def dense_text(self) -> str:
        """What the dense embedder reads: a description's opening sentences (what the part or net
        is, its role, what it serves) up to DENSE_CHARS. BM25 reads the whole `text`, pin lists
        included; the embedder's cost grows with the tokens it reads, its recall does not."""
        if self.chunk_type not in (ChunkType.COMPONENT, ChunkType.NET) or len(self.text) <= DENSE_CHARS:
            return self.text
        kept = ""
        for sentence in self.text.split(". "):
            if kept and len(kept) + 2 + len(sentence) > DENSE_CHARS:
                break
            kept = f"{kept}. {sentence}" if kept else sentence
        return kept[:DENSE_CHARS]


def dense_chunks(chunks: Sequence[Chunk], types: Collection[str] = DENSE_CHUNK_TYPES) -> list[Chunk]:
    """The chunks the dense embedder reads; the others are indexed for BM25 only."""
    return [c for c in chunks if c.chunk_type in types]


@dataclass(frozen=True)
class SpanColumns:
    """Text spans column by column: what the text chunker reads. A model per span costs a Python
    object per word; columns let the windows be found with array arithmetic."""

    ids: list[str]
    texts: list[str]
    pages: np.ndarray  # int64
    tops: np.ndarray  # float64, the bbox's y0
    x0s: np.ndarray  # float64

    @classmethod
    def from_spans(cls, spans: Sequence[TextSpan]) -> SpanColumns:
        return cls(
            ids=[s.id for s in spans],
            texts=[s.text for s in spans],
            pages=np.fromiter((s.page for s in spans), np.int64, len(spans)),
            tops=np.fromiter((s.bbox[1] for s in spans), np.float64, len(spans)),
            x0s=np.fromiter((s.bbox[0] for s in spans), np.float64, len(spans)),
        )

    def reading_order(self) -> np.ndarray | None:
        """The order that reads each page top to bottom by line (tops rounded to the point), then
        left to right; None when the spans already are in it (as text layers and OCR give them)."""
        lines = np.round(self.tops)
        dp, dl, dx = np.diff(self.pages), np.diff(lines), np.diff(self.x0s)
        if bool(np.all((dp > 0) | ((dp == 0) & ((dl > 0) | ((dl == 0) & (dx >= 0)))))):
            return None
        return np.lexsort((self.x0s, lines, self.pages))  # stable, like the sort it replaces


def _pieces(units: Sequence[tuple[str, str]], max_chars: int) -> tuple[list[str], list[str]]:
    """(id, text) units as windowable pieces: stripped, empty ones dropped, and an over-long one
    split on whitespace (an unbroken token longer than a chunk is cut) so none exceeds max_chars."""
    ids, texts = [], []
    for unit_id, raw in units:
        text = raw.strip()
        if len(text) <= max_chars:
            if text:
                ids.append(unit_id)
                texts.append(text)
            continue
        current = ""
        for word in text.split():
            while len(word) > max_chars:
                if current:
                    ids.append(unit_id)
                    texts.append(current)
                    current = ""
                ids.append(unit_id)
                texts.append(word[:max_chars])
                word = word[max_chars:]
            if current and len(current) + 1 + len(word) > max_chars:
                ids.append(unit_id)
                texts.append(current)
                current = word
            else:
                current = f"{current} {word}" if current else word
        if current:
            ids.append(unit_id)
            texts.append(current)
    return ids, texts


def _windows(
    texts: list[str], breaks: Sequence[int], max_chars: int, overlap_chars: int, lengths: np.ndarray | None = None
) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Greedy overlapping windows over pieces, never across a break (a page's first piece).

    Returns the windows as (first, end) piece ranges and the prefix sums of piece costs (length +
    the joining space): in the pieces joined by spaces, window (a, b) is joined[P[a] : P[b] - 1].
    Each window is the longest run from its first piece within max_chars; the next starts with
    the trailing pieces of the previous that fit in overlap_chars."""
    count = len(texts)
    prefix = np.zeros(count + 1, np.int64)
    np.cumsum((_lengths(texts) if lengths is None else lengths) + 1, out=prefix[1:])
    at, search = prefix.item, prefix.searchsorted  # scalar access without numpy's per-item objects
    ranges = []
    bounds = [*breaks, count]
    for segment_start, segment_end in itertools.pairwise(bounds):
        start = segment_start
        while start < segment_end:
            end = int(search(at(start) + max_chars + 1, "right")) - 1
            end = segment_end if end >= segment_end else (end if end > start else start + 1)
            ranges.append((start, end))
            if end == segment_end:
                break
            back = int(search(at(end) - overlap_chars, "left"))
            start = back if back > start else start + 1
    return ranges, prefix


def _lengths(texts: list[str]) -> np.ndarray:
    return np.fromiter(map(len, texts), np.int64, len(texts))


def _needs_cleaning(joined: str) -> bool:
    """Whether some span, joined by single spaces, may be empty or have whitespace around it.
    `isprintable` is False for any whitespace but the ASCII space (and for control characters)."""
    return "  " in joined or joined[:1] == " " or joined[-1:] == " " or not joined.isprintable()


def window(units: Sequence[tuple[str, str]], max_chars: int, overlap_chars: int) -> list[tuple[str, list[str]]]:
    """Greedy overlapping windows over (id, text) units, never cutting inside a unit that fits.

    Returns (text, ids of the units it covers). Each window after the first starts with the
    trailing units of the previous one whose length fits in overlap_chars.
    """
    ids, texts = _pieces(units, max_chars)
    ranges, prefix = _windows(texts, [0] if texts else [], max_chars, overlap_chars)
    joined, cut = " ".join(texts), prefix.item
    return [(joined[cut(a) : cut(b) - 1], list(dict.fromkeys(ids[a:b]))) for a, b in ranges]


def text_windows(columns: SpanColumns, settings: ChunkSettings) -> list[tuple[int, str, list[str]]]:
    """Page-aware windows over spans in reading order: (page, text, ids of the spans it covers)."""
    with paused_gc():  # 10^5 small lists, none in a cycle: a third of the time on 50 MB otherwise
        return _text_windows(columns, settings)


def _text_windows(columns: SpanColumns, settings: ChunkSettings) -> list[tuple[int, str, list[str]]]:
    order = columns.reading_order()
    ids, texts, pages = columns.ids, columns.texts, columns.pages
    if order is not None:
        ids, texts, pages = [ids[i] for i in order], [texts[i] for i in order], pages[order]
    lengths = _lengths(texts)
    joined = " ".join(texts)
    long = bool(texts) and int(lengths.max()) > settings.max_chars
    fresh = long  # a split span repeats its id across pieces
    if long or _needs_cleaning(joined):  # rare: spans to strip, drop or split first
        split_ids, texts = _pieces(list(zip(ids, texts, strict=True)), settings.max_chars)
        page_of = dict(zip(ids, pages.tolist(), strict=True))
        ids, pages = split_ids, np.fromiter((page_of[i] for i in split_ids), np.int64, len(split_ids))
        lengths, joined = _lengths(texts), " ".join(texts)
    breaks = [0, *(np.flatnonzero(np.diff(pages)) + 1).tolist()] if texts else []
    ranges, prefix = _windows(texts, breaks, settings.max_chars, settings.overlap_chars, lengths)
    if not ranges:
        return []
    starts, ends = (np.array(side) for side in zip(*ranges, strict=True))
    page_of = pages[starts].tolist()
    first, last = prefix[starts].tolist(), (prefix[ends] - 1).tolist()
    spans = (list(dict.fromkeys(ids[a:b])) for a, b in ranges) if fresh else (ids[a:b] for a, b in ranges)
    return [(p, joined[f:z], s) for p, f, z, s in zip(page_of, first, last, spans, strict=True)]


def text_chunks(spans: Sequence[TextSpan] | SpanColumns, settings: ChunkSettings) -> list[Chunk]:
    columns = spans if isinstance(spans, SpanColumns) else SpanColumns.from_spans(spans)
    chunks: list[Chunk] = []
    number, last_page = 0, None
    for page, text, span_ids in text_windows(columns, settings):
        number = number + 1 if page == last_page else 0
        last_page = page
        chunks.append(
            Chunk(chunk_id=f"text:p{page}:{number}", chunk_type=ChunkType.TEXT, text=text, page=page, span_ids=span_ids)
        )
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
                chunk_type=ChunkType.COMPONENT,
                text=describe_component(circuit, comp),
                page=comp.page,
                component_id=comp.id,
                component_ids=[comp.id],
                kind=circuit.kinds[comp.id],
                span_ids=comp.span_ids,
                flags=[DRAWING_ONLY]
                if drawing_only(circuit.kinds[comp.id], len(circuit.nets_of.get(comp.id, {})))
                else [],
            )
        )
    pages_by_component = {c.id: c.page for c in bundle.components}
    for net in bundle.netlist.nets:
        pages = sorted({pages_by_component[c.component_id] for c in net.connections})
        chunks.append(
            Chunk(
                chunk_id=f"net:{net.name}",
                chunk_type=ChunkType.NET,
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
        chunks.append(Chunk(chunk_id=f"page:{page}", chunk_type=ChunkType.PAGE, text=text, page=page))
    for chunk in chunks:
        chunk.terms = find_terms(chunk.text)
    return chunks
