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
from dataclasses import dataclass
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
        id=sid, text=text, page=page, bbox=(x, y, x + GLYPH_MM * max(len(text), 1), y + GLYPH_MM),
        confidence=1.0, engine=ENGINE,
    )  # fmt: skip


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
    devices = _devices(file, schematic)

    components: dict[str, Component] = {}
    gates_of: dict[str, int] = {}
    all_parts = {p.get("name") for p in schematic.findall("parts/part")}
    for i, part in enumerate(schematic.findall("parts/part")):
        where = f"/eagle/drawing/schematic/parts/part[{i}]"
        name = _attr(file, part, "name", where)
        key = (_attr(file, part, "library", where), part.get("library_urn", ""),
               _attr(file, part, "deviceset", where), part.get("device", ""))  # fmt: skip
        found = devices.get(key)
        if found is None:
            raise BundleError(file, where, f"part {name!r} uses {key[0]}/{key[2]}/{key[3]}, not in the libraries")
        device = found.element
        if not device.get("package"):
            continue  # a supply symbol or a frame
        connects = device.findall("connects/connect")
        gates = {c.get("gate", "") for c in connects}
        gates_of[name] = len(gates)
        components[name] = Component(
            id=name,
            type="",  # filled by to_bundle from everything the source says
            value=part.get("value") or key[2],
            page=1,
            confidence=1.0,
            pins=sorted(
                (
                    Pin(name=_pin_name(c.get("gate", ""), c.get("pin", ""), len(gates)), number=c.get("pad"))
                    for c in connects
                ),
                key=lambda p: natural_key(p.name),
            ),
            description=found.description,
            library=key[0],
            part=key[2],
            footprint=device.get("package"),
            footprint_description=found.package_description,
            fields=_attributes(device, part),
            device=key[3],  # the device set's variant, e.g. "-SOIC8"
        )

    spans: list[TextSpan] = []
    nets: dict[str, list[Connection]] = defaultdict(list)
    junctions: list[Junction] = []
    segments: list[LineSegment] = []
    placed: set[str] = set()
    sheets = schematic.findall("sheets/sheet")
    for page, sheet in enumerate(sheets, start=1):
        base = f"/eagle/drawing/schematic/sheets/sheet[{page - 1}]"
        sheet_name = _plain(sheet.findtext("description"))
        for i, inst in enumerate(sheet.findall("instances/instance")):
            where = f"{base}/instances/instance[{i}]"
            name = _attr(file, inst, "part", where)
            if name not in components:
                continue
            span = _span(f"e{page}-i{i}", name, page, _float(file, inst, "x", where), _float(file, inst, "y", where))
            spans.append(span)
            if name not in placed:  # a part drawn in several gates sits where its first gate is
                components[name].page, components[name].bbox = page, span.bbox
                components[name].sheet = sheet_name
                placed.add(name)
        for i, text in enumerate(sheet.findall("plain/text")):
            where = f"{base}/plain/text[{i}]"
            if (text.text or "").strip():
                spans.append(_span(f"e{page}-t{i}", text.text.strip(), page, _float(file, text, "x", where),
                                   _float(file, text, "y", where)))  # fmt: skip
        for n, net in enumerate(sheet.findall("nets/net")):
            where = f"{base}/nets/net[{n}]"
            net_name = _attr(file, net, "name", where)
            if not net_name:
                raise BundleError(file, where, "net has an empty name")
            nets.setdefault(net_name, [])
            for s, segment in enumerate(net.findall("segment")):
                seg_where = f"{where}/segment[{s}]"
                for r, pinref in enumerate(segment.findall("pinref")):
                    ref_where = f"{seg_where}/pinref[{r}]"
                    part_name = _attr(file, pinref, "part", ref_where)
                    if part_name in components:
                        pin = _pin_name(_attr(file, pinref, "gate", ref_where), _attr(file, pinref, "pin", ref_where),
                                        gates_of[part_name])  # fmt: skip
                        if pin not in {p.name for p in components[part_name].pins}:
                            raise BundleError(file, ref_where, f"part {part_name!r} has no pin {pin!r}")
                        nets[net_name].append(Connection(component_id=part_name, pin=pin))
                    elif part_name not in all_parts:
                        raise BundleError(file, ref_where, f"pinref names part {part_name!r}, which does not exist")
                for label_i, label in enumerate(segment.findall("label")):
                    lw = f"{seg_where}/label[{label_i}]"
                    spans.append(_span(f"e{page}-n{n}-s{s}-l{label_i}", net_name, page, _float(file, label, "x", lw),
                                       _float(file, label, "y", lw)))  # fmt: skip
                seg_junctions = []
                for j, junction in enumerate(segment.findall("junction")):
                    jw = f"{seg_where}/junction[{j}]"
                    jx, jy = _float(file, junction, "x", jw), _float(file, junction, "y", jw)
                    seg_junctions.append(Junction(id=f"p{page}-n{n}-s{s}-j{j}", page=page, x=jx, y=jy, net=net_name))
                junctions.extend(seg_junctions)
                for w, wire in enumerate(segment.findall("wire")):
                    ww = f"{seg_where}/wire[{w}]"
                    start = (_float(file, wire, "x1", ww), _float(file, wire, "y1", ww))
                    end = (_float(file, wire, "x2", ww), _float(file, wire, "y2", ww))
                    touching = [x.id for x in seg_junctions if (x.x, x.y) in (start, end)]
                    segments.append(LineSegment(id=f"p{page}-n{n}-s{s}-w{w}", page=page, start=start, end=end,
                                                net=net_name, junction_ids=touching))  # fmt: skip
    return SourceDesign(
        source_document=file,
        components=list(components.values()),
        nets=[Net(name=name, connections=_unique(conns)) for name, conns in nets.items()],
        text_spans=spans,
        junctions=junctions,
        line_segments=segments,
        page_count=max(len(sheets), 1),
    )


def _unique(connections: list[Connection]) -> list[Connection]:
    """A pin drawn twice on one net (two segments touching it) is one connection."""
    return list({(c.component_id, c.pin): c for c in connections}.values())


def _pin_name(gate: str, pin: str, gate_count: int) -> str:
    return f"{gate}.{pin}" if gate_count > 1 else pin
