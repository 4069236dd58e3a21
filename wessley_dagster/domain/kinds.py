"""What kind of part a component is, read from everything its source says about it.

The reference designator alone is often wrong (a harness connector drawn as `U5`, a crystal as
`X1`, resistor arrays as `RN3`), so the kind comes from the strongest evidence first: the part's
description, then its library and part names, its value, its footprint, and only then its
designator, with the pin count to settle designators that several kinds share. No Dagster here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# (kind, pattern) in priority order: specific kinds before the general ones that contain them
# (a TVS diode is a diode, a CAN transceiver is an integrated circuit). Patterns run on text whose
# separators (_ : - / . ,) became spaces and whose case was folded.
_RULES: tuple[tuple[str, str], ...] = (
    ("logo", r"\blogo\b|fiducial|creative commons|\boshw\b|\bsilk ?screen"),
    ("mounting hole", r"mounting ?hole|stand ?off|\bspacer\b|\bstandoff"),
    ("tvs diode", r"\btvs\b|transient voltage|esd protection|esd suppress|\bd tvs\b|\bsm[abc]j\d|\bp6ke|\bpesd"),
    ("zener diode", r"\bzener\b|\bd zener\b|\bz diode\b|\bbzx\d|\bmmsz|\bmm3z"),
    ("schottky diode", r"schottky|\bdiodesch\b|\bbat\d\d|\b1n58\d\d|\bss[1-3]\d\b|\bmbra?\d{3}"),
    ("bridge rectifier", r"bridge rectifier|\bdb10\d"),
    (
        "can transceiver",
        r"\bcan\b.*transceiver|transceiver.*\bcan\b|interface can|\bcan driver\b|\bmcp25(?:5|6)\d"
        r"|\btja\d{4}|\bsn65hvd2|\btcan\d",
    ),
    ("can controller", r"\bcan controller|\bmcp2515|\bmcp2517|\bmcp2518"),
    (
        "voltage regulator",
        r"regulator|\bregul\b|\bv ?reg\b|\bldo\b|\blm78|\blm317|\bams1117|\blm2940|\blp2950"
        r"|\b78[lm]?\d\d\b|\bdc dc\b|\b\w*1117\w*|\bmic52\d\d|\baat32\d\d|\bmcp17\d\d|\bxc62\d\d"
        r"|\bap21\d\d|\blm2596|\btps5\d{4}|\btps7\d{4}|\bbuck\b|\bstep ?down",
    ),
    ("op amp", r"\bop ?amps?\b|operational amplifier|amplifier operational|\blm358|\blm324|\bmcp60\d"),
    ("comparator", r"comparator|\blm393|\blm339"),
    (
        "microcontroller",
        r"microcontroller|\bmcu\b|\batmega|\battiny|\bstm32|\bstm8|\batsam|\bpic\d\d|\besp32|\barduino"
        r"|\bmsp430|\bsamd\d|\bnrf5\d|\bs32k|\bspc5\d|\btc2\d\d|\brh850|\bkinetis|\blpc\d{3,4}",
    ),
    ("optocoupler", r"opto ?coupler|optoisolator|photocoupler|\bopto\b"),
    (
        "motor driver",
        r"motor driver|h ?bridge|full ?bridge|\bdrv8[48]\d\d|\bvnh\d|\bl298|\btb6612|\bbts79\d\d|\ba49\d\d",
    ),
    (
        "gate driver",
        r"gate driver|mosfet driver|high side (?:driver|switch)|low side (?:driver|switch)|\bdrv83\d\d"
        r"|\bir2\d{3}|\bucc27\d{3}",
    ),
    ("led", r"\bleds?\b|light emitting"),
    (
        "mosfet",
        r"mosfet|\b[np] ?fet\b|\bq [np]mos|\b[np]mos\b|\b[np] channel\b|\bfet\b|\bbss\d{2,3}|\b2n7002"
        r"|\birf\w*\d|\bao3\d{3}|\bsi2\d{3}",
    ),
    (
        "transistor",
        r"\bbjt\b|\bq [np]pn|\b[np]pn\b|transistor|\bdarlington|\bmmbt\w*|\bbc[58]\d\d|\b2n[23]\d{3}|\bmmun2",
    ),
    ("relay", r"\brelays?\b"),
    ("fuse", r"\bfuses?\b|polyfuse|\bptc fuse|\bpptc"),
    ("crystal", r"crystal|\bxtal\b|resonator|\b\d+(?:\.\d+)? ?[mk]hz\b"),
    ("oscillator", r"oscillator"),
    ("shunt resistor", r"\bshunt\b|current sense resistor|\bwsl\w*\d"),
    ("resistor array", r"resistor (?:array|network)|\br (?:pack|array|network)\d*\b"),
    ("potentiometer", r"potentiometer|trimmer|\br pot\b|\bpot\b"),
    ("thermistor", r"thermistor|\bntc\b"),
    ("ferrite bead", r"ferrite"),
    (
        "electrolytic capacitor",
        r"electrolytic|(?<!non )(?<!un)polari[sz]ed capacitor|capacitor polari[sz]ed"
        r"|\bcp (?:elec|radial|axial|tantalum)|\bc polarized|\bcap pol\b",
    ),
    ("capacitor", r"capacitors?\b|\bcap\b|\bc (?:small|\d{4})\b|\bcapacitor smd\b|\bcapacitor tht\b|condensateur"),
    ("resistor", r"resistors?\b|\bres\b|\br (?:small|\d{4})\b|\bresistance\b"),
    ("inductor", r"inductors?\b|\bchoke\b|\bl (?:small|core)"),
    ("diode", r"\bdiodes?\b|\b1n4\d{3}|\bd (?:small|sod|do|smd)\b|rectifier|\bbas\d\d"),
    ("transformer", r"transformer"),
    ("switch", r"\bswitch|\bsw (?:push|spst|spdt|dip)|push ?button|tactile"),
    ("buzzer", r"buzzer|beeper|piezo"),
    ("jumper", r"jumper|solder ?jumper|\bjp\b"),
    ("test point", r"test ?point|testpoint|\bpintst\b|\btst\b"),
    ("sensor", r"\bsensor\b"),
    ("module", r"\bmodule\b|\bbreakout\b"),
    ("usb interface", r"\busb (?:to|uart|serial|bridge|hub)|\bft2\d\d|\bcp210\d|\bch340"),
    (
        "connector",
        r"connector|\bconn\b|pin ?header|\bheader\b|terminal block|screw terminal|\bsocket\b|\bplug\b"
        r"|\brj ?(?:45|11|12)\b|\bdb ?(?:9|15|25)\b|\bd ?sub\b|\busb\b|\bjst\b|\bmolex\b|\bpinhd|\bm0\d\b"
        r"|\b\dx\d\d?\b|\bmta\d|\bbm\d\db|\bbornier|\bconnecteur|\bhdr\b|\bterminal\b",
    ),
    ("integrated circuit", r"\bic\b|integrated circuit|\bsoic\b|\btssop\b|\bqfn\b|\bdip \d+\b"),
)
_COMPILED = tuple((kind, re.compile(pattern)) for kind, pattern in _RULES)

# The generic symbols of EDA libraries, named by a letter or two (KiCad's Device:R, Device:CP).
_GENERIC_PARTS = {
    "r": "resistor",
    "c": "capacitor",
    "cp": "electrolytic capacitor",
    "l": "inductor",
    "d": "diode",
    "led": "led",
    "q": "transistor",
    "f": "fuse",
    "y": "crystal",
    "rn": "resistor array",
    "rv": "potentiometer",
    "fb": "ferrite bead",
    "k": "relay",
    "sw": "switch",
    "jp": "jumper",
    "tp": "test point",
    "bz": "buzzer",
}

# Reference-designator prefixes (IEEE 315 / common EDA usage): the last resort.
DESIGNATOR_KINDS = {
    "R": "resistor",
    "RN": "resistor array",
    "RA": "resistor array",
    "RP": "resistor array",
    "RV": "potentiometer",
    "VR": "potentiometer",
    "TH": "thermistor",
    "C": "capacitor",
    "L": "inductor",
    "FB": "ferrite bead",
    "D": "diode",
    "LED": "led",
    "Q": "transistor",
    "U": "integrated circuit",
    "IC": "integrated circuit",
    "K": "relay",
    "RL": "relay",
    "RY": "relay",
    "F": "fuse",
    "J": "connector",
    "P": "connector",
    "CN": "connector",
    "CON": "connector",
    "X": "connector",
    "SW": "switch",
    "S": "switch",
    "Y": "crystal",
    "XTAL": "crystal",
    "JP": "jumper",
    "SJ": "jumper",
    "TP": "test point",
    "T": "transformer",
    "BZ": "buzzer",
    "LS": "buzzer",
    "M": "motor",
    "MH": "mounting hole",
    "H": "mounting hole",
    "XA": "module",
    "FID": "logo",
    "LOGO": "logo",
    "A": "module",
}
_DESIGNATOR = re.compile(r"^([A-Za-z]+)\d")
_SEPARATORS = re.compile(r"[_:\-/.,;()\[\]]+")
# A bare value of a passive part: 10k, 4k7, 100nF, 22p, 0R, 1M, 2.2u.
_PASSIVE_VALUE = re.compile(r"^\d+(?:[.,]\d+)?\s*(?:[kKmMrRuUµnNpP]\d*)?\s*(?:ohm|Ω|F|H)?$")


def designator_kind(ref: str) -> str:
    """The kind a reference designator implies: R12 -> resistor, K3 -> relay; else "component"."""
    match = _DESIGNATOR.match(ref)
    return DESIGNATOR_KINDS.get(match.group(1).upper(), "component") if match else "component"


def _fold(text: str) -> str:
    return " ".join(_SEPARATORS.sub(" ", text).lower().split())


def _match(text: str | None) -> str | None:
    if not text:
        return None
    folded = f" {_fold(text)} "
    return next((kind for kind, pattern in _COMPILED if pattern.search(folded)), None)


@dataclass(frozen=True)
class PartFacts:
    """What a source may say about a part; every field but the ref is optional."""

    ref: str
    description: str | None = None
    library: str | None = None  # "Device:R", "Amplifier_Operational:LM358", an Eagle library name
    part: str | None = None
    value: str | None = None
    footprint: str | None = None
    pin_count: int = 0
    pin_functions: Sequence[str] = ()  # what the symbol calls its pins: VIN, VOUT, CANH…
    extra: Sequence[str] = ()  # anything else descriptive: user fields, footprint description


def classify(facts: PartFacts) -> str:
    """The part's kind, from the strongest evidence that names one."""
    by_ref = designator_kind(facts.ref)
    part = (facts.part or (facts.library or "").rpartition(":")[2]).strip().lower()
    # A passive's value ("10k", "100nF") says nothing of its kind; its designator does.
    value = None if facts.value and _PASSIVE_VALUE.match(facts.value.strip()) else facts.value
    for evidence in (facts.description, _GENERIC_PARTS.get(part), facts.library, facts.part, value, *facts.extra):
        kind = _match(evidence)
        if kind:
            return _settle(kind, by_ref, facts.pin_count)
    pins_kind = _by_pins(facts)
    if pins_kind:
        return pins_kind
    footprint_kind = _match(facts.footprint)
    if footprint_kind and (by_ref == "component" or footprint_kind not in ("integrated circuit", "connector")):
        return _settle(footprint_kind, by_ref, facts.pin_count)
    return _settle(by_ref, by_ref, facts.pin_count)


