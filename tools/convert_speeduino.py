"""Convert the Speeduino v0.4.3d data (PCB-derived netlist JSON + schematic PDF text layer) into
the bundle under data/bundles/speeduino/v0.4.3d/. Run: python tools/convert_speeduino.py SHARED_DATA_DIR"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from wessley_dagster.adapters.pcb_netlist import convert
from wessley_dagster.adapters.pdf_text import read_text_spans
from wessley_dagster.adapters.writer import write_bundle
from wessley_dagster.domain.bundle import Manifest, Vehicle
from wessley_dagster.stores.objects import LocalFolderStore

ROOT = Path(__file__).resolve().parents[1]


def main(shared: Path) -> None:
    src = shared / "speeduino-v0.4.3d"
    pdf = src / "v0.4__THT__Latest__v0.4.3d.pdf"
    spans, pages = read_text_spans(pdf)
    manifest = Manifest(
        project_id="speeduino",
        job_id="v0.4.3d",
        user_id="demo-user",
        vehicle=Vehicle(make="Speeduino", model="v0.4.3d engine ECU", year=2021),
        source_document=pdf.name,
        page_count=pages,
        created_at=datetime(2021, 6, 23, tzinfo=UTC),
        schema_version="1.0",
        source_netlist="v0.4.3d.pcb_netlist.json",
        license="CERN-OHL-S-2.0",
    )
    bundle = convert(src / "v0.4.3d.pcb_netlist.json", spans, manifest)
    for stored in write_bundle(bundle, LocalFolderStore(ROOT / "data" / "bundles")):
        print(f"wrote {stored.url} ({stored.size} bytes)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
