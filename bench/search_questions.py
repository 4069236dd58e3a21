"""Technician questions over the ten real boards in `data/sources/`, each tagged with what it asks
for and with its relevant set derived from the netlist (reference designators and net names read
off the netlist, or a rule over kinds, nets and values), never from a chunk or a search result.

Kinds of question: `component` (a part by what it is or does), `circuit` (a part or net by its
role in the circuit: a divider, a rail, a bus line) and `term` (a technical term or abbreviation).
The questions of the five boards added in December 2026 were written from their netlists before
any search ran on them; see `search_quality.py` for how figures are kept leave-one-board-out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wessley_dagster.adapters.importer import build_bundle
from wessley_dagster.adapters.source import JobInfo
from wessley_dagster.domain.bundle import Bundle
from wessley_dagster.domain.circuit import Circuit

SOURCES = Path(__file__).resolve().parent.parent / "data" / "sources"
Rule = Callable[[Circuit], set[str]]


@dataclass(frozen=True)
class Board:
    project: str
    kind: str
    path: Path
    pdf: Path | None = None

    def bundle(self) -> Bundle:
        """The board as the adapters import it, under its own project (job "rev")."""
        return build_bundle(self.kind, self.path, JobInfo(self.project, "rev"), self.pdf)[0]


BOARDS = (
    Board(
        "rusefi-inj12", "kicad", SOURCES / "rusefi-inj12ch" / "classic-designs__1A_injector_12-channels__inj_12ch.net"
    ),
    Board(
        "speeduino",
        "pcb-json",
        SOURCES / "speeduino-v0.4.3d" / "v0.4.3d.pcb_netlist.json",
        SOURCES / "speeduino-v0.4.3d" / "v0.4__THT__Latest__v0.4.3d.pdf",
    ),
    Board("oscc-sensor", "eagle", SOURCES / "oscc" / "hardware__boards__sensor_interface__sensor_interface_1.1.0.sch"),
    Board(
        "oscc-actuator", "eagle", SOURCES / "oscc" / "hardware__boards__actuator_control__actuator_control_1.2.0.sch"
    ),
    Board("zombie-harness", "wireviz", SOURCES / "zombie-vcu-harness" / "zombie.yml"),
    Board("cantact", "kicad", SOURCES / "cantact-hw" / "cantact.net", SOURCES / "cantact-hw" / "cantact.pdf"),
    Board(
        "vesc",
        "kicad",
        SOURCES / "vesc-bldc-4.12" / "design__BLDC_4.net",
        SOURCES / "vesc-bldc-4.12" / "design__BLDC_4.pdf",
    ),
    Board("comma-pedal", "eagle", SOURCES / "comma-pedal-interceptor" / "pedal__board__interceptor.sch"),
    Board(
        "bms-batmeas",
        "eagle",
        SOURCES / "openinverter-bms-batmeas5.2" / "BMS_Slave_Files__Archive__BatMeas5.2_JST.sch",
        SOURCES / "openinverter-bms-batmeas5.2" / "BMS_Slave_Files__Archive__BatMeas5.2_JST.pdf",
    ),
    Board("obd2-uart", "eagle", SOURCES / "sparkfun-obd2-uart" / "Hardware__OBD-II-UART.sch"),
)
KINDS = ("component", "circuit", "term")


def parts(
    *kinds: str,
    on: str | None = None,
    also_on: str | None = None,
    value: str | None = None,
    min_pins: int = 0,
    ident: str | None = None,
    near: str | None = None,
) -> Rule:
    """Components of these kinds (substring match; any kind if none) touching a net matching `on`
    (and one matching `also_on`), with a value matching `value`, at least `min_pins` pins, sharing
    a net with a part of kind `near`."""

    def rule(c: Circuit) -> set[str]:
        found = set()
        for cid, comp in c.components.items():
            if kinds and not any(k in c.kinds[cid] for k in kinds):
                continue
            nets = c.component_nets(cid)
            if on and not any(re.search(on, n, re.I) for n in nets):
                continue
            if also_on and not any(re.search(also_on, n, re.I) for n in nets):
                continue
            if value and not re.search(value, f"{comp.value} {comp.part} {comp.library}", re.I):
                continue
            if ident and not re.search(ident, cid, re.I):
                continue
            if near and not any(near in c.kinds[m.component_id] for n in nets for m in c.members[n]):
                continue
            if len(comp.pins) >= min_pins:
                found.add(cid)
        return found

    return rule


def nets(pattern: str) -> Rule:
    return lambda c: {f"net:{n}" for n in c.members if re.search(pattern, n, re.I)}


def either(*rules: Rule) -> Rule:
    return lambda c: set().union(*(r(c) for r in rules))


def ids(*refs: str) -> Rule:
    """Parts by reference designator and nets by exact name (`net:` prefix), as read off the
    netlist; a name the board does not have is an error, not an empty answer."""

    def rule(c: Circuit) -> set[str]:
        missing = [
            r for r in refs if r.removeprefix("net:") not in (c.members if r.startswith("net:") else c.components)
        ]
        if missing:
            raise ValueError(f"not on the board: {missing}")
        return set(refs)

    return rule


@dataclass(frozen=True)
class Question:
    project: str
    kind: str  # one of KINDS
    text: str
    rule: Rule


C, R, T = "component", "circuit", "term"
_Q = Question

QUESTIONS: tuple[Question, ...] = (
    # rusEFI 12-channel injector driver (KiCad 2013 netlist)
    _Q(
        "rusefi-inj12",
        C,
        "which transistors switch the fuel injectors",
        parts("mosfet", "transistor", on=r"^/INJ-\d+$"),
    ),
    _Q(
        "rusefi-inj12",
        R,
        "flyback diodes that protect the injector outputs",
        parts("diode", on=r"^/INJ-\d+$", also_on="GND"),
    ),
    _Q("rusefi-inj12", C, "connector for the injector harness", parts("connector", on=r"^/INJ-\d+$")),
    _Q(
        "rusefi-inj12",
        R,
        "header carrying the logic-level injector commands from the ECU",
        parts("connector", on=r"_5V$"),
    ),
    _Q("rusefi-inj12", C, "power input terminal block", parts("connector", on=r"^/3\.3V$", also_on="GND")),
    _Q("rusefi-inj12", R, "gate pull-down resistors that keep the drivers off", parts("resistor", on="GND")),
    _Q("rusefi-inj12", C, "status LED", parts("led")),
    _Q("rusefi-inj12", R, "5 volt supply rail", nets(r"^/5V$")),
    _Q("rusefi-inj12", T, "ground net", nets("^GND$")),
    _Q("rusefi-inj12", R, "injector channel 7 output line", nets(r"^/INJ-07$")),
    _Q("rusefi-inj12", R, "series gate resistor for injector channel 3", parts("resistor", on=r"^/INJ-03_5V$")),
    _Q("rusefi-inj12", C, "mounting hole or mechanical part", parts(ident="^M")),
    _Q("rusefi-inj12", T, "low-side driver", ids(*(f"Q4{i:02d}" for i in range(1, 13)))),
    _Q("rusefi-inj12", R, "logic input of injector channel 1", ids("net:/INJ-01_5V")),
    _Q("rusefi-inj12", R, "zero ohm link on the first injector output", ids("R402")),
    # Speeduino v0.4.3d (PCB netlist + schematic PDF)
    _Q("speeduino", C, "the 5 V voltage regulator", parts("voltage regulator")),
    _Q(
        "speeduino",
        R,
        "reverse polarity protection diode on the 12 V input",
        parts("diode", on="12V", also_on="VRegIn"),
    ),
    _Q("speeduino", T, "manifold pressure sensor", either(parts(on="MAP-EXT"), nets("MAP-EXT"), parts(value="MPX"))),
    _Q("speeduino", R, "clamp chips protecting the analog inputs", parts("integrated circuit", on="ADC-Clamp")),
    _Q("speeduino", R, "coolant temperature sensor filter capacitor", parts("capacitor", on="CLT")),
    _Q("speeduino", R, "intake air temperature sensor bias resistor", parts("resistor", on="IAT", also_on="VDDA")),
    _Q("speeduino", R, "ignition coil outputs", nets(r"^IGN-\d-OUT$")),
    _Q("speeduino", C, "MOSFETs driving the fuel injectors", parts("mosfet", on=r"^INJ-\d-OUT$")),
    _Q("speeduino", R, "idle valve output driver", either(parts("mosfet", on="IDLE"), nets("IDLE"))),
    _Q("speeduino", R, "fuel pump output", either(nets("FUELPUMP"), parts(on="FUELPUMP"))),
    _Q("speeduino", C, "stepper motor driver board", parts(value="DRV8825|Pololu")),
    _Q("speeduino", C, "the Arduino Mega the board plugs onto", parts(value="Mega")),
    _Q("speeduino", T, "tachometer output signal", nets("TACH")),
    _Q("speeduino", T, "crank position sensor input", nets("CRANK")),
    _Q("speeduino", R, "polyfuse protecting the analog supply", parts("fuse", on="VDDA")),
    _Q("speeduino", C, "main 40-pin wiring connector", parts("connector", min_pins=40)),
    _Q("speeduino", C, "high-current darlington driver for the auxiliary outputs", parts(value="ULN2003")),
    # OSCC sensor interface (Eagle)
    _Q("oscc-sensor", C, "CAN transceiver", parts("can transceiver")),
    _Q("oscc-sensor", R, "CAN bus termination resistor", parts("resistor", on="^CAN[HL]$")),
    _Q("oscc-sensor", C, "CAN controller chip with the SPI interface", parts("can controller")),
    _Q("oscc-sensor", C, "clock crystal for the CAN controller", parts("crystal")),
    _Q("oscc-sensor", C, "regulator making 5 V from vehicle power", parts("voltage regulator")),
    _Q("oscc-sensor", C, "relay that switches between the real and the spoofed sensor signal", parts("relay")),
    _Q(
        "oscc-sensor",
        R,
        "DAC that generates the spoofed sensor signals",
        parts("integrated circuit", on="SPOOF_SIGNAL"),
    ),
    _Q("oscc-sensor", R, "connector where the original sensor signals come in", parts("connector", on="SIGNAL_INPUT")),
    _Q("oscc-sensor", T, "CAN high line", nets("^CANH$")),
    _Q("oscc-sensor", C, "power input connector", parts("connector", on=r"^V\+$")),
    _Q("oscc-sensor", R, "pull-up on the CAN controller reset", parts("resistor", on="RST")),
    _Q("oscc-sensor", R, "decoupling capacitors on the 5 V rail", parts("capacitor", on=r"^\+5V$", also_on="^GND$")),
    _Q("oscc-sensor", C, "status LEDs", parts("led")),
    _Q("oscc-sensor", R, "signal that enables spoofing", ids("net:SPOOF_EN")),
    _Q("oscc-sensor", T, "LDAC", ids("net:LDAC")),
    # OSCC actuator control (Eagle, six sheets)
    _Q("oscc-actuator", R, "MOSFETs that drive the brake solenoids", parts("mosfet", on=r"^S\d_G$")),
    _Q("oscc-actuator", R, "current sense resistors of the solenoid drivers", parts("resistor", on=r"^S\d_SENS_N$")),
    _Q("oscc-actuator", R, "main fuse on the battery input", parts("fuse", on=r"^V\+$")),
    _Q("oscc-actuator", C, "fuse for the brake pump motor", parts("fuse", on="PUMP")),
    _Q("oscc-actuator", C, "relay for the pump", parts("relay")),
    _Q("oscc-actuator", C, "CAN transceiver", parts("can transceiver")),
    _Q("oscc-actuator", T, "CAN low line", nets("^CANL$")),
    _Q(
        "oscc-actuator",
        R,
        "flyback diodes across the solenoids",
        parts("diode", near="mosfet", on=r"^N\$", also_on=r"^N\$"),
    ),
    _Q(
        "oscc-actuator",
        R,
        "connectors for the solenoid coils",
        parts("connector", near="mosfet", on=r"^N\$", also_on=r"^N\$"),
    ),
    _Q("oscc-actuator", R, "PWM signals commanding the solenoid drivers", nets(r"^S\d_PWM$")),
    _Q("oscc-actuator", R, "current sense amplifier outputs read by the ADC", nets(r"^S\d_SENS_OUT$")),
    _Q("oscc-actuator", R, "the 5 V supply", nets(r"^\+5V$")),
    _Q("oscc-actuator", T, "pump enable signal", nets("PUMP_EN")),
    _Q("oscc-actuator", C, "Arduino analog input header", parts("connector", ident="^ADC")),
    _Q("oscc-actuator", R, "gate drive signal of solenoid 3", ids("net:S3_G")),
    _Q("oscc-actuator", T, "MISO", ids("net:MISO")),
    # Zombie VCU harness (WireViz)
    _Q("zombie-harness", C, "accelerator pedal connector", parts(ident="pedal")),
    _Q("zombie-harness", C, "inverter connectors", parts(ident="inverter")),
    _Q("zombie-harness", C, "motor resolver connectors", parts(ident="resolver")),
    _Q("zombie-harness", C, "transmission oil pump connector", parts(ident="oil_pump")),
    _Q("zombie-harness", C, "shift lever position sensor connector", parts(ident="shift_lever")),
    _Q("zombie-harness", T, "vehicle speed sensor connector", parts(ident="speed_sensor")),
    _Q("zombie-harness", C, "the VCU main connector", parts(ident="zombie56")),
    _Q("zombie-harness", C, "gearbox solenoid connector", parts(ident="ect_solenoid")),
    _Q("zombie-harness", C, "ring terminal for the 12 V feed", parts(ident="ring_terminal")),
    _Q("zombie-harness", T, "APP1 pedal position signal", ids("net:Go-NoGo-Pedal:3", "honda_fit_pedal")),
    _Q("zombie-harness", R, "resolver wires of motor generator 2", nets("^MG2_Resolver")),
    _Q("zombie-harness", C, "Lexus LS600h inverter connector", ids("ls600hl_inverter")),
    _Q("zombie-harness", C, "MG1 resolver connector", ids("mg1_resolver_conn")),
    _Q("zombie-harness", R, "battery feed of the oil pump", ids("net:Oil_Pump_B:1")),
    _Q("zombie-harness", T, "SL1 shift solenoid", ids("net:Trans_ECT:3", "l110_ect_solenoid")),
    # CANtact v0.2 USB-CAN interface (KiCad 2014 netlist + Eeschema PDF)
    _Q("cantact", C, "microcontroller of the USB to CAN adapter", ids("U1")),
    _Q("cantact", C, "CAN bus transceiver chip", ids("U3")),
    _Q("cantact", C, "3.3 V voltage regulator", ids("U2")),
    _Q("cantact", C, "crystal for the microcontroller clock", ids("X1")),
    _Q("cantact", R, "load capacitors of the crystal", ids("C5", "C9")),
    _Q("cantact", C, "DB9 connector to the vehicle CAN bus", ids("P3")),
    _Q("cantact", C, "USB connector", ids("P1")),
    _Q("cantact", C, "SWD programming and debug header", ids("P2")),
    _Q("cantact", R, "120 ohm CAN termination resistor", ids("R4")),
    _Q("cantact", R, "jumper that enables the bus termination", ids("JP2")),
    _Q("cantact", C, "status LEDs", ids("D1", "D2")),
    _Q("cantact", R, "series resistors of the status LEDs", ids("R2", "R3")),
    _Q("cantact", C, "boot mode jumper", ids("JP1")),
    _Q("cantact", R, "jumpers that choose which DB9 pins carry CAN high and CAN low", ids("JP3", "JP4")),
    _Q("cantact", R, "test points on the CAN transmit and receive lines", ids("TP2", "TP3")),
    _Q("cantact", R, "bypass capacitors on the 5 V USB supply", ids("C14", "C16")),
    _Q("cantact", R, "CAN transmit data line from the microcontroller to the transceiver", ids("net:/CAN_TX")),
    _Q("cantact", R, "CAN receive data line", ids("net:/CAN_RX")),
    _Q("cantact", R, "USB data lines", ids("net:/USB_DM", "net:/USB_DP")),
    _Q("cantact", R, "3.3 V logic supply rail", ids("net:+3.3V")),
    _Q("cantact", R, "pull-down resistor that holds BOOT0 low", ids("R1")),
    _Q("cantact", T, "CANH", ids("U3", "JP3", "net:Net-(JP2-Pad2)")),
    _Q("cantact", T, "SWCLK", ids("net:/SWCLK", "P2")),
    _Q("cantact", T, "VBUS", ids("P1", "net:+5V")),
    _Q("cantact", T, "NRST", ids("net:/NRST", "U1", "P2")),
    # VESC 4.12 BLDC motor controller (KiCad 2015 netlist, 7 sheets + Eeschema PDF)
    _Q("vesc", C, "three-phase MOSFET gate driver", ids("U3")),
    _Q("vesc", C, "power MOSFETs of the motor bridge", ids("Q1", "Q2", "Q3", "Q4", "Q5", "Q6")),
    _Q("vesc", C, "current shunt resistors", ids("R53", "R54")),
    _Q("vesc", C, "main microcontroller", ids("U1")),
    _Q("vesc", C, "CAN transceiver", ids("U401")),
    _Q("vesc", C, "3.3 V LDO regulator", ids("U2")),
    _Q("vesc", R, "inductor of the buck converter making 5 V", ids("L1")),
    _Q(
        "vesc",
        R,
        "bulk capacitors on the battery supply",
        ids("C1", "C8", "C9", "C37", "C39", "C40", "C43", "C44", "C49", "C51"),
    ),
    _Q("vesc", R, "bootstrap capacitors of the high-side gate drivers", ids("C28", "C29", "C30")),
    _Q("vesc", R, "gate resistors of the power MOSFETs", ids("R28", "R29", "R34", "R35", "R42", "R43")),
    _Q("vesc", C, "motor phase output terminals", ids("P6", "P7", "P9")),
    _Q("vesc", C, "battery power input pads", ids("P4", "P5")),
    _Q("vesc", C, "hall sensor and encoder connector", ids("P1")),
    _Q("vesc", C, "NTC thermistor measuring the MOSFET temperature", ids("R1")),
    _Q("vesc", C, "USB connector", ids("X1")),
    _Q("vesc", C, "CAN bus connector", ids("P101")),
    _Q("vesc", C, "servo PPM input connector", ids("K1")),
    _Q("vesc", C, "8 MHz crystal", ids("X2")),
    _Q("vesc", C, "red and green status LEDs", ids("D1", "D2")),
    _Q("vesc", R, "TVS diode protecting the 5 V rail", ids("D5")),
    _Q("vesc", C, "SWD debug connector", ids("P2")),
    _Q(
        "vesc",
        R,
        "phase voltage sense dividers",
        ids("R23", "R24", "R26", "R27", "R32", "R33", "net:/MCU/SENS1", "net:/MCU/SENS2", "net:/MCU/SENS3"),
    ),
    _Q("vesc", R, "RC filters on the hall sensor inputs", ids("R8", "R9", "R10", "C5", "C6", "C7")),
    _Q("vesc", R, "gate driver enable signal", ids("net:/MCU/EN_GATE")),
    _Q("vesc", R, "fault signal from the gate driver to the microcontroller", ids("net:/MCU/FAULT")),
    _Q("vesc", R, "current sense amplifier outputs", ids("net:/MCU/BR_SO1", "net:/MCU/BR_SO2")),
    _Q("vesc", R, "input voltage measurement divider", ids("R3", "R4")),
    _Q("vesc", R, "motor supply rail from the battery", ids("net:V_SUPPLY")),
    _Q("vesc", T, "CANL", ids("net:/CAN bus transceiver/CANL", "U401", "P101")),
    _Q("vesc", T, "EN_GATE", ids("net:/MCU/EN_GATE", "U3")),
    _Q("vesc", T, "PVDD", ids("U3", "net:V_SUPPLY")),
    _Q("vesc", T, "SWDIO", ids("net:SWDIO", "P2")),
    # comma pedal interceptor (Eagle 8.5, no text layer)
    _Q("comma-pedal", C, "STM32 microcontroller", ids("U1")),
    _Q("comma-pedal", C, "CAN transceiver", ids("U3")),
    _Q("comma-pedal", C, "3.3 V regulator", ids("U2")),
    _Q("comma-pedal", R, "op amp buffering the DAC outputs", ids("U6")),
    _Q("comma-pedal", C, "crystal", ids("Y1")),
    _Q("comma-pedal", R, "load capacitors of the crystal", ids("C3", "C4")),
    _Q("comma-pedal", C, "connector to the car's OBD-II port", ids("J15")),
    _Q("comma-pedal", C, "USB connector for flashing", ids("J3")),
    _Q("comma-pedal", R, "connector from the accelerator pedal sensor", ids("J1")),
    _Q("comma-pedal", R, "connector carrying the emulated pedal signals to the ECU", ids("J2")),
    _Q("comma-pedal", C, "status LED", ids("LED1")),
    _Q("comma-pedal", R, "series resistors on the USB data lines", ids("R16", "R17")),
    _Q("comma-pedal", R, "BOOT0 resistors", ids("R5", "R6")),
    _Q("comma-pedal", R, "voltage dividers on the pedal sensor inputs to the ADC", ids("R23", "R24", "R25", "R26")),
    _Q("comma-pedal", R, "gain resistors of the op amp", ids("R1", "R2", "R3", "R4")),
    _Q("comma-pedal", R, "VCAP capacitors of the core regulator", ids("C1", "C2")),
    _Q("comma-pedal", R, "accelerator pedal position sensor signals", ids("net:ACCEL1", "net:ACCEL2")),
    _Q("comma-pedal", R, "DAC output signals", ids("net:DAC1", "net:DAC2")),
    _Q("comma-pedal", R, "CAN high and CAN low lines", ids("net:CAN1_H", "net:CAN1_L")),
    _Q("comma-pedal", R, "CAN transceiver enable line", ids("net:CAN1_EN")),
    _Q("comma-pedal", R, "3.3 V supply rail", ids("net:3V3")),
    _Q(
        "comma-pedal",
        R,
        "decoupling capacitors on the 3.3 V rail",
        ids("C6", "C8", "C9", "C10", "C11", "C12", "C13", "C16"),
    ),
    _Q("comma-pedal", T, "APP sensor", ids("net:ACCEL1", "net:ACCEL2", "J1")),
    _Q("comma-pedal", T, "BOOT0", ids("net:BOOT0", "R5", "R6", "U1")),
    _Q("comma-pedal", T, "VBUS", ids("J3", "net:5V")),
    # openinverter BMS slave BatMeas 5.2 (Eagle 9.4 + PDF)
    _Q("bms-batmeas", C, "ATtiny microcontroller measuring the cells", ids("IC1")),
    _Q("bms-batmeas", C, "3.3 V LDO regulator powered from the cells", ids("IC2")),
    _Q("bms-batmeas", R, "regulator making the ADC reference voltage", ids("IC3")),
    _Q("bms-batmeas", C, "zener diode clamping the battery input", ids("D1")),
    _Q("bms-batmeas", C, "indicator LEDs of the balancing channels", ids("LED1", "LED2", "LED3", "LED4")),
    _Q("bms-batmeas", R, "bleed resistors of the cell balancing", ids("R19", "R20", "R21", "R22")),
    _Q("bms-batmeas", C, "PNP transistors", ids("T4", "T5", "T6")),
    _Q("bms-batmeas", C, "NPN driver transistors", ids("T1", "T2", "T3", "T7", "T8")),
    _Q("bms-batmeas", R, "connectors of the cell voltage sense leads", ids("J1", "J4")),
    _Q("bms-batmeas", R, "daisy chain communication connectors", ids("J2", "J3")),
    _Q("bms-batmeas", C, "ISP programming header", ids("JP1")),
    _Q("bms-batmeas", R, "reset pull-up resistor", ids("R16")),
    _Q(
        "bms-batmeas",
        R,
        "voltage divider resistors of the cell measurement",
        ids("R1", "R2", "R3", "R4", "R7", "R8", "R9", "R10"),
    ),
    _Q("bms-batmeas", C, "schottky diode", ids("D2", "D3")),
    _Q("bms-batmeas", R, "filter capacitors on the cell voltage inputs", ids("C1", "C2", "C3", "C4")),
    _Q(
        "bms-batmeas",
        R,
        "cell voltage measurement inputs to the ADC",
        ids("net:VBAT1", "net:VBAT2", "net:VBAT3", "net:VBAT4/SCK"),
    ),
    _Q("bms-batmeas", R, "module battery supply rail", ids("net:VBAT")),
    _Q("bms-batmeas", R, "serial data output to the next module", ids("net:TX")),
    _Q("bms-batmeas", R, "input capture line from the previous module", ids("net:ICP")),
    _Q("bms-batmeas", R, "reset line of the microcontroller", ids("net:/RESET")),
    _Q("bms-batmeas", T, "MOSI", ids("net:MOSI", "JP1")),
    _Q("bms-batmeas", T, "VCC", ids("net:VCC")),
    _Q("bms-batmeas", T, "ADC", ids("IC1", "net:VBAT1", "net:VBAT2", "net:VBAT3", "net:VBAT4/SCK")),
    # SparkFun OBD-II UART (Eagle 6.4, 4 sheets, no PDF)
    _Q("obd2-uart", C, "OBD-II interpreter chip", ids("IC1")),
    _Q("obd2-uart", C, "CAN transceiver", ids("IC4")),
    _Q("obd2-uart", R, "comparator that receives the K-line and J1850 signals", ids("IC3")),
    _Q("obd2-uart", C, "DB9 OBD-II cable connector", ids("X2")),
    _Q("obd2-uart", C, "adjustable LM317 regulator", ids("U2")),
    _Q("obd2-uart", C, "3.3 V regulator", ids("U1")),
    _Q("obd2-uart", C, "5 V regulator", ids("U3")),
    _Q("obd2-uart", R, "reverse polarity protection diode on the battery input", ids("D4")),
    _Q("obd2-uart", C, "16 MHz crystal", ids("Y1")),
    _Q("obd2-uart", R, "transistors driving the K-line and L-line", ids("Q3", "Q4")),
    _Q("obd2-uart", R, "pull-up resistors of the K-line and L-line", ids("R8", "R11")),
    _Q("obd2-uart", C, "status LEDs", ids("LED1", "LED2", "LED3", "LED4", "LED5")),
    _Q("obd2-uart", C, "FTDI serial header", ids("JP8")),
    _Q("obd2-uart", R, "MOSFETs of the J1850 transmit stage", ids("Q7", "Q9", "Q10")),
    _Q("obd2-uart", R, "battery voltage measurement divider", ids("R3", "R6")),
    _Q("obd2-uart", R, "filter capacitors on the CAN lines", ids("C12", "C13")),
    _Q("obd2-uart", R, "ISO 9141 K-line", ids("net:K-LINE")),
    _Q("obd2-uart", R, "J1850 bus lines", ids("net:J1850BUS+", "net:J1850BUS-")),
    _Q("obd2-uart", R, "CAN high and CAN low lines", ids("net:CAN_HI", "net:CAN_LO")),
    _Q("obd2-uart", R, "UART transmit and receive lines to the host", ids("net:TX-O", "net:RX-I")),
    _Q("obd2-uart", R, "unprotected battery voltage from the OBD connector", ids("net:VBATT_RAW")),
    _Q("obd2-uart", R, "analog battery voltage sense input", ids("net:BATT_V")),
    _Q("obd2-uart", T, "L-line", ids("net:L-LINE")),
    _Q("obd2-uart", T, "VPW", ids("net:!VPW_RX", "net:PWM/!VPW")),
    _Q("obd2-uart", T, "OSC1", ids("net:OSC1", "Y1")),
)
