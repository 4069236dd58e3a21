"""One index of a bundle's circuit, built once: pins and their nets, each net's role, each
passive's role from its topology, neighbouring parts, and parts grouped by page.

Roles are what a technician calls a part by: a resistor between a signal and a supply is a
pull-up, a capacitor between a supply and ground decouples it, a diode from a signal to ground
clamps it. They are read from the netlist alone, so they hold for any board. No Dagster here.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property

from wessley_dagster.domain.bundle import Bundle, Component, Net, Pin
from wessley_dagster.domain.catalogue import CatalogueEntry, lookup
from wessley_dagster.domain.identifiers import identifier_words, readable, spelled_out
from wessley_dagster.domain.kinds import PartFacts, classify
from wessley_dagster.domain.terms import find_terms

GROUND_WORDS = {"gnd", "ground", "vss", "agnd", "dgnd", "pgnd", "gnda", "gndd", "gndpwr", "earth", "chassis", "0v"}
SUPPLY_WORDS = {
    "vcc",
    "vdd",
    "vbat",
    "vbatt",
    "batt",
    "bat",
    "vin",
    "vsys",
    "vref",
    "vpp",
    "vcca",
    "vccio",
    "avcc",
    "dvdd",
    "avdd",
    "pwr",
    "power",
    "supply",
    "vs",
    "vdc",
    "b",
    "ub",
    "kl30",
    "kl15",
    "v",
}
_SUPPLY_QUALIFIERS = {"sw", "in", "out", "ref", "a", "d", "p", "reg", "main", "aux", "ext", "int", "ana", "dig", "io"}
_VOLTAGE = re.compile(r"(?<![A-Za-z0-9])[+]?(\d+)(?:[.,](\d+))?\s?[vV](\d+)?(?![a-uw-zA-UW-Z])")
_BUS_TERMS = {
    "can bus",
    "can high",
    "can low",
    "lin bus",
    "flexray",
    "k-line",
    "serial",
    "i2c",
    "spi",
    "usb",
    "ethernet",
}
_POWER_PIN_TYPES = {"power_in", "power_out", "pwr_in", "pwr_out", "power input", "power output"}
_UNNAMED = re.compile(r"^(?:N\$\d+|Net-\(.*\)|unconnected-.*|/?N\d+|NET\d+)$", re.IGNORECASE)
_BIG_NET = 12  # a net with more pins than this is a rail, not a neighbourhood
_PASSIVES = frozenset({"resistor", "capacitor", "electrolytic capacitor", "inductor", "ferrite bead"})
# Pin meanings (from the glossary) that name the passive serving the pin.
_SERVED_PIN_MEANINGS = frozenset(
    {
        "bootstrap",
        "soft-start",
        "feedback",
        "compensation",
        "core regulator capacitor",
        "reference voltage",
        "dead time",
        "slope control",
        "switch node",
        "gate drive supply",
        "analog supply",
        "digital supply",
        "adjust feedback",
        "shunt negative",
        "shunt positive",
        "reset",
        "DAC load",
        "shutdown",
        "input capture",
        "oscillator",
    }
)


@dataclass(frozen=True)
class NetRole:
    kind: str  # "ground", "power", "bus" or "signal"
    voltage: str | None  # read from the name: "5 V", "3.3 V"
    terms: tuple[str, ...]  # dictionary terms its name carries ("can high", "ignition")

    @property
    def is_rail(self) -> bool:
        return self.kind in ("ground", "power")


def net_voltage(name: str) -> str | None:
    """The voltage a net's name states: "+5V" -> "5 V", "3V3" -> "3.3 V", "VBAT_12V" -> "12 V"."""
    match = _VOLTAGE.search(name)
    if not match:
        return None
    whole, frac = match.group(1), match.group(2) or match.group(3)
    return f"{whole}.{frac} V" if frac else f"{whole} V"


