"""Every dataset in the repo, through the import command and the whole pipeline: the graph store
holds exactly the source's connectivity, components and values (and every WireViz wire)."""

from pathlib import Path

import pytest

from wessley_dagster.adapters.importer import import_design
from wessley_dagster.adapters.source import JobInfo
from wessley_dagster.stores.objects import LocalFolderStore
from wessley_dagster_tests.adapters import truth
from wessley_dagster_tests.conftest import SOURCES, add_partitions, unique, uploads_dir
from wessley_dagster_tests.test_pipeline import run

OSCC = sorted((SOURCES / "oscc").glob("*.sch"))


def graph_state(store, project_id: str, job_id: str):
    """(net name -> {(component, pin)}, component -> value) as the graph store holds them."""
    rows = store.read(
        "MATCH (n:Net {project_id: $p, job_id: $j}) "
        "OPTIONAL MATCH (c:Component)-[:HAS_PIN]->(pin:Pin)-[:ON_NET]->(n) "
        "RETURN n.name AS net, c.id AS component, pin.name AS pin",
        p=project_id,
        j=job_id,
    )
    nets: dict[str, set[tuple[str, str]]] = {}
    for row in rows:
        members = nets.setdefault(row["net"], set())
        if row["component"] is not None:
            members.add((row["component"], row["pin"]))
    comps = store.read(
        "MATCH (c:Component {project_id: $p, job_id: $j}) RETURN c.id AS id, c.value AS value", p=project_id, j=job_id
    )
    return nets, {r["id"]: r["value"] for r in comps}


def connectivity_diff(expected: dict[str, set], actual: dict[str, set], anonymous: bool = False) -> list[str]:
    """Readable differences, naming the net and the pins."""
    if anonymous:  # sources whose nets have no names: compare the member sets themselves
        exp, act = sorted(map(sorted, expected.values())), sorted(map(sorted, actual.values()))
        return [] if exp == act else [f"unnamed nets differ: {[n for n in exp if n not in act][:3]}"]
    problems = []
    for name in sorted(expected.keys() | actual.keys()):
        missing, extra = (
            expected.get(name, set()) - actual.get(name, set()),
            actual.get(name, set()) - expected.get(name, set()),
        )
        if name not in actual:
            problems.append(f"net {name!r} is missing from the graph")
        elif name not in expected:
            problems.append(f"net {name!r} is in the graph but not in the source")
        elif missing or extra:
            problems.append(f"net {name!r}: missing {sorted(missing)}, unexpected {sorted(extra)}")
    return problems


def ingest(kind: str, path: Path, env, resources, instance, pdf: Path | None = None):
    project = unique(kind)
    job = JobInfo(project_id=project, job_id=path.stem.replace(" ", "_").replace("__", "-")[:60])
    report = import_design(kind, path, job, LocalFolderStore(uploads_dir(env)), pdf)
    key = report.bundle.partition_key
    add_partitions(instance, key)
    result = run(key, resources, instance)
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    return report, graph_state(resources["graph"].store, project, job.job_id)


def test_kicad_2013_netlist(env, resources, instance):
    path = SOURCES / "rusefi-inj12ch" / "classic-designs__1A_injector_12-channels__inj_12ch.net"
    expected_nets, expected_values = truth.kicad_sexpr(path)
    _, (nets, values) = ingest("kicad", path, env, resources, instance)
    named = {k: v for k, v in expected_nets.items() if not k.startswith("<unnamed")}
    assert connectivity_diff(named, {k: v for k, v in nets.items() if k in named}) == []
    assert connectivity_diff(expected_nets, nets, anonymous=True) == []
    assert values == expected_values
    assert (len(values), len(nets), sum(map(len, nets.values()))) == (59, 45, 160)


@pytest.mark.parametrize("path", OSCC, ids=lambda p: p.stem.split("__")[2])
def test_eagle_schematics(path, env, resources, instance):
    expected_nets, expected_values = truth.eagle(path)
    report, (nets, values) = ingest("eagle", path, env, resources, instance)
    assert connectivity_diff(expected_nets, nets) == []
    assert values == expected_values
    assert report.match_rate == 1.0  # every placed part's name is drawn on its sheet


def test_eagle_multi_sheet_pages(env):
    from wessley_dagster.adapters.eagle import read_eagle

    design = read_eagle(next(p for p in OSCC if "actuator_control" in p.name))
    assert design.page_count == 6
    assert {c.page for c in design.components} == set(range(1, 7))
    assert design.junctions and all(s.page in range(1, 7) for s in design.line_segments)


def test_wireviz_harness_keeps_every_wire(env, resources, instance):
    path = SOURCES / "zombie-vcu-harness" / "zombie.yml"
    expected_nets, connector_types, colors = truth.wireviz(path)
    report, (nets, values) = ingest("wireviz", path, env, resources, instance)
    assert connectivity_diff(expected_nets, nets) == []
    assert values == connector_types
    stored = resources["graph"].store.read(
        "MATCH (n:Net {project_id: $p}) RETURN n.name AS name, n.color AS color", p=report.bundle.manifest.project_id
    )
    assert {r["name"]: r["color"] for r in stored} == colors
    assert len(colors) == 34  # 32 wires and 2 shields


def test_pcb_netlist_with_pdf_text(env, resources, instance):
    folder = SOURCES / "speeduino-v0.4.3d"
    expected_nets, expected_values = truth.pcb_json(folder / "v0.4.3d.pcb_netlist.json")
    report, (nets, values) = ingest(
        "pcb-json",
        folder / "v0.4.3d.pcb_netlist.json",
        env,
        resources,
        instance,
        pdf=folder / "v0.4__THT__Latest__v0.4.3d.pdf",
    )
    assert connectivity_diff(expected_nets, nets) == []
    assert values == expected_values
    assert report.match_rate > 0.75
