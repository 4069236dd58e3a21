"""Large synthetic bundles of any size, for the fault test and the graph benchmark."""

from __future__ import annotations

from datetime import UTC, datetime

from wessley_dagster.domain.bundle import Bundle, Component, Connection, Manifest, Net, Netlist, Pin, Vehicle


def make_bundle(project_id: str, job_id: str, components: int, pins_per: int = 4, nets: int | None = None) -> Bundle:
    """`components` parts with `pins_per` pins each; pin k of part i is on net (i * pins_per + k) % nets."""
    nets = nets or max(1, components // 2)
    members: list[list[Connection]] = [[] for _ in range(nets)]
    parts = []
    for i in range(components):
        ref = f"R{i + 1}"
        pins = [Pin(name=str(k + 1), number=str(k + 1)) for k in range(pins_per)]
        for k in range(pins_per):
            members[(i * pins_per + k) % nets].append(Connection(component_id=ref, pin=str(k + 1)))
        parts.append(Component(id=ref, type="resistor", value=f"{i % 100}k", page=1 + i // 500, pins=pins))
    manifest = Manifest(
        project_id=project_id,
        job_id=job_id,
        user_id="bench",
        vehicle=Vehicle(make="Synthetic", model="Bench", year=2026),
        source_document="synthetic.pdf",
        page_count=1 + components // 500,
        created_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    netlist = Netlist(nets=[Net(name=f"N{n}", connections=c) for n, c in enumerate(members)])
    return Bundle(manifest=manifest, text_spans=[], components=parts, netlist=netlist)
