"""Eagle XML schematics (`.sch`, Eagle 6 and later), every sheet.

From Eagle's DTD: `schematic/parts/part` (name, library[, library_urn], deviceset, device,
technology, value, `attribute`), the libraries' `deviceset` (description, `devices/device`:
package, `connects/connect` gate/pin/pad, `technologies/technology/attribute`) and `packages/package`
(description), and per sheet (`description`: its name) `instances/instance` (part, gate, x, y),
`nets/net/segment` (`pinref` part/gate/pin, `wire` x1/y1/x2/y2, `junction` x/y, `label`) and
`plain/text`. A part keeps its device set's and package's descriptions (Eagle's HTML reduced to
text), its technology's and its own non-empty attributes, and the name of its sheet.

A part is a component when its device has a package: supply symbols and frames have none and
are drawing symbols, not parts, so their pin references are not connections. Nets are global by
name across sheets. A pin is named by its symbol pin name, prefixed with the gate when the
device has more than one gate (`A.IN+`), as Eagle itself tells them apart. Text spans come from
the drawing: a span per placed part name, per net label and per plain text, with page = sheet.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

from wessley_dagster.adapters.source import SourceDesign, parse_xml
from wessley_dagster.domain.bundle import BundleError, Component, Connection, Junction, LineSegment, Net, Pin, TextSpan
from wessley_dagster.domain.descriptions import natural_key

ENGINE = "eagle-xml"
GLYPH_MM = 1.27  # Eagle's default text size: enough to give each drawn text a plausible box


def _float(file: str, element: ET.Element, name: str, where: str) -> float:
    try:
        return float(element.attrib[name])
    except (KeyError, ValueError) as exc:
        raise BundleError(file, where, f"attribute {name!r} missing or not a number") from exc


def _attr(file: str, element: ET.Element, name: str, where: str) -> str:
    value = element.get(name)
    if value is None:
        raise BundleError(file, where, f"missing attribute {name!r}")
    return value


def _span(sid: str, text: str, page: int, x: float, y: float) -> TextSpan:
    return TextSpan(
        id=sid,
        text=text,
        page=page,
        bbox=(x, y, x + GLYPH_MM * max(len(text), 1), y + GLYPH_MM),
        confidence=1.0,
        engine=ENGINE,
    )


def _plain(html: str | None) -> str | None:
    """Eagle descriptions are HTML fragments: their text, whitespace collapsed."""
    if not html:
        return None
    text = " ".join(_TAG.sub(" ", unescape(html)).split())
    return text or None


_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class _Device:
    element: ET.Element
    description: str | None
    package_description: str | None


def _devices(file: str, schematic: ET.Element) -> dict[tuple[str, str, str, str], _Device]:
    devices = {}
    for li, library in enumerate(schematic.findall("libraries/library")):
        lib_key = (library.get("name", ""), library.get("urn", ""))
        packages = {pkg.get("name"): _plain(pkg.findtext("description")) for pkg in library.findall("packages/package")}
        for deviceset in library.findall("devicesets/deviceset"):
            description = _plain(deviceset.findtext("description"))
            for device in deviceset.findall("devices/device"):
                where = f"/eagle/drawing/schematic/libraries/library[{li}]"
                key = (*lib_key, _attr(file, deviceset, "name", where), device.get("name", ""))
                devices[key] = _Device(device, description, packages.get(device.get("package")))
    return devices


def _attributes(device: ET.Element, part: ET.Element) -> dict[str, str]:
    """The part's technology attributes, overridden by its own; empty values dropped."""
    technology = part.get("technology", "")
    values = {
        a.get("name", ""): a.get("value", "")
        for tech in device.findall("technologies/technology")
        if tech.get("name", "") == technology
        for a in tech.findall("attribute")
    }
    values.update({a.get("name", ""): a.get("value", "") for a in part.findall("attribute")})
    return {name: value.strip() for name, value in values.items() if name and value and value.strip()}


