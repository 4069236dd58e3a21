import json
from pathlib import Path

import pytest

from wessley_dagster.domain.bundle import (
    BundleError,
    BundleLimits,
    declared_pin_mismatches,
    read_bundle,
    split_partition_key,
)
from wessley_dagster_tests.conftest import SPEEDUINO, SYNTHETIC


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def read(files: dict[str, bytes], expected_key: str | None = None):
    return read_bundle(files.get, expected_key=expected_key)


def test_sample_bundles_validate():
    synthetic = read(files_of(SYNTHETIC), "demo-roadster__fuel-pump-2019")
    assert (len(synthetic.text_spans), len(synthetic.components), len(synthetic.netlist.nets)) == (31, 10, 10)
    speeduino = read(files_of(SPEEDUINO))
    assert len(speeduino.components) == 134 and len(speeduino.netlist.nets) == 162


def test_unknown_fields_are_kept():
    bundle = read(files_of(SYNTHETIC))
    k3 = next(c for c in bundle.components if c.id == "K3")
    assert k3.model_extra == {"manufacturer_part": "Bosch 0332019150"}
    assert bundle.manifest.model_extra == {"ocr_pipeline": "synthetic-fixture"}


def with_change(name: str, mutate) -> dict[str, bytes]:
    files = files_of(SYNTHETIC)
    files[name] = mutate(files[name])
    return files


def json_change(name: str, edit):
    def mutate(raw: bytes) -> bytes:
        data = json.loads(raw)
        edit(data)
        return json.dumps(data).encode()

    return with_change(name, mutate)


def ndjson_line_change(lineno: int, new_line: str) -> dict[str, bytes]:
    def mutate(raw: bytes) -> bytes:
        lines = raw.decode().splitlines()
        lines[lineno - 1] = new_line
        return ("\n".join(lines) + "\n").encode()

    return with_change("text_spans.ndjson", mutate)


@pytest.mark.parametrize(
    ("files", "file", "where", "problem"),
    [
        (ndjson_line_change(7, '{"id": "s7", "text": "broken'), "text_spans.ndjson", "line 7", "invalid JSON"),
        (
            ndjson_line_change(3, '{"id": "s3", "text": "x", "page": 1, "confidence": 0.5, "engine": "t"}'),
            "text_spans.ndjson",
            "line 3 $.bbox",
            "Field required",
        ),
        (
            ndjson_line_change(
                4, '{"id": "s1", "text": "x", "page": 1, "bbox": [0,0,1,1], "confidence": 1, "engine": "t"}'
            ),
            "text_spans.ndjson",
            "line 4 $.id",
            "duplicate span id 's1' (first on line 1)",
        ),
        (json_change("components.json", lambda d: d[4].pop("page")), "components.json", "$[4].page", "Field required"),
        (
            json_change("components.json", lambda d: d[2].update(confidence="high")),
            "components.json",
            "$[2].confidence",
            "valid number",
        ),
        (
            json_change("components.json", lambda d: d[3].update(id="F21")),
            "components.json",
            "$[3].id",
            "duplicate component id 'F21'",
        ),
        (
            json_change("netlist.json", lambda d: d["nets"][5]["connections"][1].update(component_id="R99")),
            "netlist.json",
            "$.nets[5].connections[1].component_id",
            "unknown component 'R99'",
        ),
        (
            json_change("components.json", lambda d: d[0]["span_ids"].append("s404")),
            "components.json",
            "$[0].span_ids[2]",
            "unknown text span 's404'",
        ),
        (
            json_change("manifest.json", lambda d: d.update(page_count="two")),
            "manifest.json",
            "$.page_count",
            "integer",
        ),
        (
            json_change("manifest.json", lambda d: d.update(project_id="a__b")),
            "manifest.json",
            "$.project_id",
            "must not contain '__'",
        ),
        (with_change("netlist.json", lambda raw: raw[:-40]), "netlist.json", "line", "invalid JSON"),
    ],
)
def test_bad_input_names_file_place_and_problem(files, file, where, problem):
    with pytest.raises(BundleError) as excinfo:
        read(files)
    err = excinfo.value
    assert err.file == file
    assert err.where.startswith(where)
    assert problem in err.problem
    assert str(err).startswith(f"{file}: {where}")


def test_missing_file_is_named():
    files = files_of(SYNTHETIC)
    del files["netlist.json"]
    with pytest.raises(BundleError, match=r"netlist.json: file: missing from the bundle"):
        read(files)


def test_manifest_must_match_its_folder():
    with pytest.raises(BundleError, match="names 'demo-roadster__fuel-pump-2019' but the bundle is 'x__y'"):
        read(files_of(SYNTHETIC), expected_key="x__y")


def test_undeclared_pins_are_reported_not_rejected():
    files = json_change(
        "netlist.json", lambda d: d["nets"][0]["connections"].append({"component_id": "K3", "pin": "99"})
    )
    bundle = read(files)
    assert declared_pin_mismatches(bundle.components, bundle.netlist) == ["net 'VBAT': K3 has no pin '99'"]


def test_partition_key_round_trip():
    assert split_partition_key("proj-1__job__2") == ("proj-1", "job__2")
    with pytest.raises(ValueError, match="is not"):
        split_partition_key("no-separator")


