"""Derive `wessley_dagster/domain/data/part_catalogue.tsv.gz` from Debian's `kicad-symbols`.

Each row is one symbol of the KiCad symbol libraries: its name, its library and what the library
says of it (`ki_description`, `ki_keywords`). Generic symbols (R, C, Conn_01x02 …) are left out:
a passive's kind comes from its designator and value, not from a catalogue. The data is the KiCad
Community's, CC-BY-SA 4.0 with the design exception; `part_catalogue.LICENSE` beside it says so.

Run (after `apt-get install kicad-symbols`): `.venv/bin/python tools/build_part_catalogue.py`
"""

from __future__ import annotations

import argparse
import gzip
import re
from pathlib import Path

SYMBOLS = Path("/usr/share/kicad/symbols")
OUT = Path(__file__).resolve().parent.parent / "wessley_dagster" / "domain" / "data" / "part_catalogue.tsv.gz"
# Libraries of generic symbols and drawing aids: no part number to look up.
SKIP_LIBRARIES = {
    "Device",
    "Connector",
    "Connector_Generic",
    "Connector_Generic_MountingPin",
    "Connector_Generic_Shielded",
    "power",
    "Mechanical",
    "Graphic",
    "Jumper",
    "Switch",
    "Simulation_SPICE",
    "pspice",
}
_SYMBOL = re.compile(r'^  \(symbol "([^"]+)"', re.MULTILINE)
_PROPERTY = re.compile(r'\(property "(ki_description|ki_keywords)" "((?:[^"\\]|\\.)*)"')


def symbols(path: Path) -> list[tuple[str, str, str]]:
    """(name, description, keywords) of every top-level symbol of one library file."""
    text = path.read_text(encoding="utf-8")
    starts = [(m.start(), m.group(1)) for m in _SYMBOL.finditer(text)]
    rows = []
    for (start, name), (end, _) in zip(starts, [*starts[1:], (len(text), "")], strict=True):
        found = dict(_PROPERTY.findall(text[start:end]))
        description = found.get("ki_description", "").replace("\t", " ").strip()
        keywords = found.get("ki_keywords", "").replace("\t", " ").strip()
        if description or keywords:
            rows.append((name, description, keywords))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--symbols", type=Path, default=SYMBOLS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows = []
    for path in sorted(args.symbols.glob("*.kicad_sym")):
        if path.stem in SKIP_LIBRARIES:
            continue
        rows += [(name, path.stem, description, keywords) for name, description, keywords in symbols(path)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(args.out, "wt", encoding="utf-8", compresslevel=9) as out:
        for row in rows:
            out.write("\t".join(row) + "\n")
    print(f"{len(rows)} symbols from {args.symbols} -> {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
