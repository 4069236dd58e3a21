"""Ground truth read straight from the source files, independently of the adapters: per net, the
set of (component, pin) pairs; per component, its value. Kept deliberately literal."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import yaml

Truth = tuple[dict[str, set[tuple[str, str]]], dict[str, str | None]]


def kicad_sexpr(path: Path) -> Truth:
    text = path.read_text()
    values = {}
    for block in re.split(r"\(comp \(ref ", text)[1:]:
        ref = block.split(")", 1)[0].strip().strip('"')
        value = re.search(r'\(value ("(?:[^"\\]|\\.)*"|[^\s)]+)\)', block)
        values[ref] = value.group(1).strip('"') if value else None
    nets: dict[str, set[tuple[str, str]]] = {}
    for block in re.split(r"\(net \(code ", text.split("(nets", 1)[1])[1:]:
        name = re.search(r'\(name ("(?:[^"\\]|\\.)*"|[^\s)]+)\)', block).group(1).strip('"')
        nodes = {
            (r.strip('"'), p.strip('"')) for r, p in re.findall(r"\(node \(ref ([^\s)]+)\) \(pin ([^\s)]+)\)", block)
        }
        nets[name or f"<unnamed {len(nets)}>"] = nodes
    return nets, values


def eagle(path: Path) -> Truth:
    sch = ET.parse(path).getroot().find("drawing/schematic")
    packaged, gates = {}, {}
    for lib in sch.iter("library"):
        for ds in lib.iter("deviceset"):
            for dev in ds.iter("device"):
                key = (lib.get("name"), ds.get("name"), dev.get("name", ""))
                packaged[key] = bool(dev.get("package"))
                gates[key] = len({c.get("gate") for c in dev.iter("connect")})
    values, part_gates = {}, {}
    for part in sch.iter("part"):
        key = (part.get("library"), part.get("deviceset"), part.get("device", ""))
        if packaged[key]:
            values[part.get("name")] = part.get("value") or part.get("deviceset")
            part_gates[part.get("name")] = gates[key]
    nets: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for net in sch.iter("net"):
        nets[net.get("name")]
        for ref in net.iter("pinref"):
            part = ref.get("part")
            if part in values:
                pin = f"{ref.get('gate')}.{ref.get('pin')}" if part_gates[part] > 1 else ref.get("pin")
                nets[net.get("name")].add((part, pin))
    return dict(nets), values


def wireviz(path: Path) -> tuple[dict[str, set[tuple[str, str]]], dict[str, str | None], dict[str, str | None]]:
    """(nets by `cable:wire`, connector types, wire colours) for harnesses of connector-cable-connector sets."""
    doc = yaml.safe_load(path.read_text())

    def expand(values):
        out = []
        for v in values:
            if isinstance(v, str) and "-" in v:
                lo, hi = map(int, v.split("-"))
                out += list(range(lo, hi + 1))
            else:
                out.append(v)
        return [str(x) for x in out]

    nets: dict[str, set[tuple[str, str]]] = {}
    colors: dict[str, str | None] = {}
    for cable, spec in doc["cables"].items():
        for w in range(1, spec["wirecount"] + 1):
            nets[f"{cable}:{w}"] = set()
            colors[f"{cable}:{w}"] = spec["colors"][w - 1] if spec.get("colors") else None
        if spec.get("shield"):
            nets[f"{cable}:s"] = set()
            colors[f"{cable}:s"] = "shield"
    for conn_set in doc["connections"]:
        items = [(name, expand(refs)) for item in conn_set for name, refs in item.items()]
        for i, (name, refs) in enumerate(items):
            if name in doc["cables"]:
                for j in (i - 1, i + 1):
                    if 0 <= j < len(items):
                        for wire, pin in zip(refs, items[j][1], strict=True):
                            nets[f"{name}:{wire}"].add((items[j][0], pin))
    return nets, {n: str(c.get("type")) if c and c.get("type") else None for n, c in doc["connectors"].items()}, colors


def pcb_json(path: Path) -> Truth:
    data = json.loads(path.read_text())
    nets = {name: {(ref, str(pad)) for ref, pad in members} for name, members in data["nets"].items()}
    return nets, {ref: info.get("value") for ref, info in data["components"].items()}
