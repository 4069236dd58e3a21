"""KiCad netlists in both export forms, read by one extractor:

- the S-expression `.net` (Eeschema's "KiCad" netlist, version D from 2013 to version E of
  KiCad 6-8; atoms may be bare or quoted), and
- the XML export (`<export version="…">`, same element names).

From KiCad's netlist format: `components/comp` (ref, value, footprint, datasheet, `fields/field`,
libsource lib/part/description, sheetpath names), `libparts/libpart` (description, docs, pins
num/name/type), `nets/net` (code, name, node ref/pin [pinfunction, pintype]) and `design/sheet`
(number, name). Everything descriptive is kept: a part's description (its own, else its
libpart's), datasheet, user fields, sheet name and path, and its pins' names and electrical
types. Nets without a name (the 2013 format writes `(name "")`) get KiCad's own later
convention, `Net-(<ref>-Pad<pin>)` of their first node.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from wessley_dagster.adapters.sexpr import SExpr, parse
from wessley_dagster.adapters.source import SourceDesign, parse_xml
from wessley_dagster.domain.bundle import BundleError, Component, Connection, Net, Pin
from wessley_dagster.domain.descriptions import natural_key


class Node(Protocol):
    path: str

    def get(self, name: str) -> str | None: ...

    def children(self, name: str) -> Iterator[Node]: ...

    def first(self, name: str) -> Node | None: ...

    def field(self) -> tuple[str, str] | None: ...


class SNode:
    """An S-expression list `(tag child…)`; `get` reads `(name value)` children."""

    def __init__(self, expr: list[SExpr], path: str) -> None:
        self.expr, self.path = expr, path

    def children(self, name: str) -> Iterator[SNode]:
        count = 0
        for item in self.expr[1:]:
            if isinstance(item, list) and item and item[0] == name:
                yield SNode(item, f"{self.path}/{name}[{count}]")
                count += 1

    def first(self, name: str) -> SNode | None:
        return next(self.children(name), None)

    def get(self, name: str) -> str | None:
        child = self.first(name)
        if child is None or len(child.expr) < 2:
            return None
        value = child.expr[1]
        return value if isinstance(value, str) else None

    def field(self) -> tuple[str, str] | None:
        """`(field (name N) value)`: the value is the field's last bare atom."""
        name = self.get("name")
        values = [item for item in self.expr[1:] if isinstance(item, str)]
        return (name, values[-1]) if name and values else None


class XNode:
    """An XML element; `get` reads an attribute or a child element's text."""

    def __init__(self, element: ET.Element, path: str) -> None:
        self.element, self.path = element, path

    def children(self, name: str) -> Iterator[XNode]:
        for i, child in enumerate(self.element.findall(name)):
            yield XNode(child, f"{self.path}/{name}[{i}]")

    def first(self, name: str) -> XNode | None:
        return next(self.children(name), None)

    def get(self, name: str) -> str | None:
        if name in self.element.attrib:
            return self.element.attrib[name]
        child = self.element.find(name)
        return (child.text or "").strip() if child is not None else None

    def field(self) -> tuple[str, str] | None:
        """`<field name="N">value</field>`."""
        name, value = self.element.get("name"), (self.element.text or "").strip()
        return (name, value) if name and value else None


def _root(path: Path) -> Node:
    raw = path.read_text(encoding="utf-8")
    if raw.lstrip().startswith("<"):
        element = parse_xml(raw, path.name)
        root: Node = XNode(element, "/export")
        if element.tag != "export":
            raise BundleError(path.name, "/", f"not a KiCad netlist: root element is <{element.tag}>")
        return root
    expr = parse(raw, path.name)
    if not isinstance(expr, list) or not expr or expr[0] != "export":
        raise BundleError(path.name, "line 1", "not a KiCad netlist: expected (export …)")
    return SNode(expr, "/export")


def _required(file: str, node: Node, name: str) -> str:
    value = node.get(name)
    if value is None:
        raise BundleError(file, node.path, f"missing {name}")
    return value


def _text(value: str | None) -> str | None:
    """A descriptive value, or None for KiCad's placeholders ("", "~")."""
    return value.strip() if value and value.strip() not in ("", "~") else None


def _fields(comp: Node) -> dict[str, str]:
    holder = comp.first("fields")
    pairs = (f.field() for f in holder.children("field")) if holder else ()
    return {name: value for name, value in (p for p in pairs if p) if _text(value)}


@dataclass(frozen=True)
class _LibPart:
    description: str | None
    datasheet: str | None
    pins: list[tuple[str, str | None, str | None]]  # number, name, electrical type


