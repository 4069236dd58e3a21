"""Graph load throughput: our batched `UNWIND … MERGE` loader into Neo4j 5.26 and ArcadeDB, first
load, re-load of the unchanged bundle and of one with 1 % of its parts changed, against a naive
loader (one MERGE per transaction, as many scripts do it) on a tenth of the data, and against the
same re-load written whole (every element merged again, then other loads' elements removed, as
before content hashes), in the same run.

Data: 10,000 components, 40,000 pins, 5,000 nets, 40,000 pin-net edges (plus the 40,000
component-pin and 10,000 vehicle-component relationships and the vehicle: 145,001 elements).
Run from the repository root: `make bench-graph` (= `.venv/bin/python -m bench.graph_load`); the last line
is `result: {json}`.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from neo4j import GraphDatabase

from wessley_dagster.domain.bundle import Bundle
from wessley_dagster.domain.graph_model import JOB_LABELS, GraphPayload, bundle_to_graph
from wessley_dagster.stores.arcadedb import DATABASE, USER, ArcadeDBServer
from wessley_dagster.stores.graph import GraphStore
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
    one_percent = timed(lambda: store.load(bundle_to_graph(changed_share(bundle, 0.01))))
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
        neo4j = Neo4jServer(Path(tmp) / "neo4j", heap="2g").start()
        try:
            with GraphDatabase.driver(neo4j.uri, auth=neo4j.auth) as driver:
                results["neo4j"] = measure("neo4j 5.26", GraphStore(driver, neo4j.database))
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
