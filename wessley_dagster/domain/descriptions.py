"""Descriptions of components, nets and pages written for retrieval and display.

A component says what it is (kind and what that kind is for, the source's description, value
with normalised units, part and footprint), what it does here (its role from the topology),
where it is (sheet, page), its pins by function with the nets they reach, and its neighbouring
parts. A net says its role (ground, power with its voltage, bus, signal) and every pin on it with
that pin's function and part. A page lists its sheet and the parts on it by kind.
"""

from __future__ import annotations

import re
from collections import defaultdict

from wessley_dagster.domain.bundle import Component, Net
from wessley_dagster.domain.circuit import Circuit
from wessley_dagster.domain.identifiers import spelled_out
from wessley_dagster.domain.kinds import KIND_PURPOSE
from wessley_dagster.domain.terms import normalize_value

_MAX_PINS = 40  # a connector or MCU lists its first pins; the net chunks hold the rest
_MAX_MEMBERS = 40


def _value_text(component: Component) -> str | None:
    if not component.value:
        return None
    normalised = normalize_value(component.value)
    if normalised and normalised.replace(" ", "") != component.value.replace(" ", ""):
        return f"{normalised} ({component.value})"
    return component.value


def _shortened(text: str, limit: int = 160) -> str:
    """Library descriptions can run to paragraphs of boilerplate; the opening says what the part is."""
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def part_label(circuit: Circuit, component_id: str) -> str:
    """ "R12 resistor 10 kΩ": how a part is named inside other descriptions."""
    comp = circuit.components.get(component_id)
    if comp is None:
        return component_id
    value = _value_text(comp)
    kind = circuit.kinds[component_id]
    shown_value = value if value and value.lower() != kind.lower() else None
    return " ".join(t for t in (component_id, kind, shown_value) if t)


def _pin_label(pin_name: str, function: str | None) -> str:
    label = f"{pin_name} {function}" if function and function != pin_name else pin_name
    meaning = spelled_out(function or pin_name)
    return f"{label} ({', '.join(meaning)})" if meaning else label


def describe_component(circuit: Circuit, component: Component) -> str:
    kind = circuit.kinds[component.id]
    head = f"{component.id}: {kind}"
    value = _value_text(component)
    if value and value.lower() != kind.lower():
        head += f" {value}"
    if len(component.pins) > 2:
        head += f" with {len(component.pins)} pins"
    parts = [head + (f", {KIND_PURPOSE[kind]}" if kind in KIND_PURPOSE else "")]
    if component.description:
        parts.append(_shortened(component.description))
    elif component.id in circuit.catalogued:
        parts.append(_shortened(circuit.catalogued[component.id].text))
    if component.id == circuit.main_connector:
        parts.append("main harness connector of the board")
    role = circuit.role(component.id)
    if role:
        parts.append(role)
    parts += circuit.service(component.id)
    if len(component.pins) > 3:
        parts += _reach_text(circuit, component.id)
    source = [t for t in (component.library or component.part, component.footprint) if t]
    if source:
        parts.append("part " + ", footprint ".join(source) if len(source) == 2 else "part " + source[0])
    if component.fields:
        parts.append("; ".join(f"{k} {v}" for k, v in component.fields.items()))
    where = f"sheet {component.sheet}, page {component.page}" if component.sheet else f"page {component.page}"
    parts.append(where)
    nets_by_pin = circuit.nets_of.get(component.id, {})
    pin_names = [p.name for p in component.pins] or sorted(nets_by_pin, key=natural_key)
    functions = {p.name: p.function for p in component.pins}
    reach = lambda pin: " and ".join(circuit.net_words(n, component.id) for n in nets_by_pin[pin])  # noqa: E731
    pins = [f"{_pin_label(pin, functions.get(pin))} to {reach(pin)}" for pin in pin_names if nets_by_pin.get(pin)]
    if pins:
        more = f" and {len(pins) - _MAX_PINS} more" if len(pins) > _MAX_PINS else ""
        parts.append("pins " + "; ".join(pins[:_MAX_PINS]) + more)
    near = circuit.neighbours(component.id)
    if near:
        parts.append("connected to " + ", ".join(part_label(circuit, cid) for cid in near))
    return ". ".join(parts)


def _reach_text(circuit: Circuit, component_id: str) -> list[str]:
    """ "drives 6 mosfets Q1, Q2 …": what a chip or connector works with, by kind."""
    reached = circuit.reaches(component_id)
    if not reached:
        return []
    listed = sorted(reached.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:6]
    return ["works with " + "; ".join(f"{len(ids)} {kind} {', '.join(ids[:6])}" for kind, ids in listed)]


def describe_net(circuit: Circuit, net: Net) -> str:
    role = circuit.roles[net.name]
    kind = {"ground": "ground", "power": "power supply rail", "bus": "bus line", "signal": "signal"}[role.kind]
    traits = [t for t in (role.voltage, "bus" if net.is_bus and role.kind != "bus" else None) if t]
    head = f"net {circuit.net_words(net.name)}: {kind}" + (f" {', '.join(traits)}" if traits else "")
    parts = [head]
    if net.description:
        parts.append(net.description)
    members = circuit.members[net.name]
    listed = [
        f"{part_label(circuit, link.component_id)} pin {_pin_label(link.pin, link.function)}"
        for link in members[:_MAX_MEMBERS]
    ]
    more = f" and {len(members) - _MAX_MEMBERS} more" if len(members) > _MAX_MEMBERS else ""
    parts.append(f"{len(members)} pins: " + "; ".join(listed) + more)
    sheets = sorted({c.sheet for link in members if (c := circuit.components.get(link.component_id)) and c.sheet})
    if sheets:
        parts.append("sheets " + ", ".join(sheets))
    return ". ".join(parts)


def describe_page(circuit: Circuit, page: int, source_document: str, vehicle: str) -> str:
    components = circuit.by_page.get(page, [])
    kinds: dict[str, list[str]] = defaultdict(list)
    for comp in components:
        kinds[circuit.kinds[comp.id]].append(comp.id)
    sheets = sorted({c.sheet for c in components if c.sheet})
    sheet_text = f" (sheet {', '.join(sheets)})" if sheets else ""
    kind_text = "; ".join(f"{kind}: {', '.join(sorted(ids, key=natural_key))}" for kind, ids in sorted(kinds.items()))
    return f"page {page}{sheet_text} of {source_document} ({vehicle}): {len(components)} parts, {kind_text or 'none'}"


def natural_key(value: str) -> tuple[object, ...]:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", value))