def read_kicad(path: Path) -> SourceDesign:
    file = path.name
    root = _root(path)
    pages = _pages(root)
    components = _components(file, root, pages, _libparts(file, root))
    nets = _nets(file, root, components)
    for comp in components.values():
        comp.pins.sort(key=lambda p: natural_key(p.name))
    return SourceDesign(
        source_document=file,
        components=list(components.values()),
        nets=nets,
        page_count=max(pages.values(), default=1),
    )


def _pages(root: Node) -> dict[str, int]:
    """Each sheet's page number by its path name (`/`, `/Power/`, …)."""
    design = root.first("design")
    pages = {}
    for sheet in design.children("sheet") if design else []:
        name, number = sheet.get("name"), sheet.get("number")
        if name is not None and number is not None and number.isdigit():
            pages[name] = int(number)
    return pages


def _libparts(file: str, root: Node) -> dict[tuple[str, str], _LibPart]:
    """The library parts by (library, part): description, datasheet and pins."""
    libparts: dict[tuple[str, str], _LibPart] = {}
    for holder in root.children("libparts"):
        for libpart in holder.children("libpart"):
            pins = [
                (_required(file, pin, "num"), _text(pin.get("name")), _text(pin.get("type")))
                for pins_node in libpart.children("pins")
                for pin in pins_node.children("pin")
            ]
            key = (libpart.get("lib") or "", libpart.get("part") or "")
            libparts[key] = _LibPart(_text(libpart.get("description")), _text(libpart.get("docs")), pins)
    return libparts


def _components(
    file: str, root: Node, pages: dict[str, int], libparts: dict[tuple[str, str], _LibPart]
) -> dict[str, Component]:
    components: dict[str, Component] = {}
    comps_node = root.first("components")
    for comp in comps_node.children("comp") if comps_node else []:
        ref = _required(file, comp, "ref")
        if ref in components:
            raise BundleError(file, comp.path, f"duplicate component {ref!r}")
        source = comp.first("libsource")
        lib_key = (source.get("lib") or "", source.get("part") or "") if source else ("", "")
        sheet = comp.first("sheetpath")
        sheet_path = sheet.get("names") if sheet else None
        libpart = libparts.get(lib_key, _LibPart(None, None, []))
        components[ref] = Component(
            id=ref,
            type="",  # filled by to_bundle from everything the source says
            value=comp.get("value"),
            page=pages.get(sheet_path or "/", 1),
            confidence=1.0,
            pins=[Pin(name=num, number=num, function=name, electrical_type=kind) for num, name, kind in libpart.pins],
            description=_text(source.get("description") if source else None) or libpart.description,
            library=":".join(part for part in lib_key if part) or None,
            part=lib_key[1] or None,
            footprint=_text(comp.get("footprint")),
            datasheet=_text(comp.get("datasheet")) or libpart.datasheet,
            fields=_fields(comp),
            sheet=_sheet_name(sheet_path),
            sheet_path=sheet_path,
        )
    return components


def _nets(file: str, root: Node, components: dict[str, Component]) -> list[Net]:
    """The nets; a pin the netlist names but the library part lacks is added to its component."""
    nets_node = root.first("nets")
    if nets_node is None:
        raise BundleError(file, f"{root.path}/nets", "the netlist has no nets section")
    nets = []
    for net in nets_node.children("net"):
        connections = [_connection(file, node, components) for node in net.children("node")]
        name = net.get("name")
        if name is None:
            raise BundleError(file, net.path, "net has no name")
        if not name:
            if not connections:
                raise BundleError(file, net.path, "an unnamed net with no nodes")
            name = f"Net-({connections[0].component_id}-Pad{connections[0].pin})"
        nets.append(Net(name=name, connections=connections, code=net.get("code")))
    return nets


def _connection(file: str, node: Node, components: dict[str, Component]) -> Connection:
    ref, pin = _required(file, node, "ref"), _required(file, node, "pin")
    if ref not in components:
        raise BundleError(file, node.path, f"node names component {ref!r}, which is not in components")
    declared = {p.name: p for p in components[ref].pins}
    function, kind = _text(node.get("pinfunction")), _text(node.get("pintype"))
    if pin not in declared:  # a netlist pin exists even if the libpart lacks it
        components[ref].pins.append(Pin(name=pin, number=pin, function=function, electrical_type=kind))
    elif declared[pin].function is None and function:
        declared[pin].function, declared[pin].electrical_type = function, kind
    return Connection(component_id=ref, pin=pin)


def _sheet_name(path: str | None) -> str | None:
    """The innermost sheet of a hierarchical path: "/Power/Regulators/" -> "Regulators"; the root is None."""
    parts = [part for part in (path or "").split("/") if part]
    return parts[-1] if parts else None
