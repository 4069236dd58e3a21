from dagster import AssetKey

from wessley_dagster.definitions import defs

ASSETS = {"bundle", "text_spans", "components", "netlist", "chunks", "embeddings", "vector_index",
          "schematic_graph", "exports", "job_record"}  # fmt: skip


def test_definitions_load_with_every_asset_check_job_sensor_and_schedule():
    graph = defs.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == ASSETS
    job = defs.resolve_job_def("ingest_job")
    assert {k.to_user_string() for k in job.asset_layer.selected_asset_keys} == ASSETS
    checks = {c.name for c in graph.asset_check_keys}
    assert checks == {"graph_counts_match_bundle", "connections_resolve", "no_orphan_pins",
                      "vector_count_matches_chunks", "vector_dimension_matches_collection"}  # fmt: skip
    assert defs.resolve_sensor_def("upload_sensor") and defs.resolve_sensor_def("ingest_failure_sensor")
    assert defs.resolve_schedule_def("nightly_reconcile").cron_schedule == "0 3 * * *"


def test_every_asset_is_partitioned_by_job():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).partitions_def.name == "ingestion_jobs", key
    assert defs.resolve_assets_def(AssetKey("vector_index")).op.pool == "embedded_vectors"
