"""Hostile uploads end to end: each one is refused by the upload sensor with a clear error before
anything is written, the `bundle` step refuses the same bytes the same way if a run is started
anyway (from the UI), and no backend changes (no graph node, vector point or artifact of the
project, no job row)."""

import json
from collections.abc import Callable

import pytest
from dagster import materialize

from wessley_dagster.assets.bundle import bundle
from wessley_dagster.domain.bundle import id_problem
from wessley_dagster.stores.objects import LocalFolderStore
from wessley_dagster.upload_decision import check_upload
from wessley_dagster_tests.conftest import SYNTHETIC, add_partitions, resources_for, unique, uploads_dir
from wessley_dagster_tests.test_sensors import evaluate

Files = dict[str, bytes]


def json_edit(name: str, edit: Callable[[object], object]) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        files[name] = json.dumps(edit(json.loads(files[name]))).encode()

    return mutate


def raw_edit(name: str, old: bytes, new: bytes) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        assert old in files[name]
        files[name] = files[name].replace(old, new, 1)

    return mutate


def first(key: str, value: object) -> Callable[[object], object]:
    def edit(data):
        target = data[0] if isinstance(data, list) else data["nets"][0]
        target[key] = value
        return data

    return edit


SPAN = b'"text": "'
NESTED = "[" * 100_000 + "]" * 100_000

