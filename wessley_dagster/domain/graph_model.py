"""The bundle as graph rows (DESIGN section 4), ready for batched `UNWIND … MERGE` writes.

Every node has one `key`: a hash of its scope (project, job) and natural id, so two jobs of one
project, or two projects with the same designators, never collide. The Vehicle is per project.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from xml.sax.saxutils import escape, quoteattr

from pydantic import BaseModel

from wessley_dagster.domain.bundle import Bundle, Component, Junction, LineSegment, Net, Pin, TextSpan

VEHICLE, COMPONENT, PIN, NET, TEXT_SPAN, JUNCTION, LINE_SEGMENT = (
    "Vehicle",
    "Component",
    "Pin",
    "Net",
    "TextSpan",
    "Junction",
    "LineSegment",
)
JOB_LABELS = (COMPONENT, PIN, NET, TEXT_SPAN, JUNCTION, LINE_SEGMENT)
ALL_LABELS = (VEHICLE, *JOB_LABELS)


class _Source(NamedTuple):
    """Where a job label's properties come from: its model's fields but `excluded` (those that
    become relationships or other nodes), and `added` beside the job's scope."""

    model: type[BaseModel]
    excluded: frozenset[str] = frozenset()
    added: tuple[str, ...] = ()


_SOURCES: dict[str, _Source] = {
    COMPONENT: _Source(Component, frozenset({"pins", "span_ids"})),
    PIN: _Source(Pin, added=("component_id",)),
    NET: _Source(Net, frozenset({"connections"}), ("fan_out",)),
    TEXT_SPAN: _Source(TextSpan),
    JUNCTION: _Source(Junction),
    LINE_SEGMENT: _Source(LineSegment, frozenset({"junction_ids"})),
}

# The properties a job label's nodes may hold from the contract; only a bundle's extra fields
# (kept by `extra="allow"`) add others. Names from the schema, never from user data: a store may
# write them into a query's text.
CONTRACT_PROPERTIES: dict[str, tuple[str, ...]] = {
    label: tuple(sorted(set(source.model.model_fields) - source.excluded | {*source.added, "project_id", "job_id"}))
    for label, source in _SOURCES.items()
}


def node_key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class RelGroup:
    type: str
    start_label: str
    end_label: str
    pairs: list[tuple[str, str]]


@dataclass(frozen=True)
class ParentLink:
    """Nodes of a label that each hang off one parent: written in the same statement as the node."""

    type: str  # relationship type, parent -> child
    label: str  # the parent's label


@dataclass
class GraphPayload:
    project_id: str
    job_id: str
    nodes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # label -> [{key, props[, parent]}]
    parents: dict[str, ParentLink] = field(default_factory=dict)  # child label -> its parent link
    rels: list[RelGroup] = field(default_factory=list)  # every other relationship

    def all_rels(self) -> list[RelGroup]:
        """Every relationship group, the parent links included."""
        links = [
            RelGroup(link.type, link.label, label, [(row["parent"], row["key"]) for row in self.nodes.get(label, [])])
            for label, link in self.parents.items()
        ]
        return links + self.rels

    def counts(self) -> dict[str, int]:
        result = {label: len(rows) for label, rows in self.nodes.items()}
        for group in self.all_rels():
            result[group.type] = result.get(group.type, 0) + len(group.pairs)
        return result


_NESTED = (dict, list)


def _clean(props: dict[str, Any]) -> dict[str, Any]:
    """Graph properties must be primitives or lists of them; nested extras become JSON text.
    Exact types, not isinstance: values come from JSON-mode dumps, and this runs for every
    node of a vehicle (a third of `bundle_to_graph`'s time before)."""
    out = {}
    for name, value in props.items():
        kind = type(value)
        if kind is list:
            if any(type(v) in _NESTED for v in value):
                value = json.dumps(value, sort_keys=True)
        elif kind is dict:
            value = json.dumps(value, sort_keys=True)
        elif value is None:
            continue
        elif kind is tuple:
            value = list(value)
        out[name] = value
    return out


