"""Text spans that name a designator, in the forms drawings and text layers give them."""

from wessley_dagster.adapters.source import link_provenance
from wessley_dagster.domain.bundle import Component, TextSpan


def span(sid: str, text: str) -> TextSpan:
    return TextSpan(id=sid, text=text, page=2, bbox=(1, 2, 3, 4), confidence=1.0, engine="pdf-text")


def test_every_form_of_a_ref_links_to_its_part():
    parts = [Component(id=ref, type="", page=1) for ref in ("R12", "R13", "U3", "C49", "R53", "D1", "U3A0")]
    spans = [
        span("a", "R12,R13"),
        span("b", "(U3A)"),
        span("c", "2kR53"),
        span("d", "94C"),
        span("e", "MCU-D1"),
        span("f", "D1:"),
        span("g", "R12"),
    ]
    rate = link_provenance(parts, spans)
    linked = {c.id: c.span_ids for c in parts}
    assert linked == {"R12": ["a", "g"], "R13": ["a"], "U3": ["b"], "C49": ["d"], "R53": ["c"], "D1": ["f"], "U3A0": []}
    assert rate == 6 / 7
    assert parts[0].page == 2 and parts[0].bbox == (1, 2, 3, 4)  # unplaced parts sit where they are named
