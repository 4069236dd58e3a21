"""`make demo`: put the sample bundles where uploads land, let the upload sensor register them,
run `ingest_job` for each, and print what every backend now holds plus one search."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

from dagster import DagsterInstance, build_resources, build_sensor_context

from wessley_dagster.domain.bundle import MANIFEST
from wessley_dagster.search import format_hit, semantic_search

# The sample bundles ship inside the package (`data/bundles` in a checkout links here). A wheel
# installs them as plain files, so the folder is a path on disk.
SAMPLES = Path(str(files("wessley_dagster") / "samples"))
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # the demo prints its own summary
DEMO_QUERY = ("demo-roadster", "which relay switches the fuel pump")


def stage_uploads(bundles: Path, uploads: Any) -> list[str]:
    """Copy each `<project>/<job>/` bundle into the uploads store, manifest last; returns the prefixes."""
    store = uploads.object_store()
    prefixes = []
    for manifest in sorted(bundles.glob(f"*/*/{MANIFEST}")):
        folder = manifest.parent
        prefix = f"{folder.parent.name}/{folder.name}"
        for path in [*sorted(p for p in folder.iterdir() if p.is_file() and p.name != MANIFEST), manifest]:
            if store.get(f"{prefix}/{path.name}") != path.read_bytes():  # unchanged: keep its timestamp
                store.put(f"{prefix}/{path.name}", path.read_bytes(), "application/octet-stream")
        prefixes.append(prefix)
    return prefixes


def summary(live: Any) -> dict[str, Any]:
    """Counts of what every backend holds, from initialised resources."""
    graph = live.graph.store.totals()
    points = live.vectors.store.total()
    meta = live.metadata.store.totals()
    return {
        "graph_nodes": graph["nodes"],
        "graph_relationships": graph["relationships"],
        "vector_points": points,
        "artifacts": meta["artifacts"],
        "job_rows": meta["ingestion_jobs"],
        "projects": meta["projects"],
    }


def run_demo(bundles: Path) -> int:
    from wessley_dagster.definitions import defs
    from wessley_dagster.sensors import upload_sensor

    resources = defs.resources
    instance = DagsterInstance.get()
    prefixes = stage_uploads(bundles, resources["uploads"])
    print(f"staged {len(prefixes)} bundles: {', '.join(prefixes)}")

    sensor_resources = {k: resources[k] for k in ("uploads", "metadata")}
    with build_sensor_context(instance=instance, resources=sensor_resources) as context:
        result = upload_sensor(context)
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys or []))

    # Each run carries the sensor's run key, as a run the daemon launched would: the upload sensor
    # of `make dev` on the same instance then finds these uploads handled and ingests none again.
    requested = {r.partition_key: r for r in result.run_requests}
    job = defs.resolve_job_def("ingest_job")
    for prefix in prefixes:
        key = prefix.replace("/", "__")
        request = requested.get(key)
        tags = {"dagster/run_key": request.run_key, **request.tags} if request else {}
        run = job.execute_in_process(
            partition_key=key, instance=instance, run_config=QUIET, raise_on_error=True, tags=tags
        )
        checks = [
            e.asset_check_evaluation_data for e in run.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
        ]
        failed = [c.check_name for c in checks if not c.passed]
        print(
            f"ingested {key}: run {run.run_id[:8]} {'succeeded' if run.success else 'FAILED'}, "
            f"{len(checks)} checks, failed: {failed or 'none'}"
        )

    # Resolved through Dagster so that EnvVar secrets work here exactly as in a run.
    with build_resources({k: resources[k] for k in ("graph", "vectors", "metadata", "embeddings_model")}) as live:
        stored = summary(live)
        project, query = DEMO_QUERY
        hits = semantic_search(live.vectors.store, live.embeddings_model.embedder(), project, query, limit=3)
    print("graph nodes by label:", json.dumps(stored["graph_nodes"]))
    print("graph relationships:", json.dumps(stored["graph_relationships"]))
    print(f"vector points: {stored['vector_points']}, artifacts: {stored['artifacts']}, job rows: {stored['job_rows']}")
    print(f'search "{query}" in {project}:')
    for hit in hits:
        print("  " + format_hit(hit))
    print("stored: " + json.dumps(stored, sort_keys=True))
    return 0
