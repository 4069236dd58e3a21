"""Datasets that are not in the repo: a KiCad 8 S-expression netlist and a KiCad XML export,
written here from KiCad's documented format, through the import and the pipeline."""

from pathlib import Path

import pytest

from wessley_dagster.adapters.kicad import read_kicad
from wessley_dagster_tests.adapters.test_ground_truth import connectivity_diff, ingest

PARTS = {
    "R1": ("10k", "Device", "R", ["1", "2"]),
    "C7": ("100nF", "Device", "C", ["1", "2"]),
    "U3": ("TJA1051T/3", "Interface_CAN_LIN", "TJA1051T-3", ["1", "2", "3", "4", "5", "6", "7", "8"]),
    "J2": ("Conn_01x04", "Connector", "Conn_01x04", ["1", "2", "3", "4"]),
}
NETS = {
    "GND": [("C7", "2"), ("U3", "2"), ("J2", "4")],
    "+5V": [("R1", "1"), ("C7", "1"), ("U3", "3")],
    "/CAN bus/CANH": [("U3", "7"), ("J2", "2")],
    '/CAN bus/CAN"L"': [("U3", "6"), ("J2", "3")],
    "Net-(U3-S)": [("U3", "8"), ("R1", "2")],
    "unconnected-(U3-Vio-Pad5)": [("U3", "5")],
}
SHEETS = {"/": 1, "/CAN bus/": 2}
SHEET_OF = {"R1": "/", "C7": "/", "U3": "/CAN bus/", "J2": "/CAN bus/"}


def q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def kicad8_sexpr() -> str:
    sheets = " ".join(
        f"(sheet (number {q(str(n))}) (name {q(name)}) (tstamps {q(name)}))" for name, n in SHEETS.items()
    )
    comps = "\n".join(
        f'(comp (ref {q(ref)}) (value {q(v)}) (footprint "Lib:FP") (libsource (lib {q(lib)}) (part {q(part)}) '
        f'(description "x")) (property (name "Sheetname") (value "")) (sheetpath (names {q(SHEET_OF[ref])}) '
        f'(tstamps "/")) (tstamps "0000"))'
        for ref, (v, lib, part, _) in PARTS.items()
    )
    libparts = "\n".join(
        f"(libpart (lib {q(lib)}) (part {q(part)}) (pins "
        + " ".join(f'(pin (num {q(p)}) (name "~") (type "passive"))' for p in pins)
        + "))"
        for _, (_, lib, part, pins) in PARTS.items()
    )
    nets = "\n".join(
        f'(net (code {q(str(i))}) (name {q(name)}) (class "Default") '
        + " ".join(f'(node (ref {q(r)}) (pin {q(p)}) (pintype "passive"))' for r, p in nodes)
        + ")"
        for i, (name, nodes) in enumerate(NETS.items(), start=1)
    )
    return (
        f'(export (version "E")\n (design (source "can.kicad_sch") (tool "Eeschema 8.0.4") {sheets})\n'
        f" (components\n{comps})\n (libparts\n{libparts})\n (nets\n{nets}))\n"
    )


def kicad_xml() -> str:
    from xml.sax.saxutils import quoteattr as a

    sheets = "".join(f"<sheet number={a(str(n))} name={a(name)} tstamps={a(name)}/>" for name, n in SHEETS.items())
    comps = "".join(
        f"<comp ref={a(ref)}><value>{v}</value><footprint>Lib:FP</footprint><libsource lib={a(lib)} part={a(part)}/>"
        f'<sheetpath names={a(SHEET_OF[ref])} tstamps="/"/></comp>'
        for ref, (v, lib, part, _) in PARTS.items()
    )
    libparts = "".join(
        f"<libpart lib={a(lib)} part={a(part)}><pins>"
        + "".join(f'<pin num={a(p)} name="~" type="passive"/>' for p in pins)
        + "</pins></libpart>"
        for _, (_, lib, part, pins) in PARTS.items()
    )
    nets = "".join(
        f'<net code="{i}" name={a(name)}>' + "".join(f"<node ref={a(r)} pin={a(p)}/>" for r, p in nodes) + "</net>"
        for i, (name, nodes) in enumerate(NETS.items(), start=1)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><export version="E"><design>{sheets}</design>'
        f"<components>{comps}</components><libparts>{libparts}</libparts><nets>{nets}</nets></export>"
    )


@pytest.mark.parametrize(("name", "make"), [("can_node.net", kicad8_sexpr), ("can_node.xml", kicad_xml)])
def test_kicad_exports_not_in_the_repo(name, make, tmp_path: Path, env, resources, instance):
    path = tmp_path / name
    path.write_text(make())
    design = read_kicad(path)
    assert {c.id: c.page for c in design.components} == {"R1": 1, "C7": 1, "U3": 2, "J2": 2}
    assert [p.name for p in next(c for c in design.components if c.id == "U3").pins] == PARTS["U3"][3]
    _, (nets, values) = ingest("kicad", path, env, resources, instance)
    assert connectivity_diff({k: set(v) for k, v in NETS.items()}, nets) == []
    assert values == {ref: v for ref, (v, *_) in PARTS.items()}
