"""Graph load throughput: our batched `UNWIND … MERGE` loader into Neo4j 5.26 and ArcadeDB, first
load, re-load of the unchanged bundle and of one with 1 % of its parts changed, against a naive
loader (one MERGE per transaction, as many scripts do it) on a tenth of the data, and against the
same re-load written whole (every element merged again, then other loads' elements removed, as
before content hashes), in the same run. On Neo4j, with APOC Core loaded into the launcher, the same
graph is also written by the writers a user would otherwise pick: neo4j-graphrag's `Neo4jWriter`
and langchain-neo4j's `Neo4jGraph.add_graph_documents`, on an emptied database, best of three
rounds with the writers' order rotated, through the same driver (its Rust extension installed for
all). Each writer's stored nodes and relationships are counted after each load; one that
duplicates or drops elements is reported, not ranked.

Data: 10,000 components, 40,000 pins, 5,000 nets, 40,000 pin-net edges (plus the 40,000
component-pin and 10,000 vehicle-component relationships and the vehicle: 145,001 elements).
Run from the repository root: `make bench-graph` (= `.venv/bin/python -m bench.graph_load`); the last line
is `result: {json}`.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from neo4j import GraphDatabase

from wessley_dagster.domain.bundle import Bundle
from wessley_dagster.domain.graph_model import JOB_LABELS, GraphPayload, bundle_to_graph
from wessley_dagster.settings import Settings
from wessley_dagster.stores.arcadedb import DATABASE, USER, ArcadeDBServer
from wessley_dagster.stores.graph import DIGEST, GraphStore
from wessley_dagster_tests.servers import Neo4jServer, free_port
from wessley_dagster_tests.synthetic import make_bundle


def elements(payload: GraphPayload) -> int:
    return sum(payload.counts().values())


def naive_load(store: GraphStore, payload: GraphPayload) -> None:
    """One element per managed transaction."""
    for label, rows in payload.nodes.items():
        for row in rows:
            store._write(f"MERGE (n:{label} {{key: $key}}) SET n += $props", key=row["key"], props=row["props"])
    for group in payload.all_rels():
        for start, end in group.pairs:
            store._write(
                f"MATCH (a:{group.start_label} {{key: $s}}) MATCH (b:{group.end_label} {{key: $e}}) "
                f"MERGE (a)-[:{group.type}]->(b)",
                s=start,
                e=end,
            )


def full_rewrite_load(store: GraphStore, payload: GraphPayload) -> None:
    """A re-load without content hashes, as this project's did before them: every element merged
    again in the same batches under a new load id, then the job's elements of other loads removed."""
    load_id = uuid.uuid4().hex
    # A writer of the job that keeps no digests must drop the loader's (as the loader does before
    # its first write): the next load then looks at every section.
    store.forget_digests(payload.project_id, payload.job_id)
    for label, rows in payload.nodes.items():  # rows without a hash: MERGE clears the stored one
        store._write_nodes(payload, label, rows, load_id, create=False, batch_size=5000)
    for group in payload.rels:
        pairs = [{"s": s, "e": e} for s, e in group.pairs]
        store._write_rels(group, pairs, load_id, create=False, batch_size=5000)
    scope = {"p": payload.project_id, "j": payload.job_id, "l": load_id}
    for group in payload.all_rels():
        store._write(
            f"MATCH ()-[r:{group.type}]->(b:{group.end_label} {{project_id: $p, job_id: $j}}) "
            "WHERE r.load_id <> $l DELETE r",
            **scope,
        )
    for label in JOB_LABELS:
        store._write(f"MATCH (n:{label} {{project_id: $p, job_id: $j}}) WHERE n.load_id <> $l DETACH DELETE n", **scope)


def stored(driver: Any) -> tuple[int, int]:
    """(nodes, relationships) in the database, but for this project's digest of a load."""
    nodes = driver.execute_query(f"MATCH (n) WHERE NOT n:{DIGEST} RETURN count(n) AS c").records[0]["c"]
    return nodes, driver.execute_query("MATCH ()-[r]->() RETURN count(r) AS c").records[0]["c"]


def emptied(driver: Any) -> None:
    with driver.session() as session:  # CALL … IN TRANSACTIONS needs an implicit transaction
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


def node_id(label: str, key: str) -> str:
    return f"{label}:{key}"


def peer_nodes(payload: GraphPayload) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Each node as a peer takes it: (id unique across labels, label, properties), a part's own
    `id` property renamed `ref`, as `id` is the peers' identity property."""
    for label, rows in payload.nodes.items():
        for row in rows:
            props = {("ref" if name == "id" else name): value for name, value in row["props"].items()}
            yield node_id(label, row["key"]), label, props


