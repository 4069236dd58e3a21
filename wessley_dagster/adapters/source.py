"""What every adapter produces, and how it becomes a bundle: components, nets and (optional)
text spans and topology, plus provenance (components linked to the spans that name them)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from wessley_dagster.domain.bundle import (
    MANIFEST,
    Bundle,
    BundleError,
    Component,
    Junction,
    LineSegment,
    Manifest,
    Net,
    Netlist,
    TextSpan,
    validate_model,
)
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


_PUNCTUATION = "()[]{},;:*'\"`"
_UNIT_OF = re.compile(r"^(?P<ref>[A-Z]+[0-9]+)(?P<unit>[A-H])$")  # a multi-unit symbol's unit: U3A
_VALUE_THEN_REF = re.compile(r"^\d+(?:[.,]\d+)?[a-zA-Zµ]{0,3}(?P<ref>[A-Z]+[0-9]+)$")  # "2kR53": value glued on
_REVERSED = re.compile(r"^[0-9]+[A-Z]+$")  # "94C": a rotated "C49" read backwards


def _named_refs(text: str, refs: set[str]) -> list[str]:
    """The designators a span's text names: itself, a list ("R12,R13"), a unit of a multi-unit
    part ("U3A"), a ref with its value glued on ("2kR53"), or a rotated ref read backwards."""
    found = []
    for token in re.split(r"[,/;\s]+", text.strip()):
        token = token.strip(_PUNCTUATION)
        if not token:
            continue
        if token in refs:
            found.append(token)
            continue
        for pattern in (_UNIT_OF, _VALUE_THEN_REF):
            match = pattern.match(token)
            if match and match["ref"] in refs:
                found.append(match["ref"])
                break
        else:
            if _REVERSED.match(token) and token[::-1] in refs:
                found.append(token[::-1])
    return found


def link_provenance(components: list[Component], spans: list[TextSpan]) -> float:
    """Attach the spans that name a component's designator; place unplaced components there.

    Returns the match rate: the share of components named by at least one span.
    """
    refs = {c.id for c in components}
    by_ref: dict[str, list[TextSpan]] = defaultdict(list)
    for span in spans:
        for ref in _named_refs(span.text, refs):
            by_ref[ref].append(span)
    matched = 0
    for comp in components:
        named = by_ref.get(comp.id, [])
        if named:
            matched += 1
            known = set(comp.span_ids)
            comp.span_ids.extend(dict.fromkeys(s.id for s in named if s.id not in known))
            if comp.bbox is None:
                comp.page, comp.bbox = named[0].page, named[0].bbox
    return matched / len(components) if components else 0.0


def to_bundle(design: SourceDesign, job: JobInfo, extra_spans: list[TextSpan] | None = None) -> tuple[Bundle, float]:
    """The bundle for a design (with text spans from a PDF, if given) and its provenance match rate."""
    spans = design.text_spans + (extra_spans or [])
    for comp in design.components:
        comp.type = component_kind(comp)
    rate = link_provenance(design.components, spans)
    # Validated as a manifest file would be: bad ids or a bad year name the field.
    manifest = validate_model(
        MANIFEST,
        Manifest,
        {
            "project_id": job.project_id,
            "job_id": job.job_id,
            "user_id": job.user_id,
            "vehicle": {"make": job.make, "model": job.model, "year": job.year},
            "source_document": design.source_document,
            "page_count": max([design.page_count, *(s.page for s in spans)]),
            "created_at": datetime.now(UTC),
            "provenance_match_rate": round(rate, 4),
        },
    )
    netlist = Netlist(nets=design.nets, junctions=design.junctions, line_segments=design.line_segments)
    return Bundle(manifest=manifest, text_spans=spans, components=design.components, netlist=netlist), rate