# (name, mutation of the files, what the error must say): the sensor refuses or the bundle step fails.
CASES: list[tuple[str, Callable[[Files], None], str]] = [
    ("manifest not json", raw_edit("manifest.json", b"{", b"{{"), "unreadable"),
    ("manifest bad utf-8", raw_edit("manifest.json", b"{", b"{\xff"), "unreadable"),
    ("manifest a list", lambda f: f.update({"manifest.json": b"[]"}), "invalid"),
    ("manifest with a bom", raw_edit("manifest.json", b"{", b"\xef\xbb\xbf{"), "Unexpected UTF-8 BOM"),
    ("manifest deep", raw_edit("manifest.json", b"{", b'{"x": ' + NESTED.encode() + b","), "unreadable"),
    (
        "manifest no project",
        json_edit("manifest.json", lambda d: {k: v for k, v in d.items() if k != "project_id"}),
        "invalid",
    ),
    ("manifest other project", json_edit("manifest.json", lambda d: {**d, "project_id": "victim"}), "names project"),
    ("manifest other job", json_edit("manifest.json", lambda d: {**d, "job_id": "other"}), "names project"),
    (
        "manifest year 3000",
        json_edit("manifest.json", lambda d: {**d, "vehicle": {**d["vehicle"], "year": 3000}}),
        "invalid",
    ),
    (
        "manifest no make",
        json_edit("manifest.json", lambda d: {**d, "vehicle": {"model": "x", "year": 2020}}),
        "invalid",
    ),
    ("manifest negative pages", json_edit("manifest.json", lambda d: {**d, "page_count": -1}), "invalid"),
    ("manifest bad date", json_edit("manifest.json", lambda d: {**d, "created_at": "yesterday"}), "invalid"),
    ("manifest empty user", json_edit("manifest.json", lambda d: {**d, "user_id": ""}), "invalid"),
    ("spans bad json", raw_edit("text_spans.ndjson", b"}\n", b"\n"), "invalid JSON"),
    ("spans bad utf-8", raw_edit("text_spans.ndjson", SPAN, SPAN + b"\xc3("), "invalid UTF-8"),
    ("spans nul", raw_edit("text_spans.ndjson", SPAN, SPAN + b"\\u0000"), "U+0000"),
    ("spans escape", raw_edit("text_spans.ndjson", SPAN, SPAN + b"\\u001b[31m"), "U+001B"),
    ("spans raw non-character", raw_edit("text_spans.ndjson", SPAN, SPAN + "\ufffe".encode()), "U+FFFE"),
    ("spans surrogate", raw_edit("text_spans.ndjson", SPAN, SPAN + b"\\ud800"), "U+D800"),
    ("spans non-character", raw_edit("text_spans.ndjson", SPAN, SPAN + b"\\uffff"), "U+FFFF"),
    ("spans huge text", raw_edit("text_spans.ndjson", SPAN, SPAN + b"x" * 30_000), "over the limit"),
    ("spans deep", raw_edit("text_spans.ndjson", b"{", b'{"x": ' + NESTED.encode() + b","), "nested deeper"),
    ("spans page 0", raw_edit("text_spans.ndjson", b'"page": 1', b'"page": 0'), "greater than or equal to 1"),
    ("spans page lie", raw_edit("text_spans.ndjson", b'"page": 1', b'"page": 99'), "beyond the manifest"),
    ("spans short bbox", raw_edit("text_spans.ndjson", b'"bbox": [', b'"bbox": [1, '), "bbox"),
    (
        "spans confidence 2",
        raw_edit("text_spans.ndjson", b'"confidence": ', b'"confidence": 2, "c": '),
        "less than or equal to 1",
    ),
    (
        "spans duplicate id",
        lambda f: f.update(
            {"text_spans.ndjson": f["text_spans.ndjson"] + f["text_spans.ndjson"].split(b"\n")[0] + b"\n"}
        ),
        "duplicate span id",
    ),
    ("spans no text", raw_edit("text_spans.ndjson", b'"text":', b'"words":'), "$.text"),
    ("components not a list", lambda f: f.update({"components.json": b"{}"}), "must be a JSON list"),
    ("components duplicate id", json_edit("components.json", lambda d: [*d, d[0]]), "duplicate component id"),
    (
        "components duplicate pin",
        json_edit("components.json", lambda d: [{**d[0], "pins": d[0]["pins"] * 2}, *d[1:]]),
        "duplicate pin name",
    ),
    ("components unknown span", json_edit("components.json", first("span_ids", ["nope"])), "unknown text span"),
    ("components page -1", json_edit("components.json", first("page", -1)), "greater than or equal to 1"),
    ("components page lie", json_edit("components.json", first("page", 50)), "beyond the manifest"),
    ("components newline id", json_edit("components.json", first("id", "R1\r")), "U+000D"),
    ("components bell value", json_edit("components.json", first("value", "10k\u0007")), "U+0007"),
    ("components huge note", json_edit("components.json", first("notes", "n" * 25_000)), "over the limit"),
    ("components pins not list", json_edit("components.json", first("pins", "1,2")), "pins"),
    (
        "components deep extra",
        json_edit("components.json", first("extra", json.loads("[" * 40 + "]" * 40))),
        "nested deeper",
    ),
    ("components bad utf-8", raw_edit("components.json", b"[", b"[\xed\xa0\x80"), "invalid UTF-8"),
    (
        "netlist unknown component",
        json_edit(
            "netlist.json",
            lambda d: {**d, "nets": [{"name": "N", "connections": [{"component_id": "GHOST", "pin": "1"}]}]},
        ),
        "unknown component",
    ),
    (
        "netlist duplicate net",
        json_edit("netlist.json", lambda d: {**d, "nets": d["nets"] + d["nets"][:1]}),
        "duplicate net name",
    ),
    ("netlist no nets", json_edit("netlist.json", lambda d: {}), "nets"),
    ("netlist nets null", json_edit("netlist.json", lambda d: {"nets": None}), "nets"),
    ("netlist empty net name", json_edit("netlist.json", first("name", "")), "at least 1 character"),
    ("netlist escape in name", json_edit("netlist.json", first("name", "CAN\u001bH")), "U+001B"),
    (
        "netlist empty pin",
        json_edit(
            "netlist.json",
            lambda d: {
                **d,
                "nets": [{**d["nets"][0], "connections": [{"component_id": "K3", "pin": ""}]}, *d["nets"][1:]],
            },
        ),
        "at least 1 character",
    ),
    (
        "netlist unknown junction",
        json_edit(
            "netlist.json",
            lambda d: {
                **d,
                "line_segments": [{"id": "s", "page": 1, "start": [0, 0], "end": [1, 1], "junction_ids": ["j9"]}],
            },
        ),
        "unknown junction",
    ),
    ("netlist deep", raw_edit("netlist.json", b"{", b'{"x": ' + NESTED.encode() + b","), "nested deeper"),
    ("netlist truncated", lambda f: f.update({"netlist.json": f["netlist.json"][:40]}), "invalid JSON"),
    ("netlist bad utf-8", raw_edit("netlist.json", b"{", b"{\xfe"), "invalid UTF-8"),
]

