"""Every graph query the pipeline, its checks and the read API's graph routes send is anchored on
an indexed key: on a real Neo4j, each one recorded during an ingestion and the queries is
EXPLAINed, and a plan that scans a whole label or every node fails the test."""

from __future__ import annotations

from typing import Any

from wessley_dagster.search import expand_hits, semantic_search
from wessley_dagster.stores.graph import GraphStore
from wessley_dagster_tests.conftest import SYNTHETIC, add_partitions, resources_for, stage_bundle, unique, uploads_dir
from wessley_dagster_tests.test_pipeline import run

SCANS = ("AllNodesScan", "NodeByLabelScan", "DirectedAllRelationshipsScan", "UndirectedAllRelationshipsScan")


def operators(plan: Any) -> list[str]:
    return [plan["operatorType"], *(op for child in plan.get("children", []) for op in operators(child))]


def test_no_graph_query_of_the_pipeline_checks_or_api_scans_a_label(env, neo4j, instance, monkeypatch):
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j.auth[1])
    neo4j_env = {**env, "NEO4J_URI": neo4j.uri, "NEO4J_USER": neo4j.auth[0], "NEO4J_PASSWORD": neo4j.auth[1]}
    sent: dict[str, dict[str, Any]] = {}
    for method in ("read", "_write"):
        original = getattr(GraphStore, method)

        def recording(self: GraphStore, query: str, _original: Any = original, **params: Any) -> Any:
            sent.setdefault(query, params)
            return _original(self, query, **params)

        monkeypatch.setattr(GraphStore, method, recording)

    project = unique("plans")
    resources = resources_for(neo4j_env)
    for job in ("j1", "j2"):  # the second load of a job takes the MERGE and stale-removal path
        key = stage_bundle(SYNTHETIC, uploads_dir(env), project, job)
        add_partitions(instance, key)
        assert run(key, resources, instance).success
    assert run(f"{project}__j1", resources, instance).success
    graph = resources["graph"].store
    graph.net_members(project, "FUEL_PUMP_PWR")
    graph.net_members(project, "FUEL_PUMP_PWR", "j1")
    graph.reach(project, "j1", "K3", hops=2)
    graph.reach(project, "j1", "K3", pin="87")
    graph.shortest_path(project, "j1", "K3", "M1")
    graph.net_summary(project, "j1")
    hits = semantic_search(resources["vectors"].store, resources["embeddings_model"].embedder(), project, "fuel pump")
    expand_hits(graph, hits)

    scanned = {}
    with graph.driver.session(database=graph.database) as session:
        for query, params in sent.items():
            if query.startswith(("CREATE CONSTRAINT", "CREATE INDEX")):
                continue
            plan = session.run("EXPLAIN " + query, params).consume().plan
            found = [op for op in operators(plan) if op.split("@")[0] in SCANS]
            if found:
                scanned[query] = found
    assert len(sent) > 15  # the loads, stale removal, the checks' reads and the queries were all seen
    assert scanned == {}
