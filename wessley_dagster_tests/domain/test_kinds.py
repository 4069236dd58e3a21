"""A part's kind from everything its source says, on real cases from the repo's boards and the
designators that mislead (a harness connector drawn as U, a crystal as X, resistor arrays RN)."""

import pytest

from wessley_dagster.domain.kinds import PartFacts, classify, designator_kind, kinds_named

CASES = [
    # Speeduino v0.4.3d (value and footprint only)
    (
        PartFacts("Q4", value="Q_NMOS_GDS", footprint="Package_TO_SOT_THT:TO-220-3_Horizontal_TabDown", pin_count=3),
        "mosfet",
    ),
    (
        PartFacts("J8", value="Conn_01x03", footprint="Connector_PinHeader_2.54mm:PinHeader_1x03_P2.54mm_Vertical"),
        "connector",
    ),
    (
        PartFacts("JP5", value="PULL-UP", footprint="Connector_PinHeader_2.54mm:PinHeader_1x02_P2.54mm_Vertical"),
        "jumper",
    ),  # a header used as a jumper stays a jumper
    (PartFacts("JP10", value="SolderJumper_2_Bridged", footprint="Jumper:SolderJumper-2_P1.3mm_Bridged"), "jumper"),
    (PartFacts("F1", value="Polyfuse", footprint="Fuse:Fuse_BelFuse_0ZRE0055FF_L14.0mm_W4.1mm"), "fuse"),
    (PartFacts("C17", value="10uF", footprint="Capacitor_THT:CP_Radial_D5.0mm_P2.00mm"), "electrolytic capacitor"),
    (PartFacts("R35", value="2.49k", footprint="Resistor_THT:R_Axial_DIN0204_L3.6mm_D1.6mm"), "resistor"),
    (PartFacts("D10", value="LED", footprint="LED_THT:LED_D3.0mm"), "led"),
    (
        PartFacts("U8", value="LM2940S-5.0", footprint="Package_TO_SOT_THT:TO-220-3_Horizontal_TabDown"),
        "voltage regulator",
    ),
    (PartFacts("XA1", value="Arduino_Mega2560_Shield", footprint="Module:Arduino_Mega2560_Shield"), "microcontroller"),
    # rusEFI injector board (KiCad 2013: library and part names, no descriptions)
    (PartFacts("D414", library="device:LED", part="LED", value="LED_0805"), "led"),
    (PartFacts("R402", library="device:R", part="R", value="0R"), "resistor"),
    (PartFacts("P403", library="conn:CONN_16", part="CONN_16", value="CONN_16"), "connector"),
    # OSCC boards (Eagle: device set descriptions, technology attributes)
    (PartFacts("U14", description="High-Speed CAN Transceiver", library="IC", part="MCP2551"), "can transceiver"),
    (PartFacts("U15", description="Stand-Alone CAN Controller With SPI Interface", part="MCP2515"), "can controller"),
    (PartFacts("X1", description="CRYSTAL", part="CRYSTAL*", value="16MHz"), "crystal"),
    (
        PartFacts("C1", description="Device for Non-Polarized Capacitors.", part="CAPACITOR_NP", value=".1u"),
        "capacitor",
    ),
    (PartFacts("U4", part="TL750M", pin_count=3, pin_functions=("GND", "VIN", "VOUT")), "voltage regulator"),
    (PartFacts("RELAY1", part="RELAY_DPDT", value="RELAY_DPDT"), "relay"),
    # Misleading designators
    (PartFacts("U5", description="Molex Micro-Fit 3.0 connector, 12 ways", pin_count=12), "connector"),
    (PartFacts("X2", value="8MHz", pin_count=2), "crystal"),
    (PartFacts("RN1", part="R_Pack04", value="4x10k", pin_count=8), "resistor array"),
    (PartFacts("R7", value="10k", pin_count=9), "resistor array"),
    (PartFacts("Q9", description="Quad low-side driver", pin_count=16), "gate driver"),
    (PartFacts("Q3", value="BC847", pin_count=3), "transistor"),
    (PartFacts("Z1", pin_count=2), "component"),
]


@pytest.mark.parametrize(("facts", "kind"), CASES, ids=[f.ref for f, _ in CASES])
def test_kind_from_the_source(facts: PartFacts, kind: str):
    assert classify(facts) == kind


def test_designators_are_the_last_resort():
    assert [designator_kind(r) for r in ("R12", "K3", "F21", "TP4", "LED2", "9Q")] == [
        "resistor",
        "relay",
        "fuse",
        "test point",
        "led",
        "component",
    ]


def test_kinds_a_question_names_include_their_specialisations():
    assert kinds_named("which transistors drive the injectors") == ["transistor", "mosfet"]
    assert "tvs diode" in kinds_named("protection diodes") and kinds_named("CAN transceiver") == ["can transceiver"]
    assert kinds_named("what is on the power sheet") == []
