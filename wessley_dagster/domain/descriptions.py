"""One-line natural-language descriptions of components, nets and pages, for embedding and display."""

from __future__ import annotations

import re
from collections import defaultdict

from wessley_dagster.domain.bundle import Bundle, Component, Net
from wessley_dagster.domain.terms import normalize_value

# Reference-designator prefixes (IEEE 315 / common EDA usage), longest first when matching.
DESIGNATOR_TYPES = {
    "R": "resistor",
    "C": "capacitor",
    "L": "inductor",
    "D": "diode",
    "LED": "led",
    "Q": "transistor",
    "U": "integrated circuit",
    "IC": "integrated circuit",
    "K": "relay",
    "F": "fuse",
    "J": "connector",
    "P": "connector",
    "X": "connector",
    "CN": "connector",
    "SW": "switch",
    "S": "switch",
    "Y": "crystal",
    "JP": "jumper",
    "TP": "test point",
    "RV": "potentiometer",
    "VR": "voltage regulator",
    "T": "transformer",
    "FB": "ferrite bead",
    "BZ": "buzzer",
    "M": "motor",
    "XA": "module",
}
_DESIGNATOR = re.compile(r"^([A-Za-z]+)\d")


def designator_kind(ref: str) -> str:
    """The kind of part a reference designator implies: R12 -> resistor, K3 -> relay."""
    match = _DESIGNATOR.match(ref)
    return DESIGNATOR_TYPES.get(match.group(1).upper(), "component") if match else "component"


def component_kind(component: Component) -> str:
    """The component's type, or the kind its reference designator implies when the type is blank."""
    return component.type.strip() or designator_kind(component.id)


def pin_nets(bundle: Bundle) -> dict[str, dict[str, list[str]]]:
    """component id -> pin name -> names of the nets that pin is on."""
    result: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for net in bundle.netlist.nets:
        for conn in net.connections:
            result[conn.component_id][conn.pin].append(net.name)
    return result


def describe_component(component: Component, nets_by_pin: dict[str, list[str]]) -> str:
    value = normalize_value(component.value) if component.value else None
    value_text = value or (component.value or "")
    head = f"{component.id}, {component_kind(component)}" + (f" {value_text}" if value_text else "")
    pin_names = [p.name for p in component.pins] or sorted(nets_by_pin, key=natural_key)
    pins = [f"{pin}→{'/'.join(nets_by_pin[pin])}" for pin in pin_names if nets_by_pin.get(pin)]
    parts = [head]
    if pins:
        parts.append("pins " + " ".join(pins))
    parts.append(f"page {component.page}")
    return ", ".join(parts)


def describe_net(net: Net) -> str:
    members = ", ".join(f"{c.component_id}.{c.pin}" for c in net.connections)
    traits = [t for t in (net.voltage_level, "bus" if net.is_bus else None) if t]
    trait_text = f" ({', '.join(traits)})" if traits else ""
    return f"net {net.name}{trait_text}, {len(net.connections)} connections: {members}"


def describe_page(bundle: Bundle, page: int) -> str:
    components = [c for c in bundle.components if c.page == page]
    kinds: dict[str, list[str]] = defaultdict(list)
    for comp in components:
        kinds[component_kind(comp)].append(comp.id)
    on_page = {c.id for c in components}
    nets = sorted({n.name for n in bundle.netlist.nets for c in n.connections if c.component_id in on_page})
    vehicle = bundle.manifest.vehicle
    kind_text = "; ".join(f"{kind}: {', '.join(sorted(ids, key=natural_key))}" for kind, ids in sorted(kinds.items()))
    return (
        f"page {page} of {bundle.manifest.source_document} ({vehicle.year} {vehicle.make} {vehicle.model}): "
        f"{len(components)} components ({kind_text or 'none'}); nets: {', '.join(nets) or 'none'}"
    )


def natural_key(value: str) -> tuple[object, ...]:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", value))
