"""Import a design file as a bundle: read it with its adapter, add the PDF's text spans if given,
validate exactly the files that will be written, then write them (manifest last)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wessley_dagster.adapters.eagle import read_eagle
from wessley_dagster.adapters.kicad import read_kicad
from wessley_dagster.adapters.pcb_netlist import read_pcb_netlist
from wessley_dagster.adapters.pdf_text import read_text_spans
from wessley_dagster.adapters.source import JobInfo, SourceDesign, to_bundle
from wessley_dagster.adapters.wireviz import read_wireviz
from wessley_dagster.adapters.writer import bundle_files
from wessley_dagster.domain.bundle import Bundle, read_bundle
from wessley_dagster.stores.objects import ObjectStore, StoredObject

READERS: dict[str, Callable[[Path], SourceDesign]] = {
    "kicad": read_kicad,
    "eagle": read_eagle,
    "wireviz": read_wireviz,
    "pcb-json": read_pcb_netlist,
}


@dataclass(frozen=True)
class ImportReport:
    bundle: Bundle
    match_rate: float
    written: list[StoredObject]


def build_bundle(
    kind: str, path: Path, job: JobInfo, pdf: Path | None = None
) -> tuple[Bundle, float, list[tuple[str, bytes, str]]]:
    """The validated bundle for a design file, its match rate, and the exact files to write.

    Any problem raises BundleError before anything is written."""
    design = READERS[kind](path)
    pdf_spans = read_text_spans(pdf)[0] if pdf else []
    bundle, rate = to_bundle(design, job, pdf_spans)
    files = bundle_files(bundle)
    contents = {name: data for name, data, _ in files}
    return read_bundle(contents.get, expected_key=bundle.partition_key), rate, files


def import_design(kind: str, path: Path, job: JobInfo, store: ObjectStore, pdf: Path | None = None) -> ImportReport:
    bundle, rate, files = build_bundle(kind, path, job, pdf)
    prefix = f"{job.project_id}/{job.job_id}"
    written = [store.put(f"{prefix}/{name}", data, ctype) for name, data, ctype in files]
    return ImportReport(bundle, rate, written)
