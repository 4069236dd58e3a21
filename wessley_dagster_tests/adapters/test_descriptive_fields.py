"""The adapters keep what each format says about a part: description, library, part, footprint,
datasheet, user fields, sheet name and path, pin names and electrical types (KiCad); device and
package descriptions, technology attributes, sheet (Eagle); connector type, subtype, notes, pin
labels, cable type (WireViz). The fields reach the bundle files and the graph."""

from pathlib import Path

import pytest

from wessley_dagster.adapters.eagle import read_eagle
from wessley_dagster.adapters.importer import build_bundle
from wessley_dagster.adapters.kicad import read_kicad
from wessley_dagster.adapters.source import JobInfo
from wessley_dagster.adapters.wireviz import read_wireviz
from wessley_dagster.domain.graph_model import bundle_to_graph
from wessley_dagster_tests.conftest import SOURCES

# A KiCad 6 netlist as Eeschema writes it (hierarchical sheet, libsource description, fields,
# libparts with pin names and types), and the same design as the XML export.
KICAD6 = """(export (version "E")
  (design (source "ecu.kicad_sch") (tool "Eeschema 6.0.11")
    (sheet (number "1") (name "/") (tstamps "/"))
    (sheet (number "2") (name "/Power Supply/") (tstamps "/a1/")))
  (components
    (comp (ref "U3") (value "LM2940-5.0") (footprint "Package_TO_SOT_SMD:TO-263-3_TabPin2")
      (datasheet "http://www.ti.com/lit/ds/symlink/lm2940-n.pdf")
      (fields (field (name "MPN") "LM2940SX-5.0") (field (name "Footprint") "~"))
      (libsource (lib "Regulator_Linear") (part "LM2940S-5") (description "1A Low Dropout Regulator, 5V"))
      (property (name "Sheetname") (value "Power Supply"))
      (sheetpath (names "/Power Supply/") (tstamps "/a1/")) (tstamps "b2"))
    (comp (ref "C7") (value "100n") (footprint "Capacitor_SMD:C_0603_1608Metric")
      (libsource (lib "Device") (part "C") (description "Unpolarized capacitor"))
      (sheetpath (names "/Power Supply/") (tstamps "/a1/")) (tstamps "b3")))
  (libparts
    (libpart (lib "Regulator_Linear") (part "LM2940S-5") (description "1A LDO")
      (docs "https://example.invalid/lm2940.pdf")
      (pins (pin (num "1") (name "IN") (type "power_in")) (pin (num "2") (name "GND") (type "power_in"))
            (pin (num "3") (name "OUT") (type "power_out"))))
    (libpart (lib "Device") (part "C") (pins (pin (num "1") (name "~") (type "passive"))
                                               (pin (num "2") (name "~") (type "passive")))))
  (nets
    (net (code "1") (name "+12V") (node (ref "U3") (pin "1") (pinfunction "IN") (pintype "power_in")))
    (net (code "2") (name "GND") (node (ref "U3") (pin "2") (pinfunction "GND") (pintype "power_in"))
      (node (ref "C7") (pin "2") (pintype "passive")))
    (net (code "3") (name "+5V") (node (ref "U3") (pin "3") (pinfunction "OUT") (pintype "power_out"))
      (node (ref "C7") (pin "1") (pintype "passive")))))
"""

KICAD_XML = """<?xml version="1.0" encoding="utf-8"?>
<export version="E">
  <design><source>ecu.kicad_sch</source>
    <sheet number="1" name="/" tstamps="/"/><sheet number="2" name="/Power Supply/" tstamps="/a1/"/></design>
  <components>
    <comp ref="U3"><value>LM2940-5.0</value><footprint>Package_TO_SOT_SMD:TO-263-3_TabPin2</footprint>
      <datasheet>http://www.ti.com/lit/ds/symlink/lm2940-n.pdf</datasheet>
      <fields><field name="MPN">LM2940SX-5.0</field><field name="Footprint">~</field></fields>
      <libsource lib="Regulator_Linear" part="LM2940S-5" description="1A Low Dropout Regulator, 5V"/>
      <sheetpath names="/Power Supply/" tstamps="/a1/"/><tstamps>b2</tstamps></comp>
    <comp ref="C7"><value>100n</value><footprint>Capacitor_SMD:C_0603_1608Metric</footprint>
      <libsource lib="Device" part="C" description="Unpolarized capacitor"/>
      <sheetpath names="/Power Supply/" tstamps="/a1/"/></comp>
  </components>
  <libparts>
    <libpart lib="Regulator_Linear" part="LM2940S-5"><description>1A LDO</description>
      <pins><pin num="1" name="IN" type="power_in"/><pin num="2" name="GND" type="power_in"/>
        <pin num="3" name="OUT" type="power_out"/></pins></libpart>
    <libpart lib="Device" part="C"><pins><pin num="1" name="~" type="passive"/>
      <pin num="2" name="~" type="passive"/></pins></libpart>
  </libparts>
  <nets>
    <net code="1" name="+12V"><node ref="U3" pin="1" pinfunction="IN" pintype="power_in"/></net>
    <net code="2" name="GND"><node ref="U3" pin="2" pinfunction="GND" pintype="power_in"/>
      <node ref="C7" pin="2" pintype="passive"/></net>
    <net code="3" name="+5V"><node ref="U3" pin="3" pinfunction="OUT" pintype="power_out"/>
      <node ref="C7" pin="1" pintype="passive"/></net>
  </nets>
</export>
"""


