"""The input bundle contract (DESIGN section 1): typed models and a validating reader.

A bundle is the upstream analysis of one schematic ingestion job. The reader turns raw file
bytes into a `Bundle` or raises one `BundleError` that names the file, the NDJSON line or JSON
path, and the problem. Unknown extra fields are kept (``extra="allow"``) so that upstream can add
data without breaking us.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from wessley_dagster.domain.bulk import paused_gc

MANIFEST = "manifest.json"
TEXT_SPANS = "text_spans.ndjson"
COMPONENTS = "components.json"
NETLIST = "netlist.json"
DEBUG_OVERLAY = "debug_overlay.png"
BUNDLE_FILES = (MANIFEST, TEXT_SPANS, COMPONENTS, NETLIST)

# Ids become parts of partition keys, storage paths and graph keys: keep them path-safe.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"
PARTITION_SEPARATOR = "__"

BBox = tuple[float, float, float, float]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=False)


class Vehicle(_Model):
    make: str
    model: str
    year: int = Field(ge=1886, le=2100)


class Manifest(_Model):
    project_id: str = Field(pattern=ID_PATTERN)
    job_id: str = Field(pattern=ID_PATTERN)
    user_id: str = Field(min_length=1)
    vehicle: Vehicle
    source_document: str
    page_count: int = Field(ge=0)
    created_at: datetime
    schema_version: str = "1.0"

    @field_validator("project_id", "job_id")
    @classmethod
    def _no_separator(cls, value: str) -> str:
        if PARTITION_SEPARATOR in value:
            raise ValueError(f"must not contain {PARTITION_SEPARATOR!r} (it separates project and job)")
        return value

    @property
    def partition_key(self) -> str:
        return partition_key(self.project_id, self.job_id)


class TextSpan(_Model):
    id: str = Field(min_length=1, description="the span's id, unique in the bundle")
    text: str = Field(description="the text read")
    page: int = Field(ge=1, description="page of the source document, from 1")
    bbox: BBox = Field(description="[x0, y0, x1, y1] on the page")
    confidence: float = Field(ge=0.0, le=1.0, description="the OCR engine's confidence (1 for a text layer)")
    engine: str = Field(description="OCR engine, or pdf-text for a PDF's text layer")


class Pin(_Model):
    name: str = Field(min_length=1)
    number: str | None = None
    position: list[float] | str | None = None
    # What the part's symbol calls the pin ("VIN", "CANH", "OUT A") and its electrical type
    # (KiCad's input, output, bidirectional, power_in, passive, …): optional, from the source.
    function: str | None = None
    electrical_type: str | None = None


class Component(_Model):
    id: str = Field(min_length=1, description="reference designator (R12, K3, F21)")
    type: str = Field(description="the part's kind as analysed upstream; empty to let the source's words decide")
    value: str | None = Field(default=None, description="value or part number (10k, 100nF, MCP2551)")
    page: int = Field(ge=1, description="page the part is drawn on")
    bbox: BBox | None = Field(default=None, description="[x0, y0, x1, y1] on the page")
    confidence: float = Field(default=1.0, ge=0.0, le=1.0, description="the analysis' confidence")
    pins: list[Pin] = Field(default_factory=list, description="name, number, position, function")
    span_ids: list[str] = Field(default_factory=list, description="text spans that name the part (provenance)")
    # Optional descriptive fields, kept from the source format for search and display.
    description: str | None = Field(default=None, description="what the source says the part is")
    library: str | None = Field(default=None, description='library id, e.g. "Amplifier_Operational:LM358"')
    part: str | None = Field(
        default=None, description="the library's part (KiCad), device set (Eagle) or connector type (WireViz)"
    )
    footprint: str | None = Field(default=None, description="footprint or package")
    footprint_description: str | None = Field(default=None, description="what the footprint library says of it")
    datasheet: str | None = Field(default=None, description="datasheet URL")
    fields: dict[str, str] = Field(default_factory=dict, description="user fields, Eagle technology attributes")
    sheet: str | None = Field(default=None, description='the sheet\'s name ("Power")')
    sheet_path: str | None = Field(default=None, description='its hierarchical path ("/Power/")')


class Connection(_Model):
    component_id: str = Field(min_length=1)
    pin: str = Field(min_length=1)


class Net(_Model):
    name: str = Field(min_length=1, description="the net's name (GND, /CAN_TX, N$12)")
    voltage_level: str | None = Field(default=None, description="its voltage where the source states it")
    is_bus: bool = Field(default=False, description="whether it is a bus")
    connections: list[Connection] = Field(default_factory=list, description="the component pins on it")
    description: str | None = Field(default=None, description="e.g. a harness wire's cable type, colour and gauge")


class Junction(_Model):
    id: str = Field(min_length=1)
    page: int = Field(ge=1)
    x: float
    y: float
    net: str | None = None


class LineSegment(_Model):
    id: str = Field(min_length=1)
    page: int = Field(ge=1)
    start: tuple[float, float]
    end: tuple[float, float]
    net: str | None = None
    junction_ids: list[str] = Field(default_factory=list)


class Netlist(_Model):
    nets: list[Net]
    junctions: list[Junction] = Field(default_factory=list)
    line_segments: list[LineSegment] = Field(default_factory=list)


class Bundle(BaseModel):
    """A validated bundle. Cross-references have been checked by `read_bundle`."""

    manifest: Manifest
    text_spans: list[TextSpan]
    components: list[Component]
    netlist: Netlist
    has_debug_overlay: bool = False

    @property
    def partition_key(self) -> str:
        return self.manifest.partition_key


@dataclass(frozen=True)
class BundleLimits:
    """What a bundle may hold. Beyond it the bundle is refused with the file, the place and the
    limit, before anything is written: a 10 MB "text span" or JSON nested 200,000 deep is an
    attack or a bug upstream, not a schematic."""

    max_file_bytes: int = 256 * 2**20  # each of the bundle's files
    max_text_chars: int = 20_000  # any one string value: a span's text, a description
    max_depth: int = 32  # JSON nesting; the contract's own shapes need 5


# Never valid in a text field: control characters but tab and newline, lone surrogates (from
# `\ud800` escapes) and the XML non-characters, which would make the GraphML export invalid.
DISALLOWED_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


class BundleError(ValueError):
    """Bad input: names the file, the line or JSON path, and the problem."""

    def __init__(self, file: str, where: str, problem: str) -> None:
        self.file, self.where, self.problem = file, where, problem
        super().__init__(f"{file}: {where}: {problem}")


_ID = re.compile(ID_PATTERN)


def id_problem(value: str) -> str | None:
    """Why a project or job id (a folder name, a manifest field) is not acceptable, or None."""
    if not _ID.fullmatch(value):
        return f"{value[:80]!r} does not match {ID_PATTERN}"
    if PARTITION_SEPARATOR in value:
        return f"{value!r} contains {PARTITION_SEPARATOR!r}, which separates project and job in partition keys"
    return None


def partition_key(project_id: str, job_id: str) -> str:
    return f"{project_id}{PARTITION_SEPARATOR}{job_id}"


def split_partition_key(key: str) -> tuple[str, str]:
    """`<project_id>__<job_id>` -> (project_id, job_id); project ids never contain the separator."""
    project_id, sep, job_id = key.partition(PARTITION_SEPARATOR)
    if not sep or not project_id or not job_id:
        raise ValueError(f"partition key {key!r} is not '<project_id>{PARTITION_SEPARATOR}<job_id>'")
    return project_id, job_id


def _json_path(loc: Iterable[Any]) -> str:
    path = "$"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _first_error(exc: ValidationError) -> tuple[tuple[Any, ...], str]:
    err = exc.errors(include_url=False)[0]
    return tuple(err["loc"]), err["msg"]


def _decode(file: str, raw: bytes, limits: BundleLimits) -> str:
    if len(raw) > limits.max_file_bytes:
        raise BundleError(file, "file", f"{len(raw):,} bytes, over the limit of {limits.max_file_bytes:,}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise BundleError(
            file, f"line {line} column {column}", f"invalid UTF-8 (byte 0x{raw[exc.start]:02x})"
        ) from None


def _loads(file: str, text: str, where: str, limits: BundleLimits) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        place = f"{where} column {exc.colno}" if where else f"line {exc.lineno} column {exc.colno}"
        raise BundleError(file, place, f"invalid JSON: {exc.msg}") from exc
    except RecursionError:
        raise BundleError(file, where or "document", f"JSON nested deeper than {limits.max_depth} levels") from None


def _inspect(file: str, data: Any, limits: BundleLimits, where: str = "") -> None:
    """Every value of a parsed document within the limits: nesting depth, string length, and no
    character a text field may not hold. The path is rendered only for the error."""
    stack: list[tuple[Any, tuple[Any, ...], int]] = [(data, (), 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            _check_text(file, value, path, limits, where)
        elif isinstance(value, dict | list):
            if depth > limits.max_depth:
                raise BundleError(file, _place(where, path), f"JSON nested deeper than {limits.max_depth} levels")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _check_text(file, key, path, limits, where)
                stack.append((item, (*path, key), depth + 1))


def _place(where: str, path: tuple[Any, ...]) -> str:
    return f"{where} {_json_path(path)}" if where else _json_path(path)


def _check_text(file: str, text: str, path: tuple[Any, ...], limits: BundleLimits, where: str) -> None:
    if len(text) > limits.max_text_chars:
        raise BundleError(
            file, _place(where, path), f"{len(text):,} characters, over the limit of {limits.max_text_chars:,}"
        )
    bad = DISALLOWED_IN_TEXT.search(text)
    if bad:
        raise BundleError(file, _place(where, path), f"character U+{ord(bad.group()):04X} is not allowed in text")


def _parse_json(file: str, raw: bytes, limits: BundleLimits) -> Any:
    data = _loads(file, _decode(file, raw, limits), "", limits)
    _inspect(file, data, limits)
    return data


def validate_model(file: str, model: type[BaseModel], data: Any, prefix: tuple[Any, ...] = ()) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        loc, msg = _first_error(exc)
        raise BundleError(file, _json_path(prefix + loc), msg) from exc


def _beyond(page: int, page_count: int) -> str | None:
    """A page the manifest says the document does not have (page_count 0: not stated)."""
    return f"page {page} is beyond the manifest's page_count {page_count}" if 0 < page_count < page else None


@paused_gc()
def read_text_spans(raw: bytes, limits: BundleLimits, page_count: int) -> list[TextSpan]:
    """text_spans.ndjson: one span per line, each on a page of the document, ids unique."""
    spans: list[TextSpan] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(_decode(TEXT_SPANS, raw, limits).split("\n"), start=1):
        if not line.strip():
            continue
        data = _loads(TEXT_SPANS, line, f"line {lineno}", limits)
        # A plain span line (one object, its bbox list, no escapes, short, no character a text
        # may not hold, raw ones such as U+FFFE included) cannot break a limit: only other lines
        # are walked value by value.
        if (
            "\\u" in line
            or len(line) > limits.max_text_chars
            or line.count("[") + line.count("{") > 2
            or DISALLOWED_IN_TEXT.search(line)
        ):
            _inspect(TEXT_SPANS, data, limits, f"line {lineno}")
        try:
            span = TextSpan.model_validate(data)
        except ValidationError as exc:
            loc, msg = _first_error(exc)
            raise BundleError(TEXT_SPANS, f"line {lineno} {_json_path(loc)}", msg) from exc
        problem = _beyond(span.page, page_count)
        if problem:
            raise BundleError(TEXT_SPANS, f"line {lineno} $.page", problem)
        if span.id in seen:
            raise BundleError(
                TEXT_SPANS,
                f"line {lineno} $.id",
                f"duplicate span id {span.id!r} (first on line {seen[span.id]})",
            )
        seen[span.id] = lineno
        spans.append(span)
    return spans


def _check_unique(file: str, ids: Iterable[str], path: str, what: str) -> None:
    seen: dict[str, int] = {}
    for i, value in enumerate(ids):
        if value in seen:
            raise BundleError(file, path.format(i), f"duplicate {what} {value!r} (first at index {seen[value]})")
        seen[value] = i


def _check_references(bundle: Bundle) -> None:
    span_ids = {s.id for s in bundle.text_spans}
    for i, comp in enumerate(bundle.components):
        for j, span_id in enumerate(comp.span_ids):
            if span_id not in span_ids:
                raise BundleError(COMPONENTS, f"$[{i}].span_ids[{j}]", f"unknown text span {span_id!r}")
    components = {c.id for c in bundle.components}
    for i, net in enumerate(bundle.netlist.nets):
        for j, conn in enumerate(net.connections):
            if conn.component_id not in components:
                raise BundleError(
                    NETLIST,
                    f"$.nets[{i}].connections[{j}].component_id",
                    f"unknown component {conn.component_id!r}",
                )
    junctions = {j.id for j in bundle.netlist.junctions}
    for i, seg in enumerate(bundle.netlist.line_segments):
        for j, junction_id in enumerate(seg.junction_ids):
            if junction_id not in junctions:
                raise BundleError(
                    NETLIST, f"$.line_segments[{i}].junction_ids[{j}]", f"unknown junction {junction_id!r}"
                )


@paused_gc()
def read_components(raw: bytes, limits: BundleLimits, page_count: int) -> list[Component]:
    """components.json: a list of components, each on a page of the document, ids and pin names unique."""
    data = _parse_json(COMPONENTS, raw, limits)
    if not isinstance(data, list):
        raise BundleError(COMPONENTS, "$", "must be a JSON list of components")
    components = [validate_model(COMPONENTS, Component, item, (i,)) for i, item in enumerate(data)]
    for i, comp in enumerate(components):
        problem = _beyond(comp.page, page_count)
        if problem:
            raise BundleError(COMPONENTS, f"$[{i}].page", problem)
    _check_unique(COMPONENTS, (c.id for c in components), "$[{}].id", "component id")
    for i, comp in enumerate(components):
        _check_unique(COMPONENTS, (p.name for p in comp.pins), f"$[{i}].pins[{{}}].name", "pin name")
    return components


@paused_gc()
def read_netlist(raw: bytes, limits: BundleLimits) -> Netlist:
    """netlist.json: nets, junctions and line segments, each id unique."""
    netlist = validate_model(NETLIST, Netlist, _parse_json(NETLIST, raw, limits))
    _check_unique(NETLIST, (n.name for n in netlist.nets), "$.nets[{}].name", "net name")
    _check_unique(NETLIST, (j.id for j in netlist.junctions), "$.junctions[{}].id", "junction id")
    _check_unique(NETLIST, (s.id for s in netlist.line_segments), "$.line_segments[{}].id", "line segment id")
    return netlist


def read_bundle(
    read: Callable[[str], bytes | None], expected_key: str | None = None, limits: BundleLimits | None = None
) -> Bundle:
    """Read and validate a bundle; `read(name)` returns a file's bytes or None when it is absent."""
    return _read_all(read, expected_key, limits or BundleLimits())[0]