# Folders that must not become partitions at all.
FOLDERS = [("proj__alias", "job"), ("proj", "job__alias"), ("proj", "x" * 200), ("pr\u00f8j", "job"), ("proj", ".job")]


def stage(env, project: str, job: str, mutate: Callable[[Files], None] | None = None) -> None:
    files: Files = {p.name: p.read_bytes() for p in SYNTHETIC.iterdir() if p.is_file()}
    manifest = json.loads(files["manifest.json"])
    files["manifest.json"] = json.dumps({**manifest, "project_id": project, "job_id": job}).encode()
    if mutate:
        mutate(files)
    folder = uploads_dir(env) / project / job
    folder.mkdir(parents=True)
    for name, data in files.items():
        if name != "manifest.json":
            (folder / name).write_bytes(data)
    (folder / "manifest.json").write_bytes(files["manifest.json"])  # last, as an uploader would


def unchanged(resources, project: str) -> None:
    """No graph node, vector point, artifact, job or project row of the project."""
    graph, meta = resources["graph"].store, resources["metadata"].store
    assert graph.read("MATCH (n {project_id: $p}) RETURN count(n) AS c", p=project) == [{"c": 0}]
    assert resources["vectors"].store.count(project) == 0
    assert resources["storage"].object_store().list(f"{project}/") == []
    assert [j for j in meta.jobs() if j["project_id"] == project] == []
    assert meta.project_owner(project) is None


@pytest.mark.parametrize(("name", "mutate", "problem"), CASES, ids=[c[0] for c in CASES])
def test_a_hostile_upload_is_refused_and_changes_nothing(env, instance, name, mutate, problem):
    resources = resources_for(env)
    project = unique("hostile")
    stage(env, project, "job", mutate)
    result = evaluate(instance, resources)
    assert result.run_requests == [] and result.dynamic_partitions_requests == []
    store = LocalFolderStore(uploads_dir(env))
    reason = check_upload(store, project, "job", resources["uploads"].limits()).problem
    assert problem in reason, reason
    if reason.startswith("invalid bundle"):  # a run started anyway: its bundle step refuses the same bytes
        add_partitions(instance, f"{project}__job")
        outcome = materialize(
            [bundle], partition_key=f"{project}__job", resources=resources, instance=instance, raise_on_error=False
        )
        assert not outcome.success
        failure = next(e for e in outcome.all_events if e.event_type_value == "STEP_FAILURE")
        message = failure.step_failure_data.user_failure_data.description
        assert message.startswith("invalid bundle") and problem in message, message
        assert not [e for e in outcome.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    unchanged(resources, project)


@pytest.mark.parametrize(("project", "job"), FOLDERS)
def test_a_folder_that_is_no_project_and_job_never_becomes_a_partition(env, instance, project, job):
    resources = resources_for(env)
    stage(env, project, job)
    result = evaluate(instance, resources)
    assert result.run_requests == [] and result.dynamic_partitions_requests == []
    assert id_problem(project) or id_problem(job)
    assert resources["metadata"].store.jobs() == []


@pytest.mark.parametrize("name", ["components.json", "debug_overlay.png"])
def test_a_symlink_in_an_upload_is_never_read(env, instance, tmp_path, name):
    """A required file that is a symlink leaves the upload incomplete; an optional one refuses it.
    Either way the host file it points at is never read and nothing is written."""
    resources = resources_for(env)
    project = unique("hostile")
    stage(env, project, "job")
    secret = tmp_path / "host-secret"
    secret.write_bytes(b"not yours")
    link = uploads_dir(env) / project / "job" / name
    link.unlink(missing_ok=True)
    link.symlink_to(secret)
    result = evaluate(instance, resources)
    assert result.run_requests == [] and result.dynamic_partitions_requests == []
    if name == "debug_overlay.png":
        reason = check_upload(LocalFolderStore(uploads_dir(env)), project, "job", resources["uploads"].limits()).problem
        assert reason.startswith("invalid bundle: ") and "symlink" in reason, reason
    unchanged(resources, project)