def bundle_to_graph(bundle: Bundle) -> GraphPayload:
    m = bundle.manifest
    p, j = m.project_id, m.job_id
    scope = {"project_id": p, "job_id": j}
    g = GraphPayload(project_id=p, job_id=j)
    vehicle_key = node_key("vehicle", p)
    g.nodes[VEHICLE] = [{"key": vehicle_key, "props": {"project_id": p, **m.vehicle.model_dump(mode="json")}}]

    g.parents[COMPONENT] = ParentLink("CONTAINS", VEHICLE)
    comp_keys = _add_nodes(
        g,
        COMPONENT,
        bundle.components,
        scope,
        lambda c: c.model_dump(mode="json", exclude=_SOURCES[COMPONENT].excluded),
        parent=vehicle_key,
    )
    pin_keys = _add_pins(g, bundle, scope, comp_keys)
    net_keys = _add_nodes(
        g,
        NET,
        bundle.netlist.nets,
        scope,
        lambda n: {**n.model_dump(mode="json", exclude=_SOURCES[NET].excluded), "fan_out": len(n.connections)},
    )
    span_keys = _add_nodes(g, TEXT_SPAN, bundle.text_spans, scope, lambda s: s.model_dump(mode="json"))
    netlist = bundle.netlist
    junction_keys = _add_nodes(g, JUNCTION, netlist.junctions, scope, lambda x: x.model_dump(mode="json"))
    seg_keys = _add_nodes(
        g,
        LINE_SEGMENT,
        netlist.line_segments,
        scope,
        lambda s: s.model_dump(mode="json", exclude=_SOURCES[LINE_SEGMENT].excluded),
    )
    on_net = dict.fromkeys(
        (pin_keys[(c.component_id, c.pin)], net_keys[n.name]) for n in netlist.nets for c in n.connections
    )
    g.rels = [
        RelGroup("ON_NET", PIN, NET, list(on_net)),
        # Provenance: the component was read from these text spans.
        RelGroup(
            "EXTRACTED_FROM",
            COMPONENT,
            TEXT_SPAN,
            [(comp_keys[c.id], span_keys[s]) for c in bundle.components for s in dict.fromkeys(c.span_ids)],
        ),
        RelGroup(
            "CONNECTS",
            JUNCTION,
            LINE_SEGMENT,
            [(junction_keys[x], seg_keys[s.id]) for s in netlist.line_segments for x in dict.fromkeys(s.junction_ids)],
        ),
    ]
    return g


# Each label's key prefix, and what identifies an item of it within its job.
_KEYED: dict[str, tuple[str, Callable[[Any], str]]] = {
    COMPONENT: ("component", lambda c: c.id),
    NET: ("net", lambda n: n.name),
    TEXT_SPAN: ("span", lambda s: s.id),
    JUNCTION: ("junction", lambda x: x.id),
    LINE_SEGMENT: ("segment", lambda s: s.id),
}


def _add_nodes(
    g: GraphPayload,
    label: str,
    items: Sequence[Any],
    scope: dict[str, str],
    props: Callable[[Any], dict[str, Any]],
    parent: str | None = None,
) -> dict[str, str]:
    """The nodes of one label, each with its props in the job's scope; their keys by identifier."""
    prefix, ident = _KEYED[label]
    keys = {ident(x): node_key(prefix, g.project_id, g.job_id, ident(x)) for x in items}
    nodes = []
    for x in items:
        node = {"key": keys[ident(x)], "props": _clean({**props(x), **scope})}
        if parent is not None:
            node["parent"] = parent
        nodes.append(node)
    g.nodes[label] = nodes
    return keys


