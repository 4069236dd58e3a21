"""Graph load throughput: our batched `UNWIND … MERGE` loader into Neo4j 5.26 and ArcadeDB, first
load and idempotent re-load, against a naive loader (one MERGE per transaction, as many scripts
do it) on a tenth of the data, in the same run.

Data: 10,000 components, 40,000 pins, 5,000 nets, 40,000 pin-net edges (plus the 40,000
component-pin and 10,000 vehicle-component relationships and the vehicle: 145,001 elements).
Run from the repository root: `make bench-graph` (= `.venv/bin/python -m bench.graph_load`); the last line
is `result: {json}`.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from neo4j import GraphDatabase

from wessley_dagster.domain.graph_model import GraphPayload, bundle_to_graph
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
    full = bundle_to_graph(make_bundle("bench-batched", "full", components=10_000, nets=5_000))
    tenth = bundle_to_graph(make_bundle("bench-naive", "tenth", components=1_000, nets=500))
    first = timed(lambda: store.load(full))
    reload = timed(lambda: store.load(full))
    naive = timed(lambda: naive_load(store, tenth))
    result = {
        "first_load_elements_per_s": round(elements(full) / first),
        "reload_elements_per_s": round(elements(full) / reload),
        "naive_elements_per_s": round(elements(tenth) / naive),
    }
    result["first_load_vs_naive"] = round(result["first_load_elements_per_s"] / result["naive_elements_per_s"], 1)
    print(
        f"{name}: {elements(full)} elements, first load {first:.1f}s, re-load {reload:.1f}s; "
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