def read_eagle(path: Path) -> SourceDesign:
    file = path.name
    root = parse_xml(path.read_text(encoding="utf-8"), file)
    schematic = root.find("drawing/schematic")
    if root.tag != "eagle" or schematic is None:
        raise BundleError(file, "/", "not an Eagle schematic: expected <eagle><drawing><schematic>")
    reader = _Reader(file, schematic)
    reader.read_parts()
    sheets = schematic.findall("sheets/sheet")
    for page, sheet in enumerate(sheets, start=1):
        reader.read_sheet(page, sheet)
    return SourceDesign(
        source_document=file,
        components=list(reader.components.values()),
        nets=[Net(name=name, connections=_unique(conns)) for name, conns in reader.nets.items()],
        text_spans=reader.spans,
        junctions=reader.junctions,
        line_segments=reader.segments,
        page_count=max(len(sheets), 1),
    )


@dataclass
class _Reader:
    """One schematic read in steps: its parts, then each sheet's instances, texts and nets. Every
    error names the file and the element's path."""

    file: str
    schematic: ET.Element
    components: dict[str, Component] = field(default_factory=dict)
    gates_of: dict[str, int] = field(default_factory=dict)  # how many gates each part's device has
    spans: list[TextSpan] = field(default_factory=list)
    nets: dict[str, list[Connection]] = field(default_factory=lambda: defaultdict(list))
    junctions: list[Junction] = field(default_factory=list)
    segments: list[LineSegment] = field(default_factory=list)
    placed: set[str] = field(default_factory=set)
    part_names: set[str] = field(default_factory=set)  # every part, with a package or not

    def read_parts(self) -> None:
        """Every part with a package (supply symbols and frames have none) as a component."""
        devices = _devices(self.file, self.schematic)
        parts = self.schematic.findall("parts/part")
        self.part_names = {p.get("name", "") for p in parts}
        for i, part in enumerate(parts):
            where = f"/eagle/drawing/schematic/parts/part[{i}]"
            name = _attr(self.file, part, "name", where)
            key = (
                _attr(self.file, part, "library", where),
                part.get("library_urn", ""),
                _attr(self.file, part, "deviceset", where),
                part.get("device", ""),
            )
            found = devices.get(key)
            if found is None:
                raise BundleError(
                    self.file, where, f"part {name!r} uses {key[0]}/{key[2]}/{key[3]}, not in the libraries"
                )
            if found.element.get("package"):
                self.components[name] = self._component(name, part, key, found)

    def _component(self, name: str, part: ET.Element, key: tuple[str, str, str, str], found: _Device) -> Component:
        device = found.element
        connects = device.findall("connects/connect")
        gates = len({c.get("gate", "") for c in connects})
        self.gates_of[name] = gates
        pins = [Pin(name=_pin_name(c.get("gate", ""), c.get("pin", ""), gates), number=c.get("pad")) for c in connects]
        return Component(
            id=name,
            type="",  # filled by to_bundle from everything the source says
            value=part.get("value") or key[2],
            page=1,
            confidence=1.0,
            pins=sorted(pins, key=lambda p: natural_key(p.name)),
            description=found.description,
            library=key[0],
            part=key[2],
            footprint=device.get("package"),
            footprint_description=found.package_description,
            fields=_attributes(device, part),
            device=key[3],  # the device set's variant, e.g. "-SOIC8"
        )

    def read_sheet(self, page: int, sheet: ET.Element) -> None:
        base = f"/eagle/drawing/schematic/sheets/sheet[{page - 1}]"
        sheet_name = _plain(sheet.findtext("description"))
        for i, inst in enumerate(sheet.findall("instances/instance")):
            self._place(page, sheet_name, i, inst, f"{base}/instances/instance[{i}]")
        for i, text in enumerate(sheet.findall("plain/text")):
            if (text.text or "").strip():
                self.spans.append(
                    self._span_at(f"e{page}-t{i}", text.text.strip(), page, text, f"{base}/plain/text[{i}]")
                )
        for n, net in enumerate(sheet.findall("nets/net")):
            where = f"{base}/nets/net[{n}]"
            net_name = _attr(self.file, net, "name", where)
            if not net_name:
                raise BundleError(self.file, where, "net has an empty name")
            self.nets.setdefault(net_name, [])
            for s, segment in enumerate(net.findall("segment")):
                self._segment(page, net_name, f"p{page}-n{n}-s{s}", segment, f"{where}/segment[{s}]")

    def _place(self, page: int, sheet_name: str | None, i: int, inst: ET.Element, where: str) -> None:
        """A part's drawn instance: a span, and the part's page and box at its first gate."""
        name = _attr(self.file, inst, "part", where)
        if name not in self.components:
            return
        span = self._span_at(f"e{page}-i{i}", name, page, inst, where)
        self.spans.append(span)
        if name not in self.placed:  # a part drawn in several gates sits where its first gate is
            component = self.components[name]
            component.page, component.bbox, component.sheet = page, span.bbox, sheet_name
            self.placed.add(name)

    def _segment(self, page: int, net_name: str, sid: str, segment: ET.Element, where: str) -> None:
        """One net segment: its pin references, labels, junctions and wires."""
        for r, pinref in enumerate(segment.findall("pinref")):
            self._connect(net_name, pinref, f"{where}/pinref[{r}]")
        for i, label in enumerate(segment.findall("label")):
            span_id = f"e{sid.removeprefix('p')}-l{i}"
            self.spans.append(self._span_at(span_id, net_name, page, label, f"{where}/label[{i}]"))
        drawn = [
            Junction(id=f"{sid}-j{j}", page=page, x=x, y=y, net=net_name)
            for j, junction in enumerate(segment.findall("junction"))
            for x, y in [self._point(junction, "x", "y", f"{where}/junction[{j}]")]
        ]
        self.junctions.extend(drawn)
        for w, wire in enumerate(segment.findall("wire")):
            start = self._point(wire, "x1", "y1", f"{where}/wire[{w}]")
            end = self._point(wire, "x2", "y2", f"{where}/wire[{w}]")
            touching = [x.id for x in drawn if (x.x, x.y) in (start, end)]
            self.segments.append(
                LineSegment(id=f"{sid}-w{w}", page=page, start=start, end=end, net=net_name, junction_ids=touching)
            )

    def _connect(self, net_name: str, pinref: ET.Element, where: str) -> None:
        part_name = _attr(self.file, pinref, "part", where)
        if part_name in self.components:
            gate, pin_of_gate = _attr(self.file, pinref, "gate", where), _attr(self.file, pinref, "pin", where)
            pin = _pin_name(gate, pin_of_gate, self.gates_of[part_name])
            if pin not in {p.name for p in self.components[part_name].pins}:
                raise BundleError(self.file, where, f"part {part_name!r} has no pin {pin!r}")
            self.nets[net_name].append(Connection(component_id=part_name, pin=pin))
        elif part_name not in self.part_names:
            raise BundleError(self.file, where, f"pinref names part {part_name!r}, which does not exist")

    def _point(self, element: ET.Element, x: str, y: str, where: str) -> tuple[float, float]:
        return _float(self.file, element, x, where), _float(self.file, element, y, where)

    def _span_at(self, sid: str, text: str, page: int, element: ET.Element, where: str) -> TextSpan:
        return _span(sid, text, page, *self._point(element, "x", "y", where))


def _unique(connections: list[Connection]) -> list[Connection]:
    """A pin drawn twice on one net (two segments touching it) is one connection."""
    return list({(c.component_id, c.pin): c for c in connections}.values())


def _pin_name(gate: str, pin: str, gate_count: int) -> str:
    return f"{gate}.{pin}" if gate_count > 1 else pin