def peer_rels(payload: GraphPayload) -> Iterator[tuple[str, str, str, str, str]]:
    """Each relationship as a peer takes it: (start id, start label, end id, end label, type)."""
    for group in payload.all_rels():
        for start, end in group.pairs:
            yield (
                node_id(group.start_label, start),
                group.start_label,
                node_id(group.end_label, end),
                group.end_label,
                group.type,
            )


def graphrag_writer(driver: Any) -> Any:
    """neo4j-graphrag's `Neo4jWriter`; the payload is made its `Neo4jGraph` before the clock starts."""
    from neo4j_graphrag.components.kg_writer import Neo4jWriter
    from neo4j_graphrag.components.types import Neo4jGraph, Neo4jNode, Neo4jRelationship

    writer = Neo4jWriter(driver, batch_size=1000)

    def prepared(payload: GraphPayload) -> Any:
        nodes = [Neo4jNode(id=i, label=label, properties=props) for i, label, props in peer_nodes(payload)]
        rels = [Neo4jRelationship(start_node_id=s, end_node_id=e, type=t) for s, _, e, _, t in peer_rels(payload)]
        graph = Neo4jGraph(nodes=nodes, relationships=rels)

        def write() -> None:
            result = asyncio.run(writer.run(graph))
            if result.status != "SUCCESS":
                raise RuntimeError(f"neo4j-graphrag: {result.metadata}")

        return write

    return prepared


def langchain_writer(uri: str, auth: tuple[str, str]) -> Any:
    """langchain-neo4j's `add_graph_documents` on its indexed fast path (`baseEntityLabel`), the
    graph given as documents of 5,000 nodes or relationships (one would be one transaction)."""
    from langchain_core.documents import Document
    from langchain_neo4j import Neo4jGraph
    from langchain_neo4j.graphs.graph_document import GraphDocument, Node, Relationship

    graph = Neo4jGraph(url=uri, username=auth[0], password=auth[1], refresh_schema=False)
    source = Document(page_content="bench")

    def prepared(payload: GraphPayload) -> Any:
        nodes = [Node(id=i, type=label, properties=props) for i, label, props in peer_nodes(payload)]
        rels = [
            Relationship(source=Node(id=s, type=sl), target=Node(id=e, type=el), type=t)
            for s, sl, e, el, t in peer_rels(payload)
        ]
        step = 5000
        documents = [
            GraphDocument(nodes=nodes[i : i + step], relationships=[], source=source)
            for i in range(0, len(nodes), step)
        ]
        documents += [
            GraphDocument(nodes=[], relationships=rels[i : i + step], source=source) for i in range(0, len(rels), step)
        ]
        return lambda: graph.add_graph_documents(documents, baseEntityLabel=True)

    return prepared


def against_peers(server: Neo4jServer, store: GraphStore, driver: Any, rounds: int = 3) -> dict[str, Any]:
    """Each writer on an emptied database: first load, then re-load, counted after each load;
    the best of `rounds` rounds, the writers' order rotated each round (after a warm-up each).
    A writer is given its input in its own types before the clock starts."""
    full = bundle_to_graph(make_bundle("bench-peers", "full", components=10_000, nets=5_000))
    warm = bundle_to_graph(make_bundle("bench-peers", "warm", components=1_000, nets=500))
    expected = (sum(len(r) for r in full.nodes.values()), sum(len(g.pairs) for g in full.all_rels()))
    writers = {
        "wessley": lambda payload: lambda: store.load(payload),
        "neo4j-graphrag": graphrag_writer(driver),
        "langchain-neo4j": langchain_writer(server.uri, server.auth),
    }
    writes = {}
    for name, prepared in writers.items():
        emptied(driver)
        prepared(warm)()
        writes[name] = prepared(full)
    runs: dict[str, dict[str, Any]] = {name: {"first": [], "reload": [], "stored": set()} for name in writers}
    names = list(writers)
    for turn in range(rounds):
        for name in names[turn % len(names) :] + names[: turn % len(names)]:
            emptied(driver)
            runs[name]["first"].append(timed(writes[name]))
            runs[name]["stored"].add(("first", stored(driver)))
            runs[name]["reload"].append(timed(writes[name]))
            runs[name]["stored"].add(("reload", stored(driver)))
            print(f"round {turn + 1}, {name}: {runs[name]}", flush=True)
    emptied(driver)
    figures = {name: figure(full, r, expected) for name, r in runs.items()}
    return {"writers": figures, "rounds": rounds, **ratios(figures)}