def _read_all(
    read: Callable[[str], bytes | None], expected_key: str | None, limits: BundleLimits
) -> tuple[Bundle, dict[str, bytes]]:
    raw = {name: read(name) for name in BUNDLE_FILES}
    for name, content in raw.items():
        if content is None:
            raise BundleError(name, "file", "missing from the bundle")
    files = {name: content for name, content in raw.items() if content is not None}

    manifest = validate_model(MANIFEST, Manifest, _parse_json(MANIFEST, files[MANIFEST], limits))
    if expected_key is not None and manifest.partition_key != expected_key:
        raise BundleError(
            MANIFEST,
            "$.project_id/$.job_id",
            f"names {manifest.partition_key!r} but the bundle is {expected_key!r}",
        )
    bundle = Bundle(
        manifest=manifest,
        text_spans=read_text_spans(files[TEXT_SPANS], limits, manifest.page_count),
        components=read_components(files[COMPONENTS], limits, manifest.page_count),
        netlist=read_netlist(files[NETLIST], limits),
        has_debug_overlay=read(DEBUG_OVERLAY) is not None,
    )
    _check_references(bundle)
    return bundle, files


class ValidatedUpload(BaseModel):
    """What the `bundle` asset keeps of an upload it validated whole: the manifest, the digest of
    each file as validated, and counts. Each part is then read once, by its own asset, from those
    very bytes."""

    manifest: Manifest
    sha256: dict[str, str]
    counts: dict[str, int]
    has_debug_overlay: bool = False

    def assemble(self, text_spans: list[TextSpan], components: list[Component], netlist: Netlist) -> Bundle:
        """The bundle from its parts as their assets stored them."""
        return Bundle(
            manifest=self.manifest,
            text_spans=text_spans,
            components=components,
            netlist=netlist,
            has_debug_overlay=self.has_debug_overlay,
        )


