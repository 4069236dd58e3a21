"""What a part number is, from a catalogue of part families: the KiCad symbol libraries'
descriptions and keywords (`data/part_catalogue.tsv.gz`, CC-BY-SA 4.0, see its LICENSE).

Many automotive and power ICs carry only a value (DRV8873, NCP1117ST33T3G, MCP2551-I/SN). The
catalogue is searched by the longest common prefix of the normalised part number with a symbol
name, and a match must cover the whole family (the letters and digits that open the number:
NCP1117, DRV8873), so that an unknown variant finds its family and nothing looser. No Dagster here.
"""

from __future__ import annotations

import bisect
import gzip
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

_FAMILY = re.compile(r"^[A-Z]+\d+")
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


@dataclass(frozen=True)
class CatalogueEntry:
    symbol: str
    library: str
    description: str
    keywords: str

    @property
    def text(self) -> str:
        return f"{self.description} ({self.keywords})" if self.keywords else self.description


def _normalised(name: str) -> str:
    return _NOT_ALNUM.sub("", name.upper())


@lru_cache(maxsize=1)
def _catalogue() -> tuple[list[str], list[CatalogueEntry]]:
    raw = files("wessley_dagster.domain").joinpath("data/part_catalogue.tsv.gz").read_bytes()
    rows = sorted(
        (
            (_normalised(fields[0]), CatalogueEntry(*fields))
            for fields in (line.split("\t") for line in gzip.decompress(raw).decode("utf-8").splitlines())
        ),
        key=lambda row: row[0],
    )
    return [key for key, _ in rows], [entry for _, entry in rows]


def _common(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def lookup(*names: str | None) -> CatalogueEntry | None:
    """The catalogue entry closest to any of the names (a value, a part, a library part)."""
    keys, entries = _catalogue()
    best: tuple[int, CatalogueEntry] | None = None
    for name in names:
        key = _normalised(name or "")
        family = _FAMILY.match(key)
        if family is None or len(family.group()) < 4:
            continue
        at = bisect.bisect_left(keys, key)
        for i in (at - 1, at):
            if 0 <= i < len(keys):
                shared = _common(key, keys[i])
                if shared >= len(family.group()) and (best is None or shared > best[0]):
                    best = (shared, entries[i])
    return best[1] if best else None