SPAN = '{"id": "s7", "text": %s, "page": 1, "bbox": [0, 0, 1, 1], "confidence": 1.0, "engine": "ocr"}'


def raw_change(name: str, old: bytes, new: bytes) -> dict[str, bytes]:
    return with_change(name, lambda raw: raw.replace(old, new, 1))


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("files", "file", "where", "problem"),
    [
        (
            with_change("text_spans.ndjson", lambda raw: raw.replace(b"\n", b"\n\xff\xfe", 3)[:-1] + b"\n"),
            "text_spans.ndjson",
            "line 2 column 1",
            "invalid UTF-8 (byte 0xff)",
        ),
        (raw_change("components.json", b"[", b"[\xc3"), "components.json", "line 1 column 2", "invalid UTF-8"),
        (ndjson_line_change(7, SPAN % '"\\ud800 lone"'), "text_spans.ndjson", "line 7 $.text", "U+D800"),
        (ndjson_line_change(7, SPAN % '"NUL \\u0000 inside"'), "text_spans.ndjson", "line 7 $.text", "U+0000"),
        (ndjson_line_change(7, SPAN % '"bell \\u0007"'), "text_spans.ndjson", "line 7 $.text", "U+0007"),
        (ndjson_line_change(7, SPAN % '"not xml \\uffff"'), "text_spans.ndjson", "line 7 $.text", "U+FFFF"),
        (
            ndjson_line_change(7, SPAN % json.dumps("x" * 20_001)),
            "text_spans.ndjson",
            "line 7 $.text",
            "20,001 characters, over the limit of 20,000",
        ),
        (
            ndjson_line_change(7, SPAN.replace("}", ', "extra": %s}') % ('"ok"', nested(40))),
            "text_spans.ndjson",
            "line 7 $.extra" + "[0]" * 31,
            "nested deeper than 32 levels",
        ),
        (ndjson_line_change(7, nested(200_000)), "text_spans.ndjson", "line 7", "nested deeper than 32 levels"),
        (
            raw_change(
                "netlist.json",
                b"{",
                b'{"deep": ' + nested(200_000).encode() + b", ",
            ),
            "netlist.json",
            "document",
            "nested deeper than 32 levels",
        ),
        (
            json_change("components.json", lambda d: d[0].update(notes={"\u0001key": 1})),
            "components.json",
            "$[0].notes",
            "U+0001",
        ),
        (
            json_change("manifest.json", lambda d: d.update(source_document="a\rb")),
            "manifest.json",
            "$.source_document",
            "U+000D",
        ),
    ],
)
def test_hostile_bytes_are_clear_bundle_errors(files, file, where, problem):
    with pytest.raises(BundleError) as err:
        read(files)
    assert (err.value.file, err.value.where) == (file, where) and problem in err.value.problem


def test_tab_and_newline_are_text_and_limits_are_configurable():
    files = ndjson_line_change(7, SPAN % '"two\\tcolumns\\nand lines"')
    assert any(s.text == "two\tcolumns\nand lines" for s in read(files).text_spans)
    big = ndjson_line_change(7, SPAN % json.dumps("x" * 500))
    with pytest.raises(BundleError, match="over the limit of 100"):
        read_bundle(big.get, limits=BundleLimits(max_text_chars=100))
    with pytest.raises(BundleError, match=r"text_spans.ndjson: file: .* bytes, over the limit of 1,000"):
        read_bundle(files_of(SPEEDUINO).get, limits=BundleLimits(max_file_bytes=1000))


def test_a_manifest_that_lies_about_its_pages_is_refused():
    with pytest.raises(BundleError) as err:
        read(json_change("manifest.json", lambda d: d.update(page_count=1)))
    assert (err.value.file, err.value.problem) == ("text_spans.ndjson", "page 2 is beyond the manifest's page_count 1")
    spans_ok = with_change("text_spans.ndjson", lambda raw: raw.replace(b'"page": 2', b'"page": 1'))
    spans_ok["manifest.json"] = json_change("manifest.json", lambda d: d.update(page_count=1))["manifest.json"]
    with pytest.raises(BundleError, match=r"components.json: \$\[\d+\].page: page 2 is beyond"):
        read(spans_ok)


def test_a_validated_upload_keeps_no_copy_and_its_parts_read_back_only_from_the_same_bytes():
    from wessley_dagster.domain.bundle import NETLIST, TEXT_SPANS, ValidatedUpload, read_part, validate_upload

    files = {p.name: p.read_bytes() for p in SYNTHETIC.iterdir()}
    upload = validate_upload(files.get)
    assert upload.counts == {"text_spans": 31, "components": 10, "nets": 10}
    stored = upload.model_dump_json()
    assert len(stored) < 2000 and "FUEL_PUMP" not in stored  # the manifest and digests, not the parts
    whole = read_bundle(files.get)
    parts = [read_part(n, files[n], upload) for n in (TEXT_SPANS, "components.json", NETLIST)]
    assert upload.assemble(*parts) == whole
    changed = files[NETLIST].replace(b"FUEL_PUMP_PWR", b"FUEL_PUMP_PW2")
    with pytest.raises(BundleError, match="changed since the bundle was validated"):
        read_part(NETLIST, changed, upload)
    assert ValidatedUpload.model_validate_json(stored) == upload
