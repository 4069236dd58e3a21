"""The graph store against real graph servers: the same suite on ArcadeDB (the embedded default,
over Bolt) and on Neo4j 5.26 Community."""

import threading

import pytest
from neo4j import GraphDatabase

from wessley_dagster.domain.bundle import read_bundle
from wessley_dagster.domain.graph_model import JOB_LABELS, bundle_to_graph
from wessley_dagster.stores.arcadedb import DATABASE, USER
from wessley_dagster.stores.graph import GraphStore, content_hash, section_digests
from wessley_dagster_tests.conftest import SYNTHETIC, unique
from wessley_dagster_tests.synthetic import make_bundle


@pytest.fixture(scope="module", params=["arcadedb", "neo4j"])
def store(request):
    if request.param == "arcadedb":
        server = request.getfixturevalue("arcadedb")
        driver, database = GraphDatabase.driver(server.uri, auth=(USER, server.password)), DATABASE
    else:
        server = request.getfixturevalue("neo4j")
        driver, database = GraphDatabase.driver(server.uri, auth=server.auth), server.database
    # Neo4j as deployed, its batches two at a time (NEO4J_WRITERS); ArcadeDB one at a time.
    s = GraphStore(driver, database, writers=1 if request.param == "arcadedb" else 2)
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


def payload_nodes(payload) -> list:
    """The job's nodes as `GraphStore.dump` lists them: the payload's properties, key and hash."""
    return sorted(
        (
            [label],
            sorted((k, repr(v)) for k, v in {**row["props"], "key": row["key"], "hash": content_hash(row)}.items()),
        )
        for label, rows in payload.nodes.items()
        if label in JOB_LABELS
        for row in rows
    )


def test_a_node_holds_exactly_its_payload_properties_however_it_was_written(store):
    """A first load names the contract's properties in its CREATE (one that is absent is not
    stored); a node with a bundle's extra field, and a changed node of a re-load, are written
    by SET. Each holds what its row holds, nothing more."""
    project = unique("p")
    bundle = bundle_as(project)
    comps = [c.model_copy(update={"value": None, "torque_nm": 4.5}) if c.id == "R12" else c for c in bundle.components]
    first = bundle_to_graph(bundle.model_copy(update={"components": comps}))
    r12 = next(row["props"] for row in first.nodes["Component"] if row["props"]["id"] == "R12")
    assert r12["torque_nm"] == 4.5 and "value" not in r12
    store.load(first)
    assert store.dump(project, "job")["nodes"] == payload_nodes(first)

    second = bundle_to_graph(
        bundle.model_copy(update={"components": [c.model_copy(update={"confidence": 0.5}) for c in comps]})
    )
    store.load(second)
    assert store.dump(project, "job")["nodes"] == payload_nodes(second)


def load_ids(store, project: str) -> dict[str, str]:
    """Each of the job's nodes by key, with the load that last wrote it."""
    rows = store.read("MATCH (n {project_id: $p, job_id: 'job'}) RETURN n.key AS k, n.load_id AS l", p=project)
    return {r["k"]: r["l"] for r in rows}


def test_a_reload_writes_only_what_changed(store):
    project = unique("p")
    bundle = bundle_as(project)
    first = store.load(bundle_to_graph(bundle))
    store.load(bundle_to_graph(bundle))  # unchanged: writes nothing of the job
    assert set(load_ids(store, project).values()) == {first}

    # One part of ten changes its value, one net loses a pin, one component goes.
    changed = [c.model_copy(update={"value": "47k"}) if c.id == "R12" else c for c in bundle.components if c.id != "D2"]
    nets = [
        n.model_copy(update={"connections": [c for c in n.connections if c.component_id != "D2"]})
        for n in bundle.netlist.nets
    ]
    smaller = bundle.model_copy(
        update={"components": changed, "netlist": bundle.netlist.model_copy(update={"nets": nets})}
    )
    before, after = bundle_to_graph(bundle), bundle_to_graph(smaller)
    second = store.load(after)
    written = {k for k, load in load_ids(store, project).items() if load == second}
    hashes = {row["key"]: content_hash(row) for rows in before.nodes.values() for row in rows}
    rows = {row["key"]: row for label, group in after.nodes.items() if label != "Vehicle" for row in group}
    differ = {key for key, row in rows.items() if hashes.get(key) != content_hash(row)}
    r12 = next(row["key"] for row in after.nodes["Component"] if row["props"]["id"] == "R12")
    # R12, and the nets whose fan-out D2's going changed: nothing else of the job is written.
    assert r12 in written and written == differ and len(written) < len(load_ids(store, project)) / 10

    # The graph is exactly the changed bundle's: as a fresh load of it in another project.
    reference = unique("p")
    store.load(
        bundle_to_graph(
            smaller.model_copy(update={"manifest": smaller.manifest.model_copy(update={"project_id": reference})})
        )
    )
    assert store.counts(project, "job") == store.counts(reference, "job")
    assert store.net_members(project, "GND") == store.net_members(reference, "GND")
    assert store.read("MATCH (c:Component {project_id: $p, id: 'R12'}) RETURN c.value AS v", p=project) == [
        {"v": "47k"}
    ]


