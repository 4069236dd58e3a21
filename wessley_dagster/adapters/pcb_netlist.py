"""A PCB-derived netlist JSON: `{"components": {ref: {value, footprint}}, "nets": {name: [[ref, pad], …]}}`,
as read from a KiCad board's pad→net assignments. Pins are the pads the nets use."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from wessley_dagster.adapters.source import SourceDesign
from wessley_dagster.domain.bundle import BundleError, Component, Connection, Net, Pin
from wessley_dagster.domain.descriptions import natural_key


def read_pcb_netlist(path: Path) -> SourceDesign:
    try:
        data = json.loads(path.read_text())
        comps, net_map = data["components"], data["nets"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise BundleError(path.name, "$", f"not a PCB netlist JSON: {exc}") from exc
    pads: dict[str, set[str]] = defaultdict(set)
    nets = []
    for name, members in net_map.items():
        for i, member in enumerate(members):
            if member[0] not in comps:
                raise BundleError(path.name, f"$.nets[{name!r}][{i}]", f"unknown component {member[0]!r}")
            pads[member[0]].add(str(member[1]))
        nets.append(Net(name=name, connections=[Connection(component_id=ref, pin=str(pad)) for ref, pad in members]))
    components = [
        Component(
            id=ref,
            type="",  # filled by to_bundle from everything the source says
            value=info.get("value"),
            page=1,
            confidence=1.0,
            pins=[Pin(name=p, number=p) for p in sorted(pads[ref], key=natural_key)],
            footprint=info.get("footprint"),
        )
        for ref, info in comps.items()
    ]
    return SourceDesign(source_document=path.name, components=components, nets=nets)
