"""The graph store against a real graph server (ArcadeDB over Bolt, the embedded default)."""

import pytest
from neo4j import GraphDatabase

from wessley_dagster.domain.bundle import read_bundle
from wessley_dagster.domain.graph_model import bundle_to_graph
from wessley_dagster.stores.arcadedb import DATABASE, USER
from wessley_dagster.stores.graph import GraphStore
from wessley_dagster_tests.conftest import SYNTHETIC, unique


@pytest.fixture(scope="module")
def store(arcadedb):
    driver = GraphDatabase.driver(arcadedb.uri, auth=(USER, arcadedb.password))
    s = GraphStore(driver, DATABASE)
    s.ensure_schema()
    s.ensure_schema()  # idempotent
    yield s
    driver.close()


def bundle_as(project_id: str, job_id: str = "job"):
    b = read_bundle(lambda n: (SYNTHETIC / n).read_bytes() if (SYNTHETIC / n).exists() else None)
    return b.model_copy(update={"manifest": b.manifest.model_copy(update={"project_id": project_id, "job_id": job_id})})


def test_load_twice_gives_the_identical_graph(store):
    project = unique("p")
    payload = bundle_to_graph(bundle_as(project))
    store.load(payload)
    first = store.dump(project, "job")
    store.load(payload)
    assert store.dump(project, "job") == first
    expected = payload.counts()
    expected.pop("Vehicle")
    counts = store.counts(project, "job")
    assert {k: counts.get(k, 0) for k in expected} == expected


def test_a_new_version_leaves_no_stale_nodes_or_relationships(store):
    project = unique("p")
    bundle = bundle_as(project)
    store.load(bundle_to_graph(bundle))
    # Drop D2 and move R7 off CANL: its pin 2 and the D2 pins must go, nothing else.
    components = [c for c in bundle.components if c.id != "D2"]
    nets = []
    for net in bundle.netlist.nets:
        conns = [c for c in net.connections if c.component_id != "D2" and not (c.component_id == "R7" and c.pin == "2")]
        nets.append(net.model_copy(update={"connections": conns}))
    r7 = next(c for c in components if c.id == "R7")
    r7 = r7.model_copy(update={"pins": [p for p in r7.pins if p.name != "2"]})
    components = [r7 if c.id == "R7" else c for c in components]
    smaller = bundle.model_copy(
        update={"components": components, "netlist": bundle.netlist.model_copy(update={"nets": nets})}
    )
    store.load(bundle_to_graph(smaller))
    fresh_project = unique("p")
    reference = smaller.model_copy(
        update={"manifest": smaller.manifest.model_copy(update={"project_id": fresh_project})}
    )
    store.load(bundle_to_graph(reference))
    assert store.counts(project, "job") == store.counts(fresh_project, "job")
    assert store.net_members(project, "CANL") == [
        {"job_id": "job", "component_id": "J1", "type": "connector", "pin": "14"},
        {"job_id": "job", "component_id": "U1", "type": "ecu", "pin": "CANL"},
    ]


def test_jobs_and_projects_never_collide(store):
    a, b = unique("p"), unique("p")
    store.load(bundle_to_graph(bundle_as(a, "j1")))
    store.load(bundle_to_graph(bundle_as(a, "j2")))
    store.load(bundle_to_graph(bundle_as(b, "j1")))
    one = store.counts(a, "j1")
    assert store.counts(a, "j2") == one == store.counts(b, "j1")
    assert {r["job_id"] for r in store.net_members(a, "GND")} == {"j1", "j2"}
    assert {r["job_id"] for r in store.net_members(a, "GND", job_id="j2")} == {"j2"}
    vehicles = store.read("MATCH (v:Vehicle {project_id: $p})-[:CONTAINS]->(c) RETURN count(c) AS c", p=a)
    assert vehicles == [{"c": 2 * len(bundle_as(a).components)}]


def test_hostile_names_are_stored_verbatim(store):
    project = unique("p")
    bundle = bundle_as(project)
    hostile = "R1'\"`}) DETACH DELETE n //ΩЖ" + "x" * 5000
    comps = [c.model_copy(update={"value": hostile}) if c.id == "R12" else c for c in bundle.components]
    store.load(bundle_to_graph(bundle.model_copy(update={"components": comps})))
    rows = store.read("MATCH (c:Component {project_id: $p, id: 'R12'}) RETURN c.value AS v", p=project)
    assert rows == [{"v": hostile}]
    assert store.counts(project, "job")["Component"] == 10


def test_checks_queries_find_problems(store):
    project = unique("p")
    store.load(bundle_to_graph(bundle_as(project)))
    ok = [{"component_id": "R12", "pin": "1", "net": "IGN"}]
    bad = [{"component_id": "R12", "pin": "1", "net": "GND"}]
    assert store.missing_connections(project, "job", ok + bad) == bad
    assert store.orphan_pins(project, "job") == 0
    store._write("MATCH (:Component {project_id: $p, id: 'R12'})-[r:HAS_PIN]->() DELETE r", p=project)
    assert store.orphan_pins(project, "job") == 2