def test_a_reload_looks_only_at_the_sections_whose_digest_changed(store, monkeypatch):
    project = unique("p")
    bundle = bundle_as(project)
    store.load(bundle_to_graph(bundle))
    reads: list[str] = []
    read_list = store._read_list
    monkeypatch.setattr(store, "_read_list", lambda query, **params: reads.append(query) or read_list(query, **params))

    store.load(bundle_to_graph(bundle))
    assert reads == []  # unchanged: its digests say so, and nothing of the job is read

    comps = [c.model_copy(update={"value": "47k"}) if c.id == "R12" else c for c in bundle.components]
    changed = bundle.model_copy(update={"components": comps})
    before, after = section_digests(bundle_to_graph(bundle)), section_digests(bundle_to_graph(changed))
    differ = {name for name in after if before[name] != after[name]}
    store.load(bundle_to_graph(changed))
    assert 0 < len(reads) == len(differ) < len(after) / 2

    # A load interrupted after it forgot the digests, and a node lost meanwhile: the next load
    # looks at every section and leaves the graph a fresh load of the bundle leaves.
    reads.clear()
    store.forget_digests(project, "job")
    store._write("MATCH (n:Pin {project_id: $p, job_id: 'job'}) WITH n LIMIT 1 DETACH DELETE n", p=project)
    store.load(bundle_to_graph(changed))
    assert len(reads) == len(JOB_LABELS) + len(bundle_to_graph(changed).rels)
    reference = unique("p")
    store.load(bundle_to_graph(bundle_as(reference).model_copy(update={"components": comps})))
    assert store.counts(project, "job") == store.counts(reference, "job")


def test_a_load_in_concurrent_batches_stores_what_one_batch_stores(store):
    """Small batches (a first load's two in flight on Neo4j): a first load, then a re-load of
    another version (parts, pins, nets and memberships gone, every value changed) leave exactly
    the graph a load of that version in one batch a statement leaves."""
    project = unique("p")
    store.load(bundle_to_graph(make_bundle(project, "job", components=120, nets=60)), batch_size=37)
    second = make_bundle(project, "job", components=80, nets=50)
    second = second.model_copy(update={"components": [c.model_copy(update={"value": "v2"}) for c in second.components]})
    store.load(bundle_to_graph(second), batch_size=37)
    batched = store.dump(project, "job")

    store._write("MATCH (n {project_id: $p, job_id: 'job'}) DETACH DELETE n", p=project)
    store.forget_digests(project, "job")
    store.load(bundle_to_graph(second), batch_size=5000)
    assert len(batched["nodes"]) == 80 + 4 * 80 + 50 and batched == store.dump(project, "job")


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


def test_connectivity_queries(store):
    project = unique("p")
    store.load(bundle_to_graph(bundle_as(project)))
    assert store.reach(project, "job", "R12") == [
        {"component_id": "C5", "type": "capacitor", "hops": 1},
        {"component_id": "U1", "type": "ecu", "hops": 1},
    ]
    assert store.reach(project, "job", "R12", pin="1") == []  # IGN has no other member
    two = {r["component_id"]: r["hops"] for r in store.reach(project, "job", "R12", hops=2)}
    assert two["C5"] == 1 and two["J1"] == 2 and two["Q1"] == 2 and "R12" not in two
    path = store.shortest_path(project, "job", "F21", "M1")
    # K3's pins 30 and 86 are both on VBAT_SW: either is a shortest path, the rest is fixed.
    names = [step["name"] for step in path]
    assert names[:3] + names[4:] == ["F21", "2", "VBAT_SW", "K3", "87", "FUEL_PUMP_PWR", "+", "M1"]
    assert names[3] in ("30", "86")
    assert [step["label"] for step in path[:3]] == ["Component", "Pin", "Net"]
    assert len(store.shortest_path(project, "job", "F21", "J1")) == 13  # ties may route differently
    assert store.shortest_path(project, "job", "F21", "NOPE") == []
    summary = store.net_summary(project)
    assert summary[0] == {"job_id": "job", "net": "GND", "voltage_level": "0V", "is_bus": False, "fan_out": 5}
    assert {r["net"]: r["is_bus"] for r in summary if r["is_bus"]} == {"CANH": True, "CANL": True}
    with pytest.raises(ValueError, match="hops"):
        store.reach(project, "job", "R12", hops=0)


def test_two_partitions_loaded_at_the_same_time_both_land(store):
    project = unique("p")  # the same project: both loads MERGE the one Vehicle node
    payloads = [bundle_to_graph(bundle_as(project, f"job{i}")) for i in range(2)]
    errors = []

    def load(payload):
        try:
            store.load(payload, batch_size=5)  # small batches: many interleaved transactions
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.counts(project, "job0") == store.counts(project, "job1")
    assert store.counts(project, "job0")["ON_NET"] == payloads[0].counts()["ON_NET"]
    assert store.read("MATCH (v:Vehicle {project_id: $p}) RETURN count(v) AS c", p=project) == [{"c": 1}]