@pytest.mark.parametrize(("name", "text"), [("ecu.net", KICAD6), ("ecu.xml", KICAD_XML)])
def test_kicad_keeps_every_descriptive_field(tmp_path: Path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    parts = {c.id: c for c in read_kicad(path).components}
    u3 = parts["U3"]
    assert u3.description == "1A Low Dropout Regulator, 5V"  # the part's own, over its libpart's
    assert (u3.library, u3.part) == ("Regulator_Linear:LM2940S-5", "LM2940S-5")
    assert u3.footprint == "Package_TO_SOT_SMD:TO-263-3_TabPin2"
    assert u3.datasheet == "http://www.ti.com/lit/ds/symlink/lm2940-n.pdf"
    assert u3.fields == {"MPN": "LM2940SX-5.0"}  # KiCad's "~" placeholder is no value
    assert (u3.sheet, u3.sheet_path, u3.page) == ("Power Supply", "/Power Supply/", 2)
    assert [(p.name, p.function, p.electrical_type) for p in u3.pins] == [
        ("1", "IN", "power_in"),
        ("2", "GND", "power_in"),
        ("3", "OUT", "power_out"),
    ]
    assert [(p.function, p.electrical_type) for p in parts["C7"].pins] == [(None, "passive")] * 2

    bundle, _, files = build_bundle("kicad", path, JobInfo("p", "j"))
    kinds = {c.id: c.type for c in bundle.components}
    assert kinds == {"U3": "voltage regulator", "C7": "capacitor"}
    graph = {row["props"]["id"]: row["props"] for row in bundle_to_graph(bundle).nodes["Component"]}
    assert graph["U3"]["description"] == u3.description and graph["U3"]["sheet_path"] == "/Power Supply/"
    assert '"MPN": "LM2940SX-5.0"' in graph["U3"]["fields"]
    written = dict((n, b) for n, b, _ in files)
    assert b'"datasheet": "http://www.ti.com/lit/ds/symlink/lm2940-n.pdf"' in written["components.json"]


def test_eagle_keeps_device_package_attributes_and_sheet():
    design = read_eagle(SOURCES / "oscc" / "hardware__boards__actuator_control__actuator_control_1.2.0.sch")
    parts = {c.id: c for c in design.components}
    can = parts["U14"]
    assert can.description.startswith("High-Speed CAN Transceiver")  # HTML reduced to text
    assert (can.library, can.part, can.footprint) == ("IC", "MCP2551", "SOIC8-6.0")
    assert parts["F1"].fields["MFG"] == "Littelfuse"  # a technology attribute
    assert parts["X1"].sheet == "Connectors, CAN, Pump Relay" and parts["Q1"].sheet == "Solenoid Bank 1"


def test_wireviz_keeps_connector_type_subtype_notes_and_pin_labels(tmp_path: Path):
    path = tmp_path / "loom.yml"
    path.write_text(
        "connectors:\n"
        "  X1: {type: Molex Micro-Fit 3.0, subtype: female, notes: ECU side, pinlabels: [GND, CANH, CANL]}\n"
        "  X2: {type: Deutsch DT, pincount: 3}\n"
        "cables:\n"
        "  W1: {type: twisted pair, notes: shielded CAN, wirecount: 3, colors: [BK, WH, BU], gauge: 0.5 mm2}\n"
        "connections:\n"
        "  - [X1: [1-3], W1: [1-3], X2: [1-3]]\n"
    )
    design = read_wireviz(path)
    x1 = next(c for c in design.components if c.id == "X1")
    assert (x1.part, x1.value, x1.description, x1.fields) == (
        "Molex Micro-Fit 3.0",
        "Molex Micro-Fit 3.0",
        "ECU side",
        {"subtype": "female"},
    )
    assert [p.function for p in x1.pins] == ["GND", "CANH", "CANL"]
    wire = next(n for n in design.nets if n.name == "W1:2")
    assert (wire.description, wire.color, wire.gauge) == ("twisted pair shielded CAN", "WH", "0.5 mm2")