def _by_pins(facts: PartFacts) -> str | None:
    """Chips whose pin names give them away: VIN/VOUT is a regulator, CANH/CANL a CAN transceiver."""
    names = {_fold(f).replace(" ", "") for f in facts.pin_functions if f}
    if {"canh", "canl"} <= names:
        return "can transceiver"
    if facts.pin_count <= 6 and ({"vin", "vout"} <= names or {"in", "out", "gnd"} <= names):
        return "voltage regulator"
    return None


# A kind a question names also means its specialisations: "transistors" covers MOSFETs.
KIND_FAMILIES = {
    "transistor": ("transistor", "mosfet"),
    "diode": ("diode", "tvs diode", "zener diode", "schottky diode", "bridge rectifier"),
    "capacitor": ("capacitor", "electrolytic capacitor"),
    "resistor": ("resistor", "resistor array", "shunt resistor"),
    "integrated circuit": (
        "integrated circuit",
        "op amp",
        "comparator",
        "microcontroller",
        "can transceiver",
        "can controller",
        "voltage regulator",
        "gate driver",
        "motor driver",
        "optocoupler",
        "usb interface",
    ),
}


def kinds_named(text: str) -> list[str]:
    """Every kind a text names, with its specialisations: "relay and MOSFETs" -> relay, mosfet."""
    folded = f" {_fold(text)} "
    named = [kind for kind, pattern in _COMPILED if pattern.search(folded)]
    return list(dict.fromkeys(k for kind in named for k in KIND_FAMILIES.get(kind, (kind,))))