def _add_pins(
    g: GraphPayload, bundle: Bundle, scope: dict[str, str], comp_keys: dict[str, str]
) -> dict[tuple[str, str], str]:
    """Every declared pin, and every pin the netlist connects that its component does not declare."""
    pins: dict[tuple[str, str], dict[str, Any]] = {}
    for comp in bundle.components:
        for pin in comp.pins:
            pins[(comp.id, pin.name)] = _clean({**pin.model_dump(mode="json"), "component_id": comp.id, **scope})
    for net in bundle.netlist.nets:
        for conn in net.connections:
            pins.setdefault(
                (conn.component_id, conn.pin), {"name": conn.pin, "component_id": conn.component_id, **scope}
            )
    pin_keys = {ident: node_key("pin", g.project_id, g.job_id, *ident) for ident in pins}
    g.parents[PIN] = ParentLink("HAS_PIN", COMPONENT)
    g.nodes[PIN] = [
        {"key": pin_keys[ident], "props": props, "parent": comp_keys[ident[0]]} for ident, props in pins.items()
    ]
    return pin_keys


# GraphML's attribute types for the property values a payload holds (lists are written as JSON).
GRAPHML_TYPES = {bool: "boolean", int: "long", float: "double", str: "string"}

# Each value type's GraphML text, escaped for XML (only strings and lists can hold `&`, `<`, `>`).
_GRAPHML_TEXT: dict[type, Callable[[Any], str]] = {
    str: escape,
    int: str,
    float: repr,
    bool: lambda value: "true" if value else "false",
    list: lambda value: escape(json.dumps(value)),
}


def _graphml_text(value: Any) -> str:
    text = _GRAPHML_TEXT.get(type(value))
    return text(value) if text else escape(str(value))


def _graphml_kinds(payload: GraphPayload) -> dict[str, str]:
    """Each property's GraphML type, in first-seen order; a string where its values' types differ."""
    seen: dict[tuple[str, type], None] = {}
    for rows in payload.nodes.values():
        for row in rows:
            seen.update(dict.fromkeys(zip(row["props"], map(type, row["props"].values()), strict=True)))
    declared: dict[str, str] = {"labels": "string"}
    for name, kind in seen:
        graphml = "string" if kind is list else GRAPHML_TYPES.get(kind, "string")
        if declared.setdefault(name, graphml) != graphml:
            declared[name] = "string"
    return declared


def graphml_chunks(payload: GraphPayload, rows_per_chunk: int = 2_000) -> Iterator[bytes]:
    """GraphML export of the payload, APOC-style (`labels` attribute; lists written as JSON text),
    written in one streaming pass as escaped text (the standard library's `escape`/`quoteattr`):
    networkx builds the whole graph first and took 9 of a 351-page vehicle's 15 s of exports. An
    attribute whose values differ in type across nodes is declared a string. Node keys are hex
    digests (`node_key`), written without quoting work."""
    declared = _graphml_kinds(payload)
    ids = {name: f"d{i}" for i, name in enumerate(declared)}
    opening = {name: f'<data key="{ids[name]}">' for name in declared}
    head = ['<?xml version="1.0" encoding="utf-8"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n']
    head += [
        f'<key id="{ids[name]}" for="node" attr.name={quoteattr(name)} attr.type="{kind}"/>\n'
        for name, kind in declared.items()
    ]
    head.append('<key id="type" for="edge" attr.name="type" attr.type="string"/>\n<graph edgedefault="directed">\n')
    yield "".join(head).encode("utf-8")
    for label, rows in payload.nodes.items():
        labels = f"{opening['labels']}:{escape(label)}</data>"  # as Neo4j's APOC export writes labels
        for start in range(0, len(rows), rows_per_chunk):
            yield "".join(
                f'<node id="{row["key"]}">'
                + "".join(f"{opening[name]}{_graphml_text(value)}</data>" for name, value in row["props"].items())
                + f"{labels}</node>\n"
                for row in rows[start : start + rows_per_chunk]
            ).encode("utf-8")
    for group in payload.all_rels():
        edge = f'<data key="type">{escape(group.type)}</data></edge>\n'
        for start in range(0, len(group.pairs), rows_per_chunk):
            yield "".join(
                f'<edge source="{a}" target="{b}">{edge}' for a, b in group.pairs[start : start + rows_per_chunk]
            ).encode("utf-8")
    yield b"</graph>\n</graphml>\n"
