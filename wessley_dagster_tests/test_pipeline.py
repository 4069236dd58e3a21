"""The whole asset graph through `materialize()` on the embedded defaults (a real ArcadeDB server,
Qdrant Edge, a local artifacts folder, SQLite), for two partitions."""

import io
import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from dagster import AssetKey, AssetsDefinition, AssetSelection, asset, materialize

from wessley_dagster import cli
from wessley_dagster.assets import bundle, chunks, embeddings, exports, extraction, indexes, job_record
from wessley_dagster.assets.embeddings import Embeddings
from wessley_dagster.checks import ALL_CHECKS, vector_count_matches_chunks
from wessley_dagster.domain.bundle import (
    Component,
    Netlist,
    TextSpan,
    ValidatedUpload,
    read_bundle,
    split_partition_key,
)
from wessley_dagster.domain.chunking import Chunk, build_chunks, dense_chunks
from wessley_dagster.domain.exports import ExportFile
from wessley_dagster.domain.graph_model import bundle_to_graph
from wessley_dagster.partitions import ingestion_partitions
from wessley_dagster.resources.metadata import SupabaseRestMetadataResource
from wessley_dagster.search import semantic_search
from wessley_dagster_tests.conftest import (
    SPEEDUINO,
    SYNTHETIC,
    add_partitions,
    record_failure,
    resources_for,
    stage_bundle,
    unique,
    uploads_dir,
)
from wessley_dagster_tests.fake_postgrest import FakePostgrest

ASSETS = [
    a
    for module in (bundle, extraction, chunks, embeddings, indexes, exports, job_record)
    for a in vars(module).values()
    if isinstance(a, AssetsDefinition)
]


def run(key, resources, instance, raise_on_error=True):
    return materialize(
        [*ASSETS, *ALL_CHECKS], partition_key=key, resources=resources, instance=instance, raise_on_error=raise_on_error
    )


def check_results(result) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def state(resources, project_id, job_id):
    """Everything a partition left in the four backends."""
    vectors = resources["vectors"].store
    meta = resources["metadata"].store
    objects = resources["storage"].object_store().list(f"{project_id}/{job_id}/")
    return {
        "graph": resources["graph"].store.dump(project_id, job_id),
        "points": vectors.count(project_id, job_id),
        "artifacts": sorted((o.key, o.size) for o in objects),
        "artifact_rows": [(a["name"], a["size_bytes"]) for a in meta.artifacts(project_id, job_id)],
        "job": {k: v for k, v in (meta.job(project_id, job_id) or {}).items() if k in ("status", "stage", "progress")},
    }


def load(folder: Path):
    return read_bundle(lambda n: (folder / n).read_bytes() if (folder / n).exists() else None)


