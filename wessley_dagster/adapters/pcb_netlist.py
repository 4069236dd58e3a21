"""A PCB-derived netlist JSON (`{"components": {ref: {value, footprint}}, "nets": {name: [[ref, pad], …]}}`,
as read from a KiCad board's pad→net assignments) plus the schematic PDF's text layer, as a bundle.

Components are placed on the page where the PDF names them and linked to those spans (provenance).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from wessley_dagster.domain.bundle import Bundle, Component, Connection, Manifest, Net, Netlist, Pin, TextSpan
from wessley_dagster.domain.descriptions import designator_kind, natural_key


def convert(netlist_path: Path, spans: list[TextSpan], manifest: Manifest) -> Bundle:
    data = json.loads(netlist_path.read_text())
    spans_by_text: dict[str, list[TextSpan]] = defaultdict(list)
    for span in spans:
        spans_by_text[span.text].append(span)

    pads: dict[str, set[str]] = defaultdict(set)
    nets = []
    for name, members in data["nets"].items():
        connections = [Connection(component_id=ref, pin=str(pad)) for ref, pad in members]
        for conn in connections:
            pads[conn.component_id].add(conn.pin)
        nets.append(Net(name=name, connections=connections))

    components = []
    for ref, info in data["components"].items():
        named = spans_by_text.get(ref, [])
        components.append(
            Component(
                id=ref,
                type=designator_kind(ref),
                value=info.get("value"),
                page=named[0].page if named else 1,
                bbox=named[0].bbox if named else None,
                confidence=1.0,
                pins=[Pin(name=p, number=p) for p in sorted(pads[ref], key=natural_key)],
                span_ids=[s.id for s in named],
                footprint=info.get("footprint"),
                placed_from_text=bool(named),
            )
        )
    return Bundle(manifest=manifest, text_spans=spans, components=components, netlist=Netlist(nets=nets))
