"""Kinds, drawing-only parts and roles of real parts on the ten boards in `data/sources/`, read
through their adapters as the pipeline reads them: the cases where a designator letter or a bare
part number used to decide wrongly."""

from pathlib import Path

import pytest

from wessley_dagster.adapters.importer import build_bundle
from wessley_dagster.adapters.source import JobInfo
from wessley_dagster.domain.chunking import build_chunks
from wessley_dagster.domain.circuit import Circuit

SOURCES = Path(__file__).resolve().parents[2] / "data" / "sources"
BOARDS = {
    "cantact": ("kicad", "cantact-hw/cantact.net"),
    "vesc": ("kicad", "vesc-bldc-4.12/design__BLDC_4.net"),
    "rusefi": ("kicad", "rusefi-inj12ch/classic-designs__1A_injector_12-channels__inj_12ch.net"),
    "pedal": ("eagle", "comma-pedal-interceptor/pedal__board__interceptor.sch"),
    "bms": ("eagle", "openinverter-bms-batmeas5.2/BMS_Slave_Files__Archive__BatMeas5.2_JST.sch"),
    "obd2": ("eagle", "sparkfun-obd2-uart/Hardware__OBD-II-UART.sch"),
    "oscc": ("eagle", "oscc/hardware__boards__actuator_control__actuator_control_1.2.0.sch"),
    "speeduino": ("pcb-json", "speeduino-v0.4.3d/v0.4.3d.pcb_netlist.json"),
}
_circuits: dict[str, Circuit] = {}


def circuit(board: str) -> Circuit:
    if board not in _circuits:
        kind, path = BOARDS[board]
        _circuits[board] = Circuit(build_bundle(kind, SOURCES / path, JobInfo(board, "t"))[0])
    return _circuits[board]


KINDS = [
    ("vesc", "U2", "voltage regulator"),  # value TC2117, part NCP1117ST33T3G: the catalogue knows the family
    ("vesc", "U3", "gate driver"),  # DRV8302, a bare part number
    ("vesc", "R53", "shunt resistor"),  # a 4-terminal current shunt, not a resistor array
    ("vesc", "R54", "shunt resistor"),
    ("vesc", "U1", "microcontroller"),
    ("vesc", "U401", "can transceiver"),
    ("vesc", "Q1", "mosfet"),
    ("vesc", "R1", "thermistor"),
    ("vesc", "D4", "schottky diode"),
    ("vesc", "X1", "connector"),  # a mini-USB socket drawn as X
    ("vesc", "K1", "connector"),  # a servo header drawn as K, which would be a relay
    ("cantact", "U2", "voltage regulator"),  # AAT3221: IN/OUT/GND pins
    ("cantact", "U3", "can transceiver"),
    ("cantact", "U1", "microcontroller"),  # STM32F042C6T6, from the catalogue
    ("cantact", "JP2", "jumper"),  # a 2x2 header drawn as a jumper
    ("cantact", "TP1", "test point"),
    ("cantact", "X1", "crystal"),
    ("pedal", "U2", "voltage regulator"),  # MIC5205 "vreg"
    ("pedal", "U6", "op amp"),
    ("pedal", "J15", "connector"),  # RJ45 to OBD-II
    ("pedal", "J3", "connector"),  # USB-A
    ("pedal", "U3", "can transceiver"),  # TJA1042
    ("bms", "IC1", "microcontroller"),  # ATtiny24 drawn as IC
    ("bms", "IC2", "voltage regulator"),
    ("bms", "D1", "zener diode"),
    ("bms", "D2", "schottky diode"),
    ("bms", "T4", "transistor"),
    ("bms", "JP1", "connector"),  # a 2x5 ISP header with its pins wired
    ("obd2", "IC3", "comparator"),
    ("obd2", "IC4", "can transceiver"),
    ("obd2", "U2", "voltage regulator"),  # LM317
    ("obd2", "Q9", "mosfet"),
    ("obd2", "X2", "connector"),  # the DB9
    ("obd2", "JP2", "logo"),  # a fiducial
    ("obd2", "JP4", "mounting hole"),  # a stand-off
    ("obd2", "U$1", "logo"),  # the Creative Commons mark
    ("rusefi", "Q401", "mosfet"),
    ("rusefi", "D414", "led"),
    ("oscc", "RELAY1", "relay"),
    ("speeduino", "U8", "voltage regulator"),
]


@pytest.mark.parametrize(("board", "ref", "kind"), KINDS, ids=[f"{b}-{r}" for b, r, _ in KINDS])
def test_kind_of_a_real_part(board: str, ref: str, kind: str):
    assert circuit(board).kinds[ref] == kind


def test_drawing_only_parts_are_chunked_but_marked():
    chunks = {c.component_id: c for c in build_chunks(circuit("obd2").bundle) if c.component_id}
    drawn = {ref for ref, chunk in chunks.items() if chunk.drawing_only}
    assert drawn == {"JP2", "JP3", "JP4", "JP5", "JP6", "JP7", "JP10", "U$1", "U$14"}
    assert not chunks["IC1"].drawing_only and not chunks["JP8"].drawing_only


@pytest.mark.parametrize(
    ("board", "ref", "says"),
    [
        ("vesc", "C28", "bootstrap capacitor on U3 pin BST_A"),
        ("vesc", "R28", "gate resistor of Q1"),
        ("vesc", "R3", "voltage divider with R4"),
        ("vesc", "C15", "crystal load capacitor of X2"),
        ("vesc", "U3", "6 mosfet"),  # the gate driver reaches its MOSFETs through the gate resistors
        ("obd2", "X2", "main harness connector"),
        ("pedal", "C1", "core regulator capacitor capacitor on U1"),
    ],
)
def test_a_part_is_named_by_what_it_serves(board: str, ref: str, says: str):
    from wessley_dagster.domain.descriptions import describe_component

    c = circuit(board)
    assert says in describe_component(c, c.components[ref])
