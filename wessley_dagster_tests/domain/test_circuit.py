"""Roles from topology, net roles and the retrieval descriptions built on them."""

from datetime import UTC, datetime

from wessley_dagster.domain.bundle import Bundle, Component, Connection, Manifest, Net, Netlist, Pin, TextSpan, Vehicle
from wessley_dagster.domain.chunking import build_chunks
from wessley_dagster.domain.circuit import Circuit, net_voltage
from wessley_dagster.domain.descriptions import describe_component, describe_net


def part(ref: str, kind: str, *pins: str, value: str | None = None, **extra) -> Component:
    return Component(id=ref, type=kind, value=value, page=1, pins=[Pin(name=p) for p in pins], **extra)


def board() -> Bundle:
    parts = [
        part(
            "U1",
            "can transceiver",
            "TXD",
            "CANH",
            "CANL",
            "VCC",
            "GND",
            description="High-speed CAN transceiver",
            sheet="CAN",
            value="TJA1051",
        ),
        part("R1", "resistor", "1", "2", value="120"),  # CANL -> jumper -> CANH: termination
        part("JP1", "jumper", "1", "2"),
        part("R2", "resistor", "1", "2", value="10k"),  # +5V -> RESET: pull-up
        part("R3", "resistor", "1", "2", value="100k"),  # RESET -> GND: pull-down
        part("C1", "capacitor", "1", "2", value="100n"),  # +5V -> GND: decoupling
        part("D1", "tvs diode", "1", "2"),  # CANH -> GND: clamp
        part("Q1", "mosfet", "G", "D", "S"),
        part("D2", "led", "1", "2"),
        part("R4", "resistor", "1", "2", value="1k"),  # LED current limit
    ]
    nets = {
        "CANH": [("U1", "CANH"), ("JP1", "2"), ("D1", "1")],
        "CANL": [("U1", "CANL"), ("R1", "1")],
        "N$7": [("R1", "2"), ("JP1", "1")],
        "+5V": [("U1", "VCC"), ("R2", "1"), ("C1", "1"), ("R4", "1")],
        "GND": [("U1", "GND"), ("R3", "2"), ("C1", "2"), ("D1", "2"), ("Q1", "S")],
        "RESET": [("R2", "2"), ("R3", "1")],
        "FAN_OUT": [("Q1", "D")],
        "FAN_EN": [("Q1", "G"), ("U1", "TXD")],
        "Net-(D2-Pad1)": [("R4", "2"), ("D2", "1")],
        "Net-(D2-Pad2)": [("D2", "2"), ("U1", "TXD")],
    }
    manifest = Manifest(
        project_id="p",
        job_id="j",
        user_id="u",
        vehicle=Vehicle(make="m", model="x", year=2020),
        source_document="b.net",
        page_count=1,
        created_at=datetime.now(UTC),
    )
    netlist = Netlist(
        nets=[Net(name=n, connections=[Connection(component_id=c, pin=p) for c, p in m]) for n, m in nets.items()]
    )
    spans = [TextSpan(id="s1", text="R1", page=1, bbox=(0, 0, 1, 1), confidence=1.0, engine="pdf-text")]
    parts[1].span_ids = ["s1"]
    return Bundle(manifest=manifest, text_spans=spans, components=parts, netlist=netlist)


def test_net_roles_and_voltages():
    c = Circuit(board())
    assert {n: c.roles[n].kind for n in ("GND", "+5V", "CANH", "RESET")} == {
        "GND": "ground",
        "+5V": "power",
        "CANH": "bus",
        "RESET": "signal",
    }
    assert [net_voltage(n) for n in ("+5V", "3V3", "VBAT_12V", "+3.3V", "RESET", "INJ-01")] == [
        "5 V",
        "3.3 V",
        "12 V",
        "3.3 V",
        None,
        None,
    ]


def test_roles_from_topology():
    c = Circuit(board())
    assert c.role("R1").startswith("termination resistor across CANL (can low")  # through the jumper to CANH
    assert "CANH (can high" in c.role("R1")
    assert c.role("R2").startswith("pull-up resistor on RESET")
    assert c.role("R3").startswith("pull-down resistor on RESET")
    assert c.role("C1").startswith("decoupling bypass capacitor on the +5V")
    assert c.role("D1").startswith("protection clamp diode on CANH")
    assert c.role("R4").startswith("current-limiting resistor for LED D2")
    assert c.role("Q1") == "low-side switch, switches FAN_OUT (output), driven by FAN_EN (enable)"


def test_descriptions_say_what_where_how_and_next_to_what():
    bundle = board()
    c = Circuit(bundle)
    text = describe_component(c, bundle.components[0])
    for expected in (
        "U1: can transceiver TJA1051 with 5 pins",
        "CAN bus interface",
        "High-speed CAN transceiver",
        "sheet CAN, page 1",
        "CANH (high) to CANH (can high",
        "connected to ",
    ):
        assert expected in text
    net = describe_net(c, bundle.netlist.nets[0])
    assert net.startswith("net CANH (can high, can bus): bus line") and "U1 can transceiver TJA1051 pin CANH" in net


def test_every_chunk_points_at_a_part_or_net():
    chunks = build_chunks(board())
    text = [ch for ch in chunks if ch.chunk_type == "text"]
    assert text and all(ch.component_ids == ["R1"] for ch in text)  # the span names R1
    assert all(ch.component_id and ch.kind for ch in chunks if ch.chunk_type == "component")
    assert {ch.kind for ch in chunks if ch.chunk_type == "net"} == {"ground", "power", "bus", "signal"}