def test_two_partitions_end_to_end_and_idempotent(graph_env, instance, monkeypatch, capsys):
    env, resources = graph_env, resources_for(graph_env)
    project = unique("proj")
    keys = {
        stage_bundle(SYNTHETIC, uploads_dir(env), project, "roadster"): SYNTHETIC,
        stage_bundle(SPEEDUINO, uploads_dir(env), project, "speeduino"): SPEEDUINO,
    }
    add_partitions(instance, *keys)
    first = {}
    for key, source in keys.items():
        result = run(key, resources, instance)
        assert result.success
        assert check_results(result) == dict.fromkeys(
            [
                "graph_counts_match_bundle",
                "connections_resolve",
                "no_orphan_pins",
                "vector_count_matches_chunks",
                "vector_dimension_matches_collection",
            ],
            True,
        )
        job = key.split("__")[1]
        expected = load(source)
        s = state(resources, project, job)
        graph_counts = resources["graph"].store.counts(project, job)
        payload_counts = bundle_to_graph(expected).counts()
        assert graph_counts["Component"] == len(expected.components) == payload_counts["Component"]
        assert graph_counts["Net"] == len(expected.netlist.nets)
        assert graph_counts["ON_NET"] == payload_counts["ON_NET"]
        metrics = json.loads(resources["metadata"].store.job(project, job)["metrics"])  # what the loads recorded
        nonzero = {k: v for k, v in graph_counts.items() if v}
        assert ({k: v for k, v in metrics["graph"].items() if v}, metrics["vector_points"]) == (nonzero, s["points"])
        assert s["points"] == len(build_chunks(expected))
        names = {k.split("/", 2)[2] for k, _ in s["artifacts"]}
        assert names == {
            "bundle.json",
            "text_spans.ndjson",
            "components.ndjson",
            "netlist.json",
            "chunks.ndjson",
            "embeddings.json",
            "embeddings.f32",
            "exports/graph.graphml",
        }
        assert sorted(s["artifact_rows"]) == sorted((k.split("/", 2)[2], size) for k, size in s["artifacts"])
        assert s["job"] == {"status": "succeeded", "stage": "done", "progress": 100}
        first[key] = s

    for key in keys:  # re-materialize: exactly the same stored state
        assert run(key, resources, instance).success
        assert state(resources, project, key.split("__")[1]) == first[key]

    hits = semantic_search(
        resources["vectors"].store,
        resources["embeddings_model"].embedder(),
        project,
        "K3 relay",
        limit=3,
        chunk_types=["component"],
    )
    assert hits[0].payload["component_id"] == "K3" and hits[0].payload["page"] == 1

    # Graph-expanded answers, in one call: a part's pins, their nets and the parts on them; a net's pins.
    graph = resources["graph"].store
    embedder = resources["embeddings_model"].embedder()
    (k3,) = semantic_search(
        resources["vectors"].store,
        embedder,
        project,
        "K3 relay",
        limit=1,
        chunk_types=["component"],
        expand_graph=True,
        graph=graph,
    )
    pins = {p["pin"]: p for p in k3.payload["graph"]["pins"]}
    assert pins["30"]["net"] == "VBAT_SW"
    assert {("F21", "2"), ("D2", "K")} <= {(o["component_id"], o["pin"]) for o in pins["30"]["parts"]}
    (net,) = semantic_search(
        resources["vectors"].store,
        embedder,
        project,
        "VBAT_SW switched battery",
        limit=1,
        chunk_types=["net"],
        mode="sparse",
        expand_graph=True,
        graph=graph,
    )
    assert net.payload["net"] == "VBAT_SW"
    assert {(m["component_id"], m["pin"]) for m in net.payload["graph"]["members"]} == {
        ("F21", "2"),
        ("K3", "30"),
        ("K3", "86"),
        ("D2", "K"),
    }

    # The same from the command line, one JSON object per hit.
    for name, value in graph_env.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    assert (
        cli.main(
            [
                "search",
                "which relay switches the fuel pump",
                "--project",
                project,
                "--json",
                "--mode",
                "sparse",
                "--limit",
                "2",
                "--graph",
            ]
        )
        == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2 and lines[0]["component_id"] == "K3" and lines[0]["chunk_type"] == "component"
    assert {"score", "page", "text", "graph"} <= set(lines[0])
    assert cli.main(["similar", "R12", "--project", project, "--json"]) == 0
    similar = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert similar and all(h["chunk_type"] == "component" and h["kind"] == "resistor" for h in similar)


@asset(partitions_def=ingestion_partitions)
def artifact_report(
    bundle: ValidatedUpload,
    text_spans: list[TextSpan],
    components: list[Component],
    netlist: Netlist,
    chunks: list[Chunk],
    embeddings: Embeddings,
    exports: list[ExportFile],
) -> dict:
    """A downstream asset reading every output the artifacts IO manager stores, as the types written."""
    return {
        "manifest": bundle.manifest.job_id,
        "spans": len(text_spans),
        "components": len(components),
        "nets": len(netlist.nets),
        "chunks": len(chunks),
        "vectors": embeddings.chunk_ids == [c.chunk_id for c in dense_chunks(chunks, embeddings.chunk_types)]
        and len(embeddings.vectors) == len(embeddings.chunk_ids) > 0,
        "exports": {f.name: f.content_type for f in exports},
        "graphml": nx.read_graphml(io.BytesIO(next(f.data for f in exports if f.name == "graph.graphml"))).order(),
    }


def test_a_downstream_asset_reads_every_artifact_and_the_ui_shows_table_metadata(graph_env, instance):
    env, resources = graph_env, resources_for(graph_env)
    key = stage_bundle(SYNTHETIC, uploads_dir(env), unique("proj"), "roadster")
    add_partitions(instance, key)
    run(key, resources, instance)
    result = materialize(
        [*ASSETS, artifact_report],
        selection=[artifact_report],
        partition_key=key,
        resources=resources,
        instance=instance,
    )
    # What the UI shows on the table assets: row count, column schema, a preview, where it is stored.
    components = instance.get_latest_materialization_event(AssetKey("components")).asset_materialization.metadata
    assert components["dagster/row_count"].value == 10
    columns = components["dagster/column_schema"].value.columns
    assert [c.name for c in columns][:4] == ["id", "type", "value", "page"]
    assert columns[0].description.startswith("reference designator") and all(c.description for c in columns)
    assert components["preview"].value.splitlines()[0].startswith("| id ") and "K3" in components["preview"].value
    assert components["components.ndjson bytes"].value > 0
    assert components["components.ndjson"].value.endswith("/components.ndjson")
    record = instance.get_latest_materialization_event(AssetKey("job_record")).asset_materialization.metadata
    # each metric its own number, which the asset's Plots tab charts across partitions
    assert (record["components"].value, record["nets"].value, record["vector_points"].value) == (10, 10, 24)
    assert record["graph/Component"].value == 10 and isinstance(record["artifact_bytes"].value, int)
    stored = resources["storage"].object_store().list(key.replace("__", "/") + "/")
    assert record["storage"].value["job"] == {"local": {"objects": len(stored), "bytes": sum(o.size for o in stored)}}
    assert result.output_for_node("artifact_report") == {
        "manifest": "roadster",
        "spans": 31,
        "components": 10,
        "nets": 10,
        "chunks": 24,
        "vectors": True,
        "exports": {"graph.graphml": "application/graphml+xml"},
        "graphml": 86,
    }
    # The connectivity queries of the read API, on what the run loaded.
    project, job = split_partition_key(key)
    graph = resources["graph"].store
    assert {
        "busiest": graph.net_summary(project, job)[0]["net"],
        "r12_reaches": [r["component_id"] for r in graph.reach(project, job, "R12")],
        "path": [s["name"] for s in graph.shortest_path(project, job, "R12", "C5")],
        "gnd": len(graph.net_members(project, "GND", job)),
    } == {"busiest": "GND", "r12_reaches": ["C5", "U1"], "path": ["R12", "2", "IGN_SENSE", "1", "C5"], "gnd": 5}
    assert resources["vectors"].store.count(project, job) == 24


def test_embeddings_are_cached_across_runs(env, resources, instance):
    key = stage_bundle(SYNTHETIC, uploads_dir(env), unique("proj"), "roadster")
    add_partitions(instance, key)
    run(key, resources, instance)
    again = run(key, resources, instance)
    materialization = again.asset_materializations_for_node("embeddings")[0]
    assert materialization.metadata["embedded"].value == 0
    # 24 chunks: the 20 components and nets have dense vectors, the 2 text windows and 2 pages not.
    assert (materialization.metadata["cached"].value, materialization.metadata["sparse_only"].value) == (20, 4)


def index_only(key, resources, instance):
    """The assets up to the vector index, without the graph, the exports and the checks."""
    wanted = {"bundle", "text_spans", "components", "netlist", "chunks", "embeddings", "vector_index"}
    assets = [a for a in ASSETS if a.key.path[-1] in wanted]
    return materialize(assets, partition_key=key, resources=resources, instance=instance)


def test_one_partition_embeds_in_batches_as_one_materialization(env, instance):
    """Three batch steps give the vectors one step gives, and the asset is materialized once."""
    project = unique("proj")
    key = stage_bundle(SYNTHETIC, uploads_dir(env), project, "roadster")
    add_partitions(instance, key)
    whole = index_only(key, resources_for(env), instance)
    # Another home, so that nothing comes from the first run's embedding cache.
    split_env = {**env, "WESSLEY_EMBED_BATCH_CHUNKS": "7", "WESSLEY_HOME": f"{env['WESSLEY_HOME']}-split"}
    stage_bundle(SYNTHETIC, uploads_dir(split_env), project, "roadster")
    split = index_only(key, resources_for(split_env), instance)
    steps = {e.step_key for e in split.all_events if e.event_type_value == "STEP_SUCCESS"}
    assert {s for s in steps if s.startswith("embeddings.embed_batch[")} == {
        f"embeddings.embed_batch[batch_{n}]" for n in range(3)
    }
    (made,) = split.asset_materializations_for_node("embeddings")
    assert (made.metadata["batches"].value, made.metadata["embedded"].value) == (3, 20)
    one, three = (r.output_for_node("embeddings") for r in (whole, split))
    assert one.chunk_ids == three.chunk_ids and np.array_equal(one.vectors, three.vectors)
    assert three.vectors.shape == (20, one.dimension)


def test_text_windows_are_sparse_only_unless_embedded(env, instance):
    """By default a text window is found by its words (BM25) and not by the dense side; with
    `text` in WESSLEY_DENSE_CHUNK_TYPES it is found by both."""
    project = unique("proj")
    key = stage_bundle(SYNTHETIC, uploads_dir(env), project, "roadster")
    add_partitions(instance, key)

    def found(settings: dict[str, str]) -> dict[str, int]:
        """How many text windows each side finds for the question, after indexing with `settings`."""
        resources = resources_for(settings)
        index_only(key, resources, instance)
        store, embedder = resources["vectors"].store, resources["embeddings_model"].embedder()
        hits = {
            mode: len(semantic_search(store, embedder, project, "fuel pump relay", chunk_types=["text"], mode=mode))
            for mode in ("sparse", "dense")
        }
        store.close()
        return hits

    default = found(env)
    assert default["sparse"] > 0 and default["dense"] == 0
    assert found({**env, "WESSLEY_DENSE_CHUNK_TYPES": "component,net,text"})["dense"] > 0


def test_bad_bundle_fails_clearly_and_writes_nothing(env, resources, instance):
    project = unique("proj")
    key = stage_bundle(SYNTHETIC, uploads_dir(env), project, "broken")
    spans = uploads_dir(env) / project / "broken" / "text_spans.ndjson"
    lines = spans.read_text().splitlines()
    lines[4] = lines[4].replace('"page": 1', '"page": "one"')
    spans.write_text("\n".join(lines) + "\n")
    add_partitions(instance, key)
    result = run(key, resources, instance, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.step_failure_data.error.message + str(failure.step_failure_data.user_failure_data.description)
    assert "text_spans.ndjson: line 5 $.page: Input should be a valid integer" in message
    assert state(resources, project, "broken") == {
        "graph": {"nodes": [], "relationships": []},
        "points": 0,
        "artifacts": [],
        "artifact_rows": [],
        "job": {},
    }
    assert resources["metadata"].store.jobs() == []


def test_a_failing_check_blocks_the_job_record_and_the_job_is_failed(env, resources, instance):
    project = unique("proj")
    key = stage_bundle(SYNTHETIC, uploads_dir(env), project, "odd-pin")
    netlist = uploads_dir(env) / project / "odd-pin" / "netlist.json"
    netlist.write_text(netlist.read_text().replace('"pin": "87"', '"pin": "88"'))
    add_partitions(instance, key)
    result = run(key, resources, instance, raise_on_error=False)
    checks = check_results(result)
    assert checks["connections_resolve"] is False
    assert all(passed for name, passed in checks.items() if name != "connections_resolve")
    evaluation = next(e for e in result.get_asset_check_evaluations() if e.check_name == "connections_resolve")
    assert evaluation.metadata["undeclared_pins"].value == ["net 'FUEL_PUMP_PWR': K3 has no pin '88'"]
    assert not result.success and not result.asset_materializations_for_node("job_record")
    assert resources["metadata"].store.job(project, "odd-pin")["status"] != "succeeded"

    record_failure(result, instance, resources["metadata"])
    job = resources["metadata"].store.job(project, "odd-pin")
    assert job["status"] == "failed" and "connections_resolve" in job["error"]
    # The run was a plain materialize(), not ingest_job: the sensor watches every job's failures,
    # and says which stores had already been written.
    assert "completed before it: " in job["error"] and "vector_index" in job["error"].split("completed before it: ")[1]


def test_the_vector_count_check_compares_the_store_with_the_chunks_recorded(env, resources, instance):
    """The check counts the chunks from their materialization's metadata, not by loading them:
    points removed behind the pipeline's back fail it."""
    project = unique("proj")
    key = stage_bundle(SYNTHETIC, uploads_dir(env), project, "gone")
    add_partitions(instance, key)
    assert run(key, resources, instance).success
    resources["vectors"].store.replace_job(project, "gone", [], "another-load")  # the job's points swept
    # The check, and the job record it blocks (a check alone has no partitions to run for).
    result = materialize(
        [*ASSETS, *ALL_CHECKS],
        selection=AssetSelection.checks(vector_count_matches_chunks) | AssetSelection.assets("job_record"),
        partition_key=key,
        resources=resources,
        instance=instance,
        raise_on_error=False,
    )
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed and not result.asset_materializations_for_node("job_record")
    assert evaluation.metadata["points"].value == 0
    assert evaluation.metadata["chunks"].value == len(build_chunks(load(SYNTHETIC)))


@pytest.mark.parametrize("down", ["graph"])
def test_a_backend_that_is_down_fails_the_step_after_retries(env, instance, down, monkeypatch):
    from wessley_dagster_tests.conftest import free_port

    project = unique("proj")
    key = stage_bundle(SYNTHETIC, uploads_dir(env), project, "down")
    add_partitions(instance, key)
    monkeypatch.setenv("NEO4J_PASSWORD", "secret")
    resources = resources_for({**env, "NEO4J_URI": f"bolt://127.0.0.1:{free_port()}", "NEO4J_PASSWORD": "secret"})
    result = run(key, resources, instance, raise_on_error=False)
    assert not result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    failed_steps = {e.step_key for e in result.all_events if e.is_step_failure}
    assert "schematic_graph" in failed_steps
    assert len([r for r in retries if r.step_key == "schematic_graph"]) == 3


def test_artifacts_go_to_s3_when_a_bucket_is_configured(env, s3_env, instance, monkeypatch):
    """S3 (moto over HTTP) as the artifact store: every artifact lands in the bucket, and the
    registry records that S3 took it."""
    import boto3

    for name, value in s3_env.items():
        monkeypatch.setenv(name, value)
    resources = resources_for({**env, **s3_env})
    project = unique("proj")
    key = stage_bundle(SYNTHETIC, uploads_dir(env), project, "s3")
    add_partitions(instance, key)
    assert run(key, resources, instance).success
    client = boto3.client("s3", endpoint_url=s3_env["S3_ENDPOINT_URL"], region_name="us-east-1")
    listed = client.list_objects_v2(Bucket=s3_env["S3_BUCKET"], Prefix=f"artifacts/{project}/s3/")["Contents"]
    keys = {o["Key"].split("/", 3)[3] for o in listed}
    assert {"bundle.json", "chunks.ndjson", "text_spans.ndjson", "exports/graph.graphml"} <= keys
    rows = resources["metadata"].store.artifacts(project, "s3")
    assert {r["name"] for r in rows} == keys
    assert {r["backend"] for r in rows} == {"s3"}
    assert all(r["storage_url"].startswith(f"s3://{s3_env['S3_BUCKET']}/artifacts/{project}/s3/") for r in rows)
    assert not (Path(env["WESSLEY_HOME"]) / "artifacts").exists()  # no silent local copy


def test_a_job_records_through_supabase_rest_as_through_sqlite(env, postgres_url, instance, monkeypatch):
    """The metadata backend chosen by SUPABASE_URL and SUPABASE_SERVICE_KEY (supabase-py over the
    PostgREST subset, forwarding to the test PostgreSQL): the job row, its artifact registry and
    its usage land there, and re-running the partition changes none of them."""
    from wessley_dagster_tests.stores.test_metadata import JWT_SECRET, migrated

    migrated(postgres_url)
    dsn = postgres_url.replace("postgresql+psycopg2://", "postgresql://")
    with FakePostgrest(dsn, JWT_SECRET) as postgrest:
        rest_env = {"SUPABASE_URL": postgrest.url, "SUPABASE_SERVICE_KEY": postgrest.key("service_role")}
        for name, value in rest_env.items():
            monkeypatch.setenv(name, value)
        resources = resources_for({**env, **rest_env})
        # Outside a run the secret is not resolved from the environment; the same store, by value.
        metadata = SupabaseRestMetadataResource(
            supabase_url=postgrest.url, supabase_service_key=rest_env["SUPABASE_SERVICE_KEY"]
        )
        view = {**resources, "metadata": metadata}
        project = unique("proj")
        key = stage_bundle(SYNTHETIC, uploads_dir(env), project, "rest")
        add_partitions(instance, key)
        assert run(key, resources, instance).success
        first = state(view, project, "rest")
        assert first["job"] == {"status": "succeeded", "stage": "done", "progress": 100}
        assert first["artifact_rows"] == [(name.split("/", 2)[2], size) for name, size in first["artifacts"]] != []
        assert any(r.path == "/rest/v1/rpc/wessley_record_usage" for r in postgrest.requests)
        quota = metadata.store.quota("demo-user")
        assert run(key, resources, instance).success
        assert state(view, project, "rest") == first
        assert metadata.store.quota("demo-user") == quota  # a re-run counts nothing more
    assert not (Path(env["WESSLEY_HOME"]) / "metadata.db").exists()  # no silent SQLite beside it