def figure(full: GraphPayload, runs: dict[str, Any], expected: tuple[int, int]) -> dict[str, Any]:
    """A writer's best first load and re-load, and whether every round stored the graph exactly."""
    after = {phase: {counts for p, counts in runs["stored"] if p == phase} for phase in ("first", "reload")}
    return {
        "first_load_elements_per_s": round(elements(full) / min(runs["first"])),
        "reload_elements_per_s": round(elements(full) / min(runs["reload"])),
        "exact_after_first": after["first"] == {expected},
        "exact_after_reload": after["reload"] == {expected},
        "stored_after_reload": sorted(after["reload"]),
    }


def ratios(figures: dict[str, Any]) -> dict[str, float | None]:
    """Ours over the fastest peer that stored the graph exactly, first load and re-load."""
    out: dict[str, float | None] = {}
    for phase, exact in (("first_load", "exact_after_first"), ("reload", "exact_after_reload")):
        peers = [f[f"{phase}_elements_per_s"] for n, f in figures.items() if n != "wessley" and f[exact]]
        ours = figures["wessley"][f"{phase}_elements_per_s"]
        out[f"{phase}_vs_fastest_peer"] = round(ours / max(peers), 2) if peers else None
    return out


def changed_share(bundle: Bundle, share: float) -> Bundle:
    """The bundle with `share` of its components given another value."""
    step = round(1 / share)
    parts = [
        c.model_copy(update={"value": f"{c.value}-v2"}) if i % step == 0 else c for i, c in enumerate(bundle.components)
    ]
    return bundle.model_copy(update={"components": parts})


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(name: str, store: GraphStore) -> dict[str, float]:
    store.ensure_schema()
    # Warm-up (JIT, query plans) for both loaders, on a project the measured loads do not touch.
    warm = bundle_to_graph(make_bundle("bench-warm", "warm", components=2_000, nets=1_000))
    store.load(warm)
    store.load(warm)
    naive_load(store, bundle_to_graph(make_bundle("bench-warm", "naive", components=100, nets=50)))
    bundle = make_bundle("bench-batched", "full", components=10_000, nets=5_000)
    full = bundle_to_graph(bundle)
    tenth = bundle_to_graph(make_bundle("bench-naive", "tenth", components=1_000, nets=500))
    first = timed(lambda: store.load(full))
    reload = timed(lambda: store.load(full))
    rewrite = timed(lambda: full_rewrite_load(store, full))  # the peer: the same re-load written whole
    store.load(full)  # hashes back on every node
    changed = bundle_to_graph(changed_share(bundle, 0.01))
    one_percent = timed(lambda: store.load(changed))
    naive = timed(lambda: naive_load(store, tenth))
    result = {
        "first_load_elements_per_s": round(elements(full) / first),
        "reload_elements_per_s": round(elements(full) / reload),
        "naive_elements_per_s": round(elements(tenth) / naive),
        "reload_s": round(reload, 2),
        "full_rewrite_reload_s": round(rewrite, 2),
        "changed_1pct_reload_s": round(one_percent, 2),
    }
    result["first_load_vs_naive"] = round(result["first_load_elements_per_s"] / result["naive_elements_per_s"], 1)
    result["reload_vs_full_rewrite"] = round(rewrite / reload, 1)
    result["changed_1pct_share_of_first_load"] = round(one_percent / first, 3)
    print(
        f"{name}: {elements(full)} elements, first load {first:.1f}s, re-load {reload:.2f}s "
        f"(written whole {rewrite:.1f}s), 1 % changed {one_percent:.2f}s; "
        f"naive {elements(tenth)} elements in {naive:.1f}s -> {result}"
    )
    return result


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        neo4j = Neo4jServer(Path(tmp) / "neo4j", heap="2g", apoc=True).start()
        try:
            with GraphDatabase.driver(neo4j.uri, auth=neo4j.auth) as driver:
                # As deployed: NEO4J_WRITERS' default batches in flight (ArcadeDB writes one at a time).
                store = GraphStore(driver, neo4j.database, writers=Settings.model_fields["neo4j_writers"].default)
                results["neo4j"] = measure("neo4j 5.26", store)
                results["neo4j_peers"] = against_peers(neo4j, store, driver)
                for key in ("first_load_vs_fastest_peer", "reload_vs_fastest_peer"):
                    results[key] = results["neo4j_peers"][key]
        finally:
            neo4j.stop()
        arcade = ArcadeDBServer(Path(tmp) / "arcadedb", bolt_port=free_port(), http_port=free_port(), heap="2g")
        arcade.ensure_running()
        try:
            with GraphDatabase.driver(arcade.uri, auth=(USER, arcade.password)) as driver:
                results["arcadedb"] = measure("arcadedb 26.10", GraphStore(driver, DATABASE))
        finally:
            arcade.stop()
    print("result: " + json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