def validate_upload(
    read: Callable[[str], bytes | None], expected_key: str | None = None, limits: BundleLimits | None = None
) -> ValidatedUpload:
    """Validate a whole upload (every file and the references between them) into its record."""
    bundle, files = _read_all(read, expected_key, limits or BundleLimits())
    return ValidatedUpload(
        manifest=bundle.manifest,
        sha256={name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
        counts={
            "text_spans": len(bundle.text_spans),
            "components": len(bundle.components),
            "nets": len(bundle.netlist.nets),
        },
        has_debug_overlay=bundle.has_debug_overlay,
    )


def read_part(name: str, raw: bytes | None, upload: ValidatedUpload, limits: BundleLimits | None = None) -> Any:
    """One part of a validated upload, parsed from its file; the file must be the one validated."""
    if raw is None:
        raise BundleError(name, "file", "missing from the upload since it was validated")
    if hashlib.sha256(raw).hexdigest() != upload.sha256[name]:
        raise BundleError(name, "file", "changed since the bundle was validated; materialize bundle again")
    limits = limits or BundleLimits()
    readers: dict[str, Callable[[], Any]] = {
        TEXT_SPANS: lambda: read_text_spans(raw, limits, upload.manifest.page_count),
        COMPONENTS: lambda: read_components(raw, limits, upload.manifest.page_count),
        NETLIST: lambda: read_netlist(raw, limits),
    }
    return readers[name]()


def declared_pin_mismatches(components: list[Component], netlist: Netlist) -> list[str]:
    """Connections to a pin the component does not declare (components with no pin list accept any).

    Not a read error: netlists derived from layouts often list pins only through the netlist, so
    this is reported by an asset check instead of rejecting the bundle.
    """
    declared = {c.id: {p.name for p in c.pins} for c in components if c.pins}
    return [
        f"net {net.name!r}: {conn.component_id} has no pin {conn.pin!r}"
        for net in netlist.nets
        for conn in net.connections
        if conn.component_id in declared and conn.pin not in declared[conn.component_id]
    ]
