"""A curated dictionary of electrical and automotive terms, with synonyms and unit normalisation.

`find_terms(text)` returns the canonical names of the terms a text mentions plus its normalised
component values, so that "10k", "10 kΩ" and "10000 ohm" all carry the term "10 kΩ", and "GND"
and "ground" both carry "ground". Plain Python: used by the chunker and the descriptions.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    canonical: str
    category: str
    synonyms: tuple[str, ...] = ()


def _terms(category: str, rows: list[tuple[str, ...]]) -> list[Term]:
    return [Term(row[0], category, row[1:]) for row in rows]


TERMS: tuple[Term, ...] = tuple(
    _terms(
        "component",
        [
            ("resistor", "res", "resistance"),
            ("capacitor", "cap", "condenser"),
            ("electrolytic capacitor", "elko", "electrolytic cap"),
            ("inductor", "coil", "choke"),
            ("diode",),
            ("zener diode", "zener"),
            ("schottky diode", "schottky"),
            ("tvs diode", "tvs", "transient voltage suppressor"),
            ("led", "light emitting diode"),
            ("transistor", "bjt"),
            ("mosfet", "fet", "nmos", "pmos", "q_nmos", "q_pmos"),
            ("igbt",),
            ("relay",),
            ("fuse", "polyfuse", "ptc fuse"),
            ("circuit breaker", "breaker"),
            ("switch", "sw"),
            ("connector", "conn", "plug", "header", "pin header"),
            ("terminal", "ring terminal", "spade terminal"),
            ("terminal block", "screw terminal", "bornier"),
            ("crystal", "xtal", "oscillator", "resonator"),
            ("potentiometer", "pot", "trimmer"),
            ("thermistor", "ntc", "ptc"),
            ("voltage regulator", "regulator", "ldo", "vreg"),
            ("op amp", "opamp", "operational amplifier"),
            ("comparator",),
            ("microcontroller", "mcu", "arduino", "atmega", "stm32"),
            ("transceiver",),
            ("optocoupler", "opto", "optoisolator"),
            ("jumper", "solder jumper", "solderjumper"),
            ("integrated circuit", "ic", "chip"),
            ("buzzer", "beeper"),
            ("transformer",),
            ("ferrite bead", "ferrite"),
            ("varistor", "mov"),
            ("shunt", "current shunt", "shunt resistor", "current sense resistor"),
            ("resistor network", "resistor array", "resistor pack"),
            ("voltage divider", "divider", "resistor divider"),
            ("termination resistor", "termination", "terminator", "bus termination"),
            ("bootstrap capacitor", "bootstrap", "bst", "boot capacitor"),
            ("wire", "lead", "conductor"),
            ("cable", "harness", "loom", "wiring harness"),
            ("splice", "junction"),
            ("ground strap", "ground bond"),
        ],
    )
    + _terms(
        "power",
        [
            ("ground", "gnd", "earth", "chassis ground", "0v", "vss", "agnd", "dgnd", "pgnd"),
            ("battery", "batt", "bat", "vbat", "b+", "vbatt"),
            ("switched battery", "vbat_sw", "12v-sw", "12v_sw", "ignition switched"),
            ("ignition", "ign", "ignition switch", "key on"),
            ("supply voltage", "vcc", "vdd", "vin", "supply", "power supply"),
            ("5v supply", "+5v", "5v", "vref", "reference voltage"),
            ("12v supply", "+12v", "12v"),
            ("3.3v supply", "+3.3v", "3v3", "3.3v"),
            ("high voltage", "hv", "hvdc", "traction voltage"),
            ("power", "pwr"),
            ("reverse polarity protection", "reverse protection"),
            ("decoupling", "bypass", "bypass capacitor"),
            ("pull-up", "pullup", "pull up"),
            ("pull-down", "pulldown", "pull down"),
        ],
    )
    + _terms(
        "bus",
        [
            ("can bus", "can", "controller area network"),
            ("can high", "canh", "can_h", "can+", "can hi"),
            ("can low", "canl", "can_l", "can-", "can lo"),
            ("lin bus", "lin"),
            ("flexray",),
            ("k-line", "kline", "iso 9141", "iso9141", "iso 14230", "kwp2000"),
            ("j1850", "sae j1850", "vpw", "j1850 pwm"),
            ("obd", "obd-ii", "obd2", "diagnostic connector", "dlc"),
            ("serial", "uart", "rs232", "tx", "rx"),
            ("i2c", "iic", "sda", "scl", "twi"),
            ("spi", "mosi", "miso", "sck", "chip select", "cs"),
            ("usb",),
            ("ethernet", "automotive ethernet"),
            ("pwm", "pulse width modulation"),
            ("analog input", "adc", "analog"),
            ("digital input", "din", "digital"),
            ("twisted pair", "twisted"),
            ("shield", "screen", "drain wire"),
        ],
    )
    + _terms(
        "sensor",
        [
            ("sensor",),
            ("crank position sensor", "ckp", "crank sensor", "crank", "crankshaft"),
            ("cam position sensor", "cmp", "cam sensor", "cam", "camshaft"),
            ("variable reluctance", "vr", "vr sensor", "vr-hall"),
            ("hall sensor", "hall effect", "hall"),
            ("throttle position sensor", "tps", "throttle", "etb", "electronic throttle"),
            ("manifold absolute pressure", "map", "map sensor"),
            ("mass air flow", "maf"),
            ("coolant temperature", "clt", "ect", "coolant"),
            ("intake air temperature", "iat", "air temp"),
            (
                "oxygen sensor",
                "o2",
                "lambda",
                "ego",
                "wideband",
                "lsu",
                "ho2s",
                "uego",
                "wideband lambda",
                "wideband o2",
                "lambda sensor",
            ),
            ("knock sensor", "knock"),
            ("vehicle speed sensor", "vss sensor", "speed sensor"),
            ("resolver", "motor position sensor"),
            ("pedal position sensor", "accelerator pedal", "app", "pedal", "pps", "accel"),
            ("oil pressure", "oil pump"),
            ("temperature sensor", "temp", "temperature"),
            ("fuel pressure",),
            ("steering angle sensor", "steering"),
            ("brake pressure", "brake"),
        ],
    )
    + _terms(
        "actuator",
        [
            ("fuel injector", "injector", "inj"),
            ("ignition coil", "coil driver", "spark", "ign coil"),
            ("fuel pump", "fp"),
            ("idle valve", "iac", "idle air control", "idle"),
            ("boost control", "boost", "wastegate"),
            ("solenoid", "valve"),
            ("motor", "electric motor", "mg1", "mg2"),
            ("inverter",),
            ("fan", "cooling fan", "radiator fan"),
            ("stepper motor", "stepper"),
            ("tachometer", "tacho", "tach"),
            ("transmission", "gearbox", "shift"),
            ("contactor", "main contactor", "precharge"),
            ("low side driver", "low-side", "lowside"),
            ("high side driver", "high-side", "highside"),
            ("h-bridge", "h bridge", "full bridge", "full-bridge", "motor driver", "half bridge"),
            ("gate driver", "mosfet driver", "gate drive", "pre-driver", "predriver"),
        ],
    )
    + _terms(
        "module",
        [
            ("engine control unit", "ecu", "ecm", "engine control module"),
            ("vehicle control unit", "vcu", "vehicle control module", "vcm"),
            ("body control module", "bcm"),
            ("battery management system", "bms"),
            ("gateway",),
            ("drive by wire", "drive-by-wire", "dbw", "by-wire"),
            ("dashboard", "instrument cluster", "cluster"),
            ("schematic", "wiring diagram", "circuit diagram"),
        ],
    )
)

_UNIT_WORDS = {
    "Ω": "Ω",
    "ω": "Ω",
    "ohm": "Ω",
    "ohms": "Ω",
    "r": "Ω",
    "f": "F",
    "farad": "F",
    "h": "H",
    "henry": "H",
    "v": "V",
    "volt": "V",
    "volts": "V",
    "a": "A",
    "amp": "A",
    "amps": "A",
    "w": "W",
    "watt": "W",
    "hz": "Hz",
}
_PREFIXES = {"p": -12, "n": -9, "u": -6, "µ": -6, "μ": -6, "m": -3, "k": 3, "K": 3, "M": 6, "G": 9}
_ENG = {-12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G"}

# 10k, 10 kΩ, 10000 ohm, 4k7, 4.7uF, 100nF, 12V, 0.5 A. A bare prefix ("10k") means ohms.
_VALUE = re.compile(
    r"(?<![\w.])(?P<int>\d+(?:[.,]\d+)?)(?P<space>\s?)(?P<prefix>[pnuµμmkKMG])?(?P<frac>\d+)?\s?"
    r"(?P<unit>ohms?|Ω|farad|henry|volts?|amps?|watt|hz|[RFHVAWfhvaw])?(?![\w])",
)


def normalize_value(text: str) -> str | None:
    """Normalise one component value ("10k", "4k7", "100nF") to engineering form ("10 kΩ")."""
    match = _VALUE.fullmatch(text.strip())
    return _format_match(match) if match else None


def _format_match(match: re.Match[str]) -> str | None:
    prefix, unit_word, frac = match["prefix"], match["unit"], match["frac"]
    if frac and not prefix and (unit_word or "").lower() != "r":
        return None
    if not unit_word and (prefix not in ("k", "K", "M", "G") or match["space"]):
        return None  # a bare number, "5m" (metres?) or "3 M" (a grid label) is not a value
    unit = _UNIT_WORDS.get(unit_word) or _UNIT_WORDS.get(unit_word.lower(), "") if unit_word else "Ω"
    number = float(match["int"].replace(",", "."))
    if frac:  # RKM code: 4k7 = 4.7k, 4R7 = 4.7 ohm
        number = float(f"{match['int']}.{frac}")
    exponent = _PREFIXES.get(prefix or "", 0)
    return _format(number * 10.0**exponent, unit)


def _format(value: float, unit: str) -> str:
    if value == 0:
        return f"0 {unit}"
    exp3 = max(-12, min(9, int(math.floor(math.log10(abs(value)) / 3) * 3)))
    scaled = value / 10.0**exp3
    text = f"{scaled:.3g}"
    return f"{text} {_ENG[exp3]}{unit}"


def _build_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for term in TERMS:
        for alias in (term.canonical, *term.synonyms):
            index.setdefault(alias.lower(), term.canonical)
    return index


def _widest(index: dict[str, str]) -> dict[str, int]:
    """The most words of an alias beginning with each first word: a token that begins none is
    skipped without building any phrase (most tokens are designators, net names and numbers)."""
    widest: dict[str, int] = {}
    for alias in index:
        words = alias.split(" ")
        widest[words[0]] = max(widest.get(words[0], 0), len(words))
    return widest


_INDEX = _build_index()
_WIDEST = _widest(_INDEX)
_TOKEN = re.compile(r"[A-Za-z0-9+\-_.]+")


def _tokens(text: str) -> list[str]:
    return [stripped.lower() for t in _TOKEN.findall(text) if (stripped := t.strip("."))]


def find_terms(text: str) -> list[str]:
    """Canonical terms and normalised values mentioned in `text`, in first-seen order."""
    found: dict[str, None] = {}
    tokens = _tokens(text)
    # Only the positions of tokens some term begins with (few: most are designators and numbers).
    for i in [i for i, token in enumerate(tokens) if token in _WIDEST]:
        for width in range(min(_WIDEST[tokens[i]], len(tokens) - i), 0, -1):
            canonical = _INDEX.get(" ".join(tokens[i : i + width]))
            if canonical:
                found.setdefault(canonical)
                break
    for match in _VALUE.finditer(text):
        value = _format_match(match)
        if value:
            found.setdefault(value)
    return list(found)
