"""The job's record in the metadata store: status, stage, metrics, artifact registry, quota usage."""

from collections.abc import Iterable, Mapping
from typing import Any

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from wessley_dagster.assets.common import BACKEND_RETRY, OWNERS, TAGS, job_ids, recorded_metadata, stored_in
from wessley_dagster.assets.embeddings import embeddings
from wessley_dagster.assets.exports import exports
from wessley_dagster.assets.indexes import schematic_graph, vector_index
from wessley_dagster.domain.bundle import ValidatedUpload
from wessley_dagster.domain.chunking import CHUNKER_VERSION
from wessley_dagster.io_managers.graph import loaded_graph_counts
from wessley_dagster.partitions import ingestion_partitions
from wessley_dagster.resources.embeddings import EmbeddingsResource
from wessley_dagster.resources.metadata import MetadataResource
from wessley_dagster.resources.storage import StorageResource


def metric_entries(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, MetadataValue]:
    """Each numeric metric as an entry of its own ("components": 10, "graph/Component": 10): the
    UI's Plots tab charts numeric entries across partitions, not values inside a JSON one."""
    entries: dict[str, MetadataValue] = {}
    for key, value in metrics.items():
        if isinstance(value, Mapping):
            entries |= metric_entries(value, f"{prefix}{key}/")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            entries[f"{prefix}{key}"] = (
                MetadataValue.int(value) if isinstance(value, int) else MetadataValue.float(value)
            )
    return entries


def _by_backend(rows: Iterable[dict]) -> dict[str, dict[str, int]]:
    """Objects and bytes per storage backend, summed over the rows' jobs."""
    totals: dict[str, dict[str, int]] = {}
    for row in rows:
        entry = totals.setdefault(row["backend"], {"objects": 0, "bytes": 0})
        entry["objects"] += int(row["objects"])
        entry["bytes"] += int(row["bytes"])
    return totals


def _artifact_type(name: str) -> str:
    return name.rsplit(".", 1)[-1] if "." in name else "file"


@asset(
    group_name="record",
    kinds=stored_in("metadata"),
    deps=[embeddings, vector_index, schematic_graph, exports],
    partitions_def=ingestion_partitions,
    owners=OWNERS,
    tags=TAGS,
    retry_policy=BACKEND_RETRY,
)
def job_record(
    context: AssetExecutionContext,
    bundle: ValidatedUpload,
    metadata: MetadataResource,
    storage: StorageResource,
    embeddings_model: EmbeddingsResource,
) -> MaterializeResult:
    """Registers every stored artifact and the job's metrics, marks it succeeded, counts its usage.
    The graph's and the index's counts are those their IO managers recorded when they loaded
    them, which the blocking checks have just compared with the stores: counting them again cost
    as much as the checks at 1,000 pages."""
    project_id, job_id = job_ids(context)
    objects = storage.object_store().list(f"{project_id}/{job_id}/")
    metadata.store.replace_artifacts(
        project_id,
        job_id,
        [
            {
                "name": o.key.split("/", 2)[-1],
                "artifact_type": _artifact_type(o.key),
                "storage_url": o.url,
                "backend": o.backend,
                "content_type": o.content_type,
                "size_bytes": o.size,
            }
            for o in objects
        ],
    )
    metrics = {
        **bundle.counts,
        "vector_points": int(recorded_metadata(context, vector_index.key).get("points", 0)),
        "graph": loaded_graph_counts(recorded_metadata(context, schematic_graph.key)),
        "artifacts": len(objects),
        "artifact_bytes": sum(o.size for o in objects),
    }
    model = embeddings_model.embedder().model
    metadata.store.complete_job(project_id, job_id, metrics, CHUNKER_VERSION, model)
    metadata.store.record_usage(project_id, job_id, metrics["artifact_bytes"])
    quota = metadata.store.quota(bundle.manifest.user_id)
    usage = metadata.store.storage_usage(project_id)  # one query: the project's rows, this job's among them
    return MaterializeResult(
        metadata={
            **metric_entries(metrics),
            "quota": MetadataValue.json({k: quota[k] for k in ("plan", "ingestions_used", "storage_used_bytes")}),
            "storage": MetadataValue.json(
                {"job": _by_backend(r for r in usage if r["job_id"] == job_id), "project": _by_backend(usage)}
            ),
        }
    )