def _settle(kind: str, by_ref: str, pin_count: int) -> str:
    """Pin counts that contradict a kind: a many-pinned "transistor" is an integrated circuit,
    and a resistor with more than two pins is an array."""
    if kind in ("transistor", "mosfet") and pin_count > 4:
        return "integrated circuit"
    if kind == "resistor" and pin_count > 3:
        return "resistor array"
    if kind == "component" and by_ref == "component" and pin_count > 8:
        return "integrated circuit"
    # A small header drawn as a jumper or a test point is what its designator says; an ISP header
    # of ten pins drawn as JP1 is still a connector.
    if kind == "connector" and by_ref in ("jumper", "test point") and pin_count <= 4:
        return by_ref
    return kind


# Parts that are only drawn: nothing a technician asks for when looking for a part.
DRAWN_KINDS = frozenset({"logo", "mounting hole"})  # fiducials and stand-offs among them
# The kinds a question names when it asks for drawing-only parts: search then shows them.
DRAWING_KINDS = DRAWN_KINDS | {"test point"}


def drawing_only(kind: str, connected_pins: int) -> bool:
    """Fiducials, logos, stand-offs, mounting holes, and test points or unknown parts with no net."""
    return kind in DRAWN_KINDS or (connected_pins == 0 and kind in ("test point", "component"))


