"""WireViz harness YAML: connectors and their pins become components and pins; every cable wire
(and shield) becomes a net that keeps its colour and gauge.

From WireViz's syntax: `connectors.<name>` (`pins`, `pinlabels`, `pincount`, `type`, `subtype`,
`notes`), `cables.<name>` (`type`, `notes`, `wirecount`, `colors`, `gauge`, `length`, `shield`) and
`connections`, a list of
sets, each a list of `{designator: [pins or wires]}` items of equal length (ranges `1-4` allowed,
pins by number or by label, `s` for a cable's shield). Within a set, position i of each item is
one path: connector pin — wire — connector pin. Two connectors next to each other with no cable
between them are mated: their pins share a net named `<A>:<pin>=<B>:<pin>`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from wessley_dagster.adapters.source import SourceDesign
from wessley_dagster.domain.bundle import BundleError, Component, Connection, Net, Pin

SHIELD = "s"


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def _expand(file: str, where: str, values: Any) -> list[Any]:
    if not isinstance(values, list):
        values = [values]
    out: list[Any] = []
    for value in values:
        if isinstance(value, str) and "-" in value and all(p.strip().isdigit() for p in value.split("-", 1)):
            lo, hi = (int(p) for p in value.split("-", 1))
            step = 1 if hi >= lo else -1
            out.extend(range(lo, hi + step, step))
        elif isinstance(value, int | str):
            out.append(value)
        else:
            raise BundleError(file, where, f"cannot read pin or wire {value!r}")
    return out


class _Connector:
    def __init__(self, file: str, name: str, spec: dict[str, Any]) -> None:
        where = f"connectors.{name}"
        labels = [str(label) for label in spec.get("pinlabels") or []]
        pins = spec.get("pins")
        if pins is None:
            count = spec.get("pincount", len(labels))
            pins = list(range(1, int(count) + 1))
        if labels and len(labels) != len(pins):
            raise BundleError(file, f"{where}.pinlabels", f"{len(labels)} labels for {len(pins)} pins")
        self.name, self.pins = name, [str(p) for p in pins]
        self.labels = labels or [None] * len(self.pins)
        self.spec = spec

    def resolve(self, file: str, where: str, ref: Any) -> str:
        """A pin named by number, or by a label that only one pin carries."""
        if str(ref) in self.pins:
            return str(ref)
        by_label = [p for p, label in zip(self.pins, self.labels, strict=True) if label == str(ref)]
        if len(by_label) == 1:
            return by_label[0]
        problem = "is ambiguous (several pins carry that label)" if by_label else "does not exist"
        shown = f"{self.pins[0]}-{self.pins[-1]}" if self.pins else "none"
        raise BundleError(file, where, f"connector {self.name!r} pin {ref!r} {problem} (pins {shown})")

    def component(self) -> Component:
        spec = self.spec
        return Component(
            id=self.name,
            type="connector",
            value=_text(spec.get("type")),
            page=1,
            confidence=1.0,
            # A pin label names what the pin carries: the pin's function.
            pins=[Pin(name=p, number=p, function=label) for p, label in zip(self.pins, self.labels, strict=True)],
            description=_text(spec.get("notes")),
            part=_text(spec.get("type")),
            fields={k: str(spec[k]) for k in ("subtype", "color", "pn", "manufacturer", "mpn") if spec.get(k)},
        )


class _Cable:
    def __init__(self, file: str, name: str, spec: dict[str, Any]) -> None:
        colors = [str(c) for c in spec.get("colors") or []]
        count = int(spec.get("wirecount", len(colors)))
        self.name, self.spec, self.colors = name, spec, colors
        self.wires = [str(i) for i in range(1, count + 1)] + ([SHIELD] if spec.get("shield") else [])

    def resolve(self, file: str, where: str, ref: Any) -> str:
        if str(ref) in self.wires:
            return str(ref)
        raise BundleError(file, where, f"cable {self.name!r} has no wire {ref!r} (wires {', '.join(self.wires)})")

    def net(self, wire: str) -> Net:
        if wire == SHIELD:
            color: str | None = "shield"
        else:
            color = self.colors[int(wire) - 1] if int(wire) <= len(self.colors) else None
        return Net(
            name=f"{self.name}:{wire}",
            description=" ".join(t for t in (_text(self.spec.get("type")), _text(self.spec.get("notes"))) if t) or None,
            cable=self.name,
            wire=wire,
            color=color,
            gauge=str(self.spec["gauge"]) if self.spec.get("gauge") is not None else None,
            length=str(self.spec["length"]) if self.spec.get("length") is not None else None,
        )


def read_wireviz(path: Path) -> SourceDesign:
    file = path.name
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else "document"
        raise BundleError(file, where, f"invalid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(doc, dict) or "connectors" not in doc:
        raise BundleError(file, "document", "not a WireViz harness: no connectors section")
    connectors = {str(n): _Connector(file, str(n), spec or {}) for n, spec in (doc.get("connectors") or {}).items()}
    cables = {str(n): _Cable(file, str(n), spec or {}) for n, spec in (doc.get("cables") or {}).items()}

    # Every wire is a net, connected or not, so the harness's wiring is complete in the graph.
    nets: dict[str, Net] = {f"{c.name}:{w}": c.net(w) for c in cables.values() for w in c.wires}
    for s, conn_set in enumerate(doc.get("connections") or []):
        items = []
        for i, item in enumerate(conn_set or []):
            where = f"connections[{s}][{i}]"
            if isinstance(item, str):
                item = {item: [1]}  # a one-pin item may be written bare
            if not isinstance(item, dict) or len(item) != 1:
                raise BundleError(file, where, "each item must be {designator: [pins]}")
            ((name, refs),) = item.items()
            name = str(name)
            owner = connectors.get(name) or cables.get(name)
            if owner is None:
                raise BundleError(file, f"{where}.{name}", f"{name!r} is neither a connector nor a cable")
            expanded = _expand(file, f"{where}.{name}", refs)
            items.append((owner, [owner.resolve(file, f"{where}.{name}[{k}]", r) for k, r in enumerate(expanded)]))
        lengths = {len(ids) for _, ids in items}
        if len(lengths) > 1:
            raise BundleError(
                file, f"connections[{s}]", f"items list different numbers of pins/wires: {sorted(lengths)}"
            )
        for position in range(lengths.pop() if lengths else 0):
            _join(nets, [(owner, ids[position]) for owner, ids in items])
    return SourceDesign(
        source_document=file,
        components=[c.component() for c in connectors.values()],
        nets=list(nets.values()),
    )


def _join(nets: dict[str, Net], path: list[tuple[Any, str]]) -> None:
    """Connect one path (connector pins and cable wires, in order) into nets."""
    for k, (owner, ident) in enumerate(path):
        if isinstance(owner, _Cable):
            net = nets.setdefault(f"{owner.name}:{ident}", owner.net(ident))
            for j in (k - 1, k + 1):
                if 0 <= j < len(path) and isinstance(path[j][0], _Connector):
                    _connect(net, path[j][0].name, path[j][1])
        elif k + 1 < len(path) and isinstance(path[k + 1][0], _Connector):
            other, other_pin = path[k + 1]
            name = f"{owner.name}:{ident}={other.name}:{other_pin}"
            net = nets.setdefault(name, Net(name=name, mated=True))
            _connect(net, owner.name, ident)
            _connect(net, other.name, other_pin)


def _connect(net: Net, component: str, pin: str) -> None:
    if not any(c.component_id == component and c.pin == pin for c in net.connections):
        net.connections.append(Connection(component_id=component, pin=pin))
