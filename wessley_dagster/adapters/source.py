"""What every adapter produces, and how it becomes a bundle: components, nets and (optional)
text spans and topology, plus provenance (components linked to the spans that name them)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from wessley_dagster.domain.bundle import (
    Bundle,
    BundleError,
    Component,
    Junction,
    LineSegment,
    Manifest,
    Net,
    Netlist,
    TextSpan,
    Vehicle,
)  # fmt: skip
from wessley_dagster.domain.circuit import component_kind


def parse_xml(text: str, file: str) -> ET.Element:
    """An XML document's root; a parse error names the file, line and column."""
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        line, column = exc.position
        raise BundleError(file, f"line {line} column {column + 1}", f"invalid XML: {exc}") from exc


@dataclass
class SourceDesign:
    """A design read from a source file, before it is a bundle."""

    source_document: str
    components: list[Component]
    nets: list[Net]
    text_spans: list[TextSpan] = field(default_factory=list)
    junctions: list[Junction] = field(default_factory=list)
    line_segments: list[LineSegment] = field(default_factory=list)
    page_count: int = 1


@dataclass(frozen=True)
class JobInfo:
    project_id: str
    job_id: str
    user_id: str = "importer"
    make: str = "unknown"
    model: str = "unknown"
    year: int = field(default_factory=lambda: datetime.now(UTC).year)


def link_provenance(components: list[Component], spans: list[TextSpan]) -> float:
    """Attach the spans whose text is a component's designator; place unplaced components there.

    Returns the match rate: the share of components named by at least one span.
    """
    by_text: dict[str, list[TextSpan]] = defaultdict(list)
    for span in spans:
        by_text[span.text.strip()].append(span)
    matched = 0
    for comp in components:
        named = by_text.get(comp.id, [])
        if named:
            matched += 1
            known = set(comp.span_ids)
            comp.span_ids.extend(s.id for s in named if s.id not in known)
            if comp.bbox is None:
                comp.page, comp.bbox = named[0].page, named[0].bbox
    return matched / len(components) if components else 0.0


def to_bundle(design: SourceDesign, job: JobInfo, extra_spans: list[TextSpan] | None = None) -> tuple[Bundle, float]:
    """The bundle for a design (with text spans from a PDF, if given) and its provenance match rate."""
    spans = design.text_spans + (extra_spans or [])
    for comp in design.components:
        comp.type = component_kind(comp)
    rate = link_provenance(design.components, spans)
    manifest = Manifest(
        project_id=job.project_id,
        job_id=job.job_id,
        user_id=job.user_id,
        vehicle=Vehicle(make=job.make, model=job.model, year=job.year),
        source_document=design.source_document,
        page_count=max([design.page_count, *(s.page for s in spans)]),
        created_at=datetime.now(UTC),
        provenance_match_rate=round(rate, 4),
    )
    netlist = Netlist(nets=design.nets, junctions=design.junctions, line_segments=design.line_segments)
    return Bundle(manifest=manifest, text_spans=spans, components=design.components, netlist=netlist), rate