# What each kind is for, in a technician's words: written into descriptions so that a question
# about a function ("what protects the CAN lines") meets the parts that serve it.
KIND_PURPOSE = {
    "tvs diode": "transient voltage suppressor, surge and ESD protection",
    "zener diode": "voltage clamp and reference",
    "schottky diode": "low-drop diode, reverse polarity protection or freewheeling",
    "diode": "rectifier, clamp, reverse polarity or flyback protection",
    "bridge rectifier": "rectifies AC to DC",
    "can transceiver": "CAN bus interface, drives the CAN high and CAN low lines",
    "can controller": "CAN bus protocol controller",
    "voltage regulator": "power supply, regulates a supply voltage",
    "op amp": "amplifier, signal conditioning and buffering",
    "comparator": "compares two voltages, threshold detection",
    "microcontroller": "processor, runs the firmware",
    "optocoupler": "galvanic isolation of a signal",
    "gate driver": "drives the gates of power MOSFETs, switches loads",
    "motor driver": "H-bridge motor driver, full bridge that drives a motor or actuator",
    "usb interface": "USB to serial interface chip",
    "shunt resistor": "current sense shunt resistor, measures current",
    "logo": "drawing only: logo or fiducial",
    "led": "indicator light",
    "mosfet": "power switch or driver, switches a load",
    "transistor": "switch or amplifier, drives a load",
    "relay": "switches a load circuit",
    "fuse": "overcurrent protection",
    "crystal": "clock source",
    "oscillator": "clock source",
    "resistor array": "several resistors in one package",
    "potentiometer": "adjustable resistor, trim or position input",
    "thermistor": "temperature-dependent resistor, temperature sensing",
    "ferrite bead": "noise filter on a supply or signal",
    "electrolytic capacitor": "bulk capacitor, smooths a supply",
    "capacitor": "decoupling, filtering or timing",
    "resistor": "limits current, divides or pulls a voltage",
    "inductor": "filter or switching-regulator inductor",
    "transformer": "isolates or converts a voltage",
    "switch": "user input",
    "buzzer": "audible alarm",
    "jumper": "configuration link",
    "test point": "measurement point",
    "mounting hole": "mechanical mounting, mounting hole or stand-off",
    "connector": "plug or header where wires and harnesses connect",
    "integrated circuit": "chip",
    "sensor": "measures a physical quantity",
    "module": "sub-assembly",
    "motor": "actuator",
}
