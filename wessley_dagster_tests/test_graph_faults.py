"""Fault: the graph server is killed in the middle of a first load, then of a re-load of a changed
bundle. Each time the step fails clearly after its retries; once the server is back, re-running
the partition gives exactly the bundle's graph, with nothing stale from the interrupted load."""

import threading
import time

from dagster import materialize
from neo4j import GraphDatabase

from wessley_dagster.assets import bundle, extraction, indexes
from wessley_dagster.domain.graph_model import bundle_to_graph
from wessley_dagster.io_managers.graph import GraphIOManager
from wessley_dagster.resources.graph import Neo4jResource
from wessley_dagster.stores.graph import content_hash
from wessley_dagster_tests.conftest import error_chain, resources_for, unique, upload
from wessley_dagster_tests.servers import Neo4jServer
from wessley_dagster_tests.synthetic import make_bundle

ASSETS = [bundle.bundle, extraction.text_spans, extraction.components, extraction.netlist, indexes.schematic_graph]


def assert_graph_holds(store, bundle) -> None:
    """The job's graph has exactly the bundle's count of every label and relationship type."""
    expected = bundle_to_graph(bundle).counts()
    expected.pop("Vehicle")  # shared by the project's jobs
    counts = store.counts(bundle.manifest.project_id, bundle.manifest.job_id)
    assert {k: counts.get(k, 0) for k in expected} == expected


def test_server_killed_mid_load_then_rerun_gives_the_full_graph(env, instance, tmp_path, monkeypatch):
    server = Neo4jServer(tmp_path / "neo4j").start()
    try:
        project, job = unique("fault"), "big"
        big = make_bundle(project, job, components=3000, pins_per=8)  # ~0.5 s of pins after the components
        key = upload(env, instance, big)
        monkeypatch.setenv("NEO4J_PASSWORD", server.auth[1])
        resources = resources_for({**env, "NEO4J_URI": server.uri, "NEO4J_PASSWORD": server.auth[1]})
        # Short driver-level retries, so the step's own RetryPolicy (3 retries) is what we watch.
        resources["graph"] = Neo4jResource(uri=server.uri, user="neo4j", password="x", max_transaction_retry_time_s=1)
        resources["graph_io_manager"] = GraphIOManager(graph=resources["graph"])

        def materialize_partition():
            return materialize(ASSETS, partition_key=key, resources=resources, instance=instance, raise_on_error=False)

        def kill_mid_load(condition: str, **params):
            """Materialize in the background and kill the server once `condition` counts nodes."""
            outcome = {}
            runner = threading.Thread(target=lambda: outcome.setdefault("result", materialize_partition()))
            runner.start()
            with GraphDatabase.driver(server.uri, auth=server.auth) as driver:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    records, _, _ = driver.execute_query(condition, p=project, **params)
                    if records[0]["c"] > 0:
                        break
                    time.sleep(0.05)
            server.kill()
            runner.join(180)
            return outcome["result"]

        # Mid first load: components are in, pins and relationships are not.
        result = kill_mid_load("MATCH (c:Component {project_id: $p}) RETURN count(c) AS c")
        assert not result.success
        graph_events = [e for e in result.all_events if e.step_key == "schematic_graph"]
        assert sum(e.event_type_value == "STEP_UP_FOR_RETRY" for e in graph_events) == 3
        chain = error_chain(next(e for e in graph_events if e.is_step_failure))
        assert any(line.startswith("ServiceUnavailable: ") and "Connection refused" in line for line in chain), chain
        # Each retry says why in the run's log, not only that the step asked for one.
        logged = [e.user_message for e in instance.all_logs(result.run_id) if e.dagster_event is None]
        assert sum(m.startswith("schematic_graph: transient ServiceUnavailable: ") for m in logged) >= 3, logged

        server.start()  # same data folder: whatever the killed load left is still there
        assert materialize_partition().success
        with resources["graph"].store.driver:
            assert_graph_holds(resources["graph"].store, big)
            first = resources["graph"].store.dump(project, job)
            assert materialize_partition().success
            assert resources["graph"].store.dump(project, job) == first
            (old_load,) = {
                r["l"]
                for r in resources["graph"].store.read(
                    "MATCH (c:Component {project_id: $p}) RETURN DISTINCT c.load_id AS l", p=project
                )
            }

        # Mid re-load of a changed bundle (a sixth of the parts gone, every other one's value
        # changed): killed once the new load has rewritten some components, before the parts
        # gone are removed.
        smaller = make_bundle(project, job, components=2500, pins_per=8)
        smaller.components = [c.model_copy(update={"value": f"{c.value}-b"}) for c in smaller.components]
        upload(env, instance, smaller)  # the same partition, its files replaced
        resources["graph"].reset()
        result = kill_mid_load(
            "MATCH (c:Component {project_id: $p}) WHERE c.load_id <> $old RETURN count(c) AS c", old=old_load
        )
        assert not result.success
        server.start()
        resources["graph"].reset()
        assert materialize_partition().success
        with resources["graph"].store.driver:
            assert_graph_holds(resources["graph"].store, smaller)
            # Exactly the bundle's nodes, each holding what the bundle says: nothing stale, nothing old.
            payload = bundle_to_graph(smaller)
            stored = resources["graph"].store.read(
                "MATCH (n {project_id: $p, job_id: $j}) RETURN n.key AS k, n.hash AS h", p=project, j=job
            )
            expected = {
                row["key"]: content_hash(row)
                for label, rows in payload.nodes.items()
                if label != "Vehicle"
                for row in rows
            }
            assert {r["k"]: r["h"] for r in stored} == expected
    finally:
        server.stop()