def classify_net(net: Net, pin_types: list[str]) -> NetRole:
    leaf = net.name.rstrip("/").rsplit("/", 1)[-1] or net.name
    words = [w for w in identifier_words(leaf) if not w.replace(".", "", 1).isdigit()]  # "3.3" is a number too
    terms = tuple(find_terms(f"{net.name} {readable(net.name)}"))  # "CANH" and "can h" both
    voltage = net.voltage_level or net_voltage(leaf)
    if any(w in GROUND_WORDS for w in words) or leaf.strip("+-") in ("0V", "0"):
        return NetRole("ground", None, terms)
    rest = [w for w in words if w not in SUPPLY_WORDS and w not in _SUPPLY_QUALIFIERS and w != "v"]
    named_supply = (voltage is not None or any(w in SUPPLY_WORDS for w in words)) and not rest
    powered = sum(t in _POWER_PIN_TYPES for t in pin_types) >= 2
    if named_supply or powered:
        return NetRole("power", voltage, terms)
    if net.is_bus or any(t in _BUS_TERMS for t in terms):
        return NetRole("bus", voltage, terms)
    return NetRole("signal", voltage, terms)


@dataclass(frozen=True)
class PinLink:
    component_id: str
    pin: str
    function: str | None


class Circuit:
    """The bundle's connectivity, indexed once for every description."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.components: dict[str, Component] = {c.id: c for c in bundle.components}
        self.pins: dict[tuple[str, str], Pin] = {(c.id, p.name): p for c in bundle.components for p in c.pins}
        self.nets_of: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.members: dict[str, list[PinLink]] = {}
        for net in bundle.netlist.nets:
            links = []
            for conn in net.connections:
                self.nets_of[conn.component_id][conn.pin].append(net.name)
                pin = self.pins.get((conn.component_id, conn.pin))
                links.append(PinLink(conn.component_id, conn.pin, pin.function if pin else None))
            self.members[net.name] = links
        self.roles: dict[str, NetRole] = {
            net.name: classify_net(net, [self._pin_type(link) for link in self.members[net.name]])
            for net in bundle.netlist.nets
        }

    def _pin_type(self, link: PinLink) -> str:
        pin = self.pins.get((link.component_id, link.pin))
        return (pin.electrical_type or "").lower() if pin else ""

    @cached_property
    def catalogued(self) -> dict[str, CatalogueEntry]:
        """What the part catalogue knows of each part by its value or part number."""
        found = {}
        for cid, comp in self.components.items():
            entry = lookup(comp.part, comp.value, (comp.library or "").rpartition(":")[2])
            if entry is not None:
                found[cid] = entry
        return found

    @cached_property
    def kinds(self) -> dict[str, str]:
        return {cid: component_kind(comp, self.catalogued.get(cid)) for cid, comp in self.components.items()}

    @cached_property
    def by_page(self) -> dict[int, list[Component]]:
        pages: dict[int, list[Component]] = defaultdict(list)
        for comp in self.bundle.components:
            pages[comp.page].append(comp)
        return pages

    @cached_property
    def main_connector(self) -> str | None:
        """The connector with the most connected pins (at least 6): where the harness plugs in."""
        sizes = {cid: len(self.nets_of.get(cid, {})) for cid, kind in self.kinds.items() if kind == "connector"}
        best = max(sizes, key=lambda cid: sizes[cid], default=None)
        return best if best is not None and sizes[best] >= 6 else None

    def component_nets(self, component_id: str) -> list[str]:
        return list(dict.fromkeys(n for nets in self.nets_of.get(component_id, {}).values() for n in nets))

    def neighbours(self, component_id: str, limit: int = 8) -> list[str]:
        """Parts that share a signal net with this one (rails excluded), most shared nets first."""
        shared: Counter[str] = Counter()
        for net in self.component_nets(component_id):
            if self.roles[net].is_rail or len(self.members[net]) > _BIG_NET:
                continue
            shared.update({link.component_id for link in self.members[net]} - {component_id})
        return [cid for cid, _ in sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]

    def role(self, component_id: str) -> str | None:
        """What the part does in this circuit, from the nets its pins reach (two-terminal parts)."""
        nets = [self._through_link(n, component_id) for n in self.component_nets(component_id)]
        kind = self.kinds[component_id]
        if len(nets) != 2:
            return self._switch_role(component_id, kind)
        a, b = sorted(nets, key=lambda n: ("ground", "power", "bus", "signal").index(self.roles[n].kind))
        ra, rb = self.roles[a], self.roles[b]
        pair = (ra.kind, rb.kind)
        name_a, name_b = self.net_words(a, component_id), self.net_words(b, component_id)
        if kind in ("resistor", "resistor array"):
            led = self._other_part_of_kind((a, b), component_id, "led")
            if led:
                return f"current-limiting resistor for LED {led}"
            if pair == ("power", "signal") or pair == ("power", "bus"):
                return f"pull-up resistor on {name_b} to {name_a}"
            if pair in (("ground", "signal"), ("ground", "bus")):
                return f"pull-down resistor on {name_b} to ground"
            if pair == ("bus", "bus"):
                return f"termination resistor across {name_a} and {name_b}"
            return f"series resistor between {name_a} and {name_b}"
        if "capacitor" in kind:
            if pair == ("ground", "power"):
                return f"decoupling bypass capacitor on the {name_b} supply"
            if ra.kind == "ground":
                return f"filter capacitor from {name_b} to ground"
            return f"coupling capacitor between {name_a} and {name_b}"
        if "diode" in kind or kind == "bridge rectifier":
            if ra.is_rail and not rb.is_rail:
                return f"protection clamp diode on {name_b}"
            if pair == ("power", "power"):
                return f"reverse polarity protection between {name_a} and {name_b}"
            return f"diode between {name_a} and {name_b}"
        if kind in ("ferrite bead", "inductor", "fuse"):
            verb = "protects" if kind == "fuse" else "filters"
            return f"{verb} the path between {name_a} and {name_b}"
        if kind == "led":
            return f"indicator LED on {name_b}"
        return None

    def service(self, component_id: str) -> list[str]:
        """What a passive does for the parts around it, read from the pins it meets: a capacitor on
        a BST pin is a bootstrap capacitor, a resistor into a MOSFET gate a gate resistor, two
        resistors meeting on a signal with one to ground a voltage divider."""
        kind = self.kinds[component_id]
        if kind not in _PASSIVES or not self._two_terminal(component_id):
            return []
        found = []
        for net in self.component_nets(component_id):
            if self.roles[net].is_rail:
                continue
            for link in self.members[net]:
                if link.component_id == component_id:
                    continue
                found += self._served_pin(kind, link)
            found += self._divider(component_id, kind, net)
        return list(dict.fromkeys(found))

    def _served_pin(self, kind: str, link: PinLink) -> list[str]:
        other = self.kinds.get(link.component_id, "")
        label = f"{link.component_id} pin {link.function or link.pin}"
        if other == "crystal" and "capacitor" in kind:
            return [f"crystal load capacitor of {link.component_id}"]
        if other in ("mosfet", "transistor") and (link.function or link.pin).lower()[:1] in ("g", "b"):
            return [
                f"gate resistor of {link.component_id}" if "resistor" in kind else f"on the gate of {link.component_id}"
            ]
        meanings = [m for m in spelled_out(link.function or link.pin) if m in _SERVED_PIN_MEANINGS]
        noun = "capacitor" if "capacitor" in kind else kind
        return [f"{m} {noun} on {label}" for m in meanings]

    def _divider(self, component_id: str, kind: str, net: str) -> list[str]:
        """Two resistors meeting on a signal net, one of them to ground: a voltage divider."""
        if kind != "resistor":
            return []
        mine = [n for n in self.component_nets(component_id) if n != net]
        partners = [
            link.component_id
            for link in self.members[net]
            if link.component_id != component_id and self._series_resistor(link.component_id)
        ]
        for partner in partners:
            theirs = [n for n in self.component_nets(partner) if n != net]
            grounded = [n for n in (*mine, *theirs) if self.roles[n].kind == "ground"]
            if len(grounded) == 1 and mine and theirs:
                source = next(n for n in (*mine, *theirs) if n not in grounded)
                return [f"voltage divider with {partner} measuring {self.net_words(source)} on {self.net_words(net)}"]
        return []

    def _two_terminal(self, component_id: str) -> bool:
        return len(self.nets_of.get(component_id, {})) == 2

    def _series_resistor(self, component_id: str) -> bool:
        return self.kinds.get(component_id) == "resistor" and self._two_terminal(component_id)

    def reaches(self, component_id: str) -> dict[str, list[str]]:
        """An IC's partners by kind, through its signal nets and one series resistor beyond:
        a gate driver reaches the MOSFETs whose gates its outputs drive through gate resistors."""
        found: dict[str, list[str]] = defaultdict(list)
        for net in self.component_nets(component_id):
            if self.roles[net].is_rail or len(self.members[net]) > _BIG_NET:
                continue
            for link in self.members[net]:
                other = link.component_id
                if other == component_id:
                    continue
                beyond = [other]
                if self._series_resistor(other):
                    beyond += [
                        far.component_id
                        for n in self.component_nets(other)
                        if n != net and not self.roles[n].is_rail
                        for far in self.members[n]
                        if far.component_id not in (other, component_id)
                    ]
                for cid in beyond:
                    kind = self.kinds.get(cid, "component")
                    if kind not in _PASSIVES and cid not in found[kind]:
                        found[kind].append(cid)
        return dict(found)

    def _through_link(self, net: str, component_id: str) -> str:
        """An unnamed net whose only other part is a jumper or switch stands for the net beyond
        it: a 120 Ω resistor from CANL through a termination jumper to CANH terminates the bus."""
        others = {link.component_id for link in self.members[net]} - {component_id}
        if not _UNNAMED.match(net) or len(others) != 1:
            return net
        (link,) = others
        beyond = [n for n in self.component_nets(link) if n != net]
        if self.kinds.get(link) in ("jumper", "switch") and len(beyond) == 1:
            return beyond[0]
        return net

    def _switch_role(self, component_id: str, kind: str) -> str | None:
        """A transistor switches the net on its drain/collector, driven from its gate/base."""
        if kind not in ("mosfet", "transistor"):
            return None
        by_function = {}
        for pin_name, nets in self.nets_of.get(component_id, {}).items():
            pin = self.pins.get((component_id, pin_name))
            function = ((pin.function or pin.name) if pin else pin_name).lower()
            by_function[function[:1]] = nets[0]
        load = by_function.get("d") or by_function.get("c")
        drive = by_function.get("g") or by_function.get("b")
        if not load:
            return None
        common = by_function.get("s") or by_function.get("e")
        # Source to ground: it sinks the load (low side); drain on a supply: it feeds it (high side).
        side = (
            "low-side switch, "
            if common and self.roles[common].kind == "ground"
            else "high-side switch, "
            if self.roles[load].kind == "power"
            else ""
        )
        return f"{side}switches {self.net_words(load, component_id)}" + (
            f", driven by {self.net_words(drive, component_id)}" if drive else ""
        )

    def _other_part_of_kind(self, nets: tuple[str, str], component_id: str, kind: str) -> str | None:
        for net in nets:
            for link in self.members[net]:
                if link.component_id != component_id and self.kinds.get(link.component_id) == kind:
                    return link.component_id
        return None

    def net_words(self, net: str, seen_from: str | None = None) -> str:
        """A net as a technician reads it: its name and its meaning where the dictionary knows it;
        an unnamed net (N$2, Net-(R5-Pad2)) by the parts it joins, other than `seen_from`."""
        role = self.roles[net]
        words = readable(net)
        meaning = [t for t in role.terms if not any(ch.isdigit() for ch in t) and t not in words]
        meaning += [w for w in spelled_out(net) if w not in words and not any(w in t for t in meaning)]
        if role.voltage:
            meaning.append(role.voltage)
        if _UNNAMED.match(net):
            others = [link.component_id for link in self.members[net] if link.component_id != seen_from]
            joined = list(dict.fromkeys(others))[:3]
            if joined:
                meaning.append("joins " + ", ".join(f"{c} {self.kinds.get(c, '')}".strip() for c in joined))
        return f"{net} ({', '.join(meaning)})" if meaning else net


def component_kind(component: Component, catalogued: CatalogueEntry | None = None) -> str:
    """The component's type, or (when blank or only "component") its kind read from the source
    and, after what the source says, from the catalogue entry of its part number."""
    given = component.type.strip()
    if given and given.lower() != "component":
        return given
    return classify(
        PartFacts(
            ref=component.id,
            description=component.description,
            library=component.library,
            part=component.part,
            value=component.value,
            footprint=component.footprint,
            pin_count=len(component.pins),
            pin_functions=tuple(p.function or p.name for p in component.pins),
            extra=tuple(
                v
                for v in (
                    component.footprint_description,
                    *component.fields.values(),
                    catalogued and f"{catalogued.library} {catalogued.text}",
                )
                if v
            ),
        )
    )
