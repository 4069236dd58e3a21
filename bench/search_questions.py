"""Technician questions over the repo's real boards, each with its relevant set derived from the
netlist by a rule (kinds of part on nets matching a pattern, nets by name), never from a chunk.

Written before any tuning. Every third question (index % 3 == 2) is the held-out split: the
tuning runs printed only the tuning split's figures.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wessley_dagster.domain.circuit import Circuit

SOURCES = Path(__file__).resolve().parent.parent / "data" / "sources"
Rule = Callable[[Circuit], set[str]]


@dataclass(frozen=True)
class Board:
    project: str
    kind: str
    path: Path
    pdf: Path | None = None


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
)


def parts(*kinds: str, on: str | None = None, also_on: str | None = None, value: str | None = None,
          min_pins: int = 0, ident: str | None = None, near: str | None = None) -> Rule:  # fmt: skip
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


QUESTIONS: tuple[tuple[str, str, Rule], ...] = (
    # rusEFI 12-channel injector driver (KiCad 2013 netlist)
    ("rusefi-inj12", "which transistors switch the fuel injectors", parts("mosfet", "transistor", on=r"^/INJ-\d+$")),
    (
        "rusefi-inj12",
        "flyback diodes that protect the injector outputs",
        parts("diode", on=r"^/INJ-\d+$", also_on="GND"),
    ),
    ("rusefi-inj12", "connector for the injector harness", parts("connector", on=r"^/INJ-\d+$")),
    ("rusefi-inj12", "header carrying the logic-level injector commands from the ECU", parts("connector", on=r"_5V$")),
    ("rusefi-inj12", "power input terminal block", parts("connector", on=r"^/3\.3V$", also_on="GND")),
    ("rusefi-inj12", "gate pull-down resistors that keep the drivers off", parts("resistor", on="GND")),
    ("rusefi-inj12", "status LED", parts("led")),
    ("rusefi-inj12", "5 volt supply rail", nets(r"^/5V$")),
    ("rusefi-inj12", "ground net", nets("^GND$")),
    ("rusefi-inj12", "injector channel 7 output line", nets(r"^/INJ-07$")),
    ("rusefi-inj12", "series gate resistor for injector channel 3", parts("resistor", on=r"^/INJ-03_5V$")),
    ("rusefi-inj12", "mounting hole or mechanical part", parts(ident="^M")),
    # Speeduino v0.4.3d (PCB netlist + schematic PDF)
    ("speeduino", "the 5 V voltage regulator", parts("voltage regulator")),
    ("speeduino", "reverse polarity protection diode on the 12 V input", parts("diode", on="12V", also_on="VRegIn")),
    ("speeduino", "manifold pressure sensor", either(parts(on="MAP-EXT"), nets("MAP-EXT"), parts(value="MPX"))),
    ("speeduino", "clamp chips protecting the analog inputs", parts("integrated circuit", on="ADC-Clamp")),
    ("speeduino", "coolant temperature sensor filter capacitor", parts("capacitor", on="CLT")),
    ("speeduino", "intake air temperature sensor bias resistor", parts("resistor", on="IAT", also_on="VDDA")),
    ("speeduino", "ignition coil outputs", nets(r"^IGN-\d-OUT$")),
    ("speeduino", "MOSFETs driving the fuel injectors", parts("mosfet", on=r"^INJ-\d-OUT$")),
    ("speeduino", "idle valve output driver", either(parts("mosfet", on="IDLE"), nets("IDLE"))),
    ("speeduino", "fuel pump output", either(nets("FUELPUMP"), parts(on="FUELPUMP"))),
    ("speeduino", "stepper motor driver board", parts(value="DRV8825|Pololu")),
    ("speeduino", "the Arduino Mega the board plugs onto", parts(value="Mega")),
    ("speeduino", "tachometer output signal", nets("TACH")),
    ("speeduino", "crank position sensor input", nets("CRANK")),
    ("speeduino", "polyfuse protecting the analog supply", parts("fuse", on="VDDA")),
    ("speeduino", "main 40-pin wiring connector", parts("connector", min_pins=40)),
    ("speeduino", "high-current darlington driver for the auxiliary outputs", parts(value="ULN2003")),
    # OSCC sensor interface (Eagle)
    ("oscc-sensor", "CAN transceiver", parts("can transceiver")),
    ("oscc-sensor", "CAN bus termination resistor", parts("resistor", on="^CAN[HL]$")),
    ("oscc-sensor", "CAN controller chip with the SPI interface", parts("can controller")),
    ("oscc-sensor", "clock crystal for the CAN controller", parts("crystal")),
    ("oscc-sensor", "regulator making 5 V from vehicle power", parts("voltage regulator")),
    ("oscc-sensor", "relay that switches between the real and the spoofed sensor signal", parts("relay")),
    ("oscc-sensor", "DAC that generates the spoofed sensor signals", parts("integrated circuit", on="SPOOF_SIGNAL")),
    ("oscc-sensor", "connector where the original sensor signals come in", parts("connector", on="SIGNAL_INPUT")),
    ("oscc-sensor", "CAN high line", nets("^CANH$")),
    ("oscc-sensor", "power input connector", parts("connector", on=r"^V\+$")),
    ("oscc-sensor", "pull-up on the CAN controller reset", parts("resistor", on="RST")),
    ("oscc-sensor", "decoupling capacitors on the 5 V rail", parts("capacitor", on=r"^\+5V$", also_on="^GND$")),
    ("oscc-sensor", "status LEDs", parts("led")),
    # OSCC actuator control (Eagle, six sheets)
    ("oscc-actuator", "MOSFETs that drive the brake solenoids", parts("mosfet", on=r"^S\d_G$")),
    ("oscc-actuator", "current sense resistors of the solenoid drivers", parts("resistor", on=r"^S\d_SENS_N$")),
    ("oscc-actuator", "main fuse on the battery input", parts("fuse", on=r"^V\+$")),
    ("oscc-actuator", "fuse for the brake pump motor", parts("fuse", on="PUMP")),
    ("oscc-actuator", "relay for the pump", parts("relay")),
    ("oscc-actuator", "CAN transceiver", parts("can transceiver")),
    ("oscc-actuator", "CAN low line", nets("^CANL$")),
    (
        "oscc-actuator",
        "flyback diodes across the solenoids",
        parts("diode", near="mosfet", on=r"^N\$", also_on=r"^N\$"),
    ),
    (
        "oscc-actuator",
        "connectors for the solenoid coils",
        parts("connector", near="mosfet", on=r"^N\$", also_on=r"^N\$"),
    ),
    ("oscc-actuator", "PWM signals commanding the solenoid drivers", nets(r"^S\d_PWM$")),
    ("oscc-actuator", "current sense amplifier outputs read by the ADC", nets(r"^S\d_SENS_OUT$")),
    ("oscc-actuator", "the 5 V supply", nets(r"^\+5V$")),
    ("oscc-actuator", "pump enable signal", nets("PUMP_EN")),
    ("oscc-actuator", "Arduino analog input header", parts("connector", ident="^ADC")),
    # Zombie VCU harness (WireViz)
    ("zombie-harness", "accelerator pedal connector", parts(ident="pedal")),
    ("zombie-harness", "inverter connectors", parts(ident="inverter")),
    ("zombie-harness", "motor resolver connectors", parts(ident="resolver")),
    ("zombie-harness", "transmission oil pump connector", parts(ident="oil_pump")),
    ("zombie-harness", "shift lever position sensor connector", parts(ident="shift_lever")),
    ("zombie-harness", "vehicle speed sensor connector", parts(ident="speed_sensor")),
    ("zombie-harness", "the VCU main connector", parts(ident="zombie56")),
    ("zombie-harness", "gearbox solenoid connector", parts(ident="ect_solenoid")),
    ("zombie-harness", "ring terminal for the 12 V feed", parts(ident="ring_terminal")),
)
