"""Sensors: a new `manifest.json` under the uploads location starts an ingestion run (after a
quota check); a failed ingestion run marks its job failed in the metadata store."""

import json
from datetime import datetime, timedelta

from dagster import (
    DagsterEventType,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    run_failure_sensor,
    sensor,
)
from pydantic import ValidationError

from wessley_dagster.domain.bundle import MANIFEST, Manifest, partition_key, split_partition_key
from wessley_dagster.jobs import ingest_job
from wessley_dagster.partitions import ingestion_partitions
from wessley_dagster.resources.metadata import MetadataResource
from wessley_dagster.resources.storage import UploadsResource
from wessley_dagster.stores.objects import ListedObject

# S3 timestamps have one-second resolution: each tick looks back a little, and the cursor keeps
# the run keys of that overlap so an upload already handled is not queued (or re-rejected) again.
CURSOR_SLACK = timedelta(seconds=2)


def _run_key(obj: ListedObject) -> str:
    """One run per upload: the partition and the manifest's ETag."""
    project_id, job_id, _ = obj.key.split("/")
    return f"{partition_key(project_id, job_id)}@{obj.etag}"


def _read_cursor(raw: str | None) -> tuple[datetime | None, set[str]]:
    if not raw:
        return None, set()
    data = json.loads(raw)
    return datetime.fromisoformat(data["last_modified"]), set(data["recent"])


@sensor(job=ingest_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING)
def upload_sensor(
    context: SensorEvaluationContext, uploads: UploadsResource, metadata: MetadataResource
) -> SensorResult:
    """Each new `<project>/<job>/manifest.json` adds a partition and requests one run (run_key = upload)."""
    store = uploads.object_store()
    last_modified, recent = _read_cursor(context.cursor)
    since = last_modified - CURSOR_SLACK if last_modified else None
    manifests = [o for o in store.list("", since) if o.key.endswith(f"/{MANIFEST}") and o.key.count("/") == 2]
    existing = set(context.instance.get_dynamic_partitions(ingestion_partitions.name))
    run_requests, new_keys = [], []
    for obj in sorted(manifests, key=lambda o: o.last_modified):
        project_id, job_id, _ = obj.key.split("/")
        key, run_key = partition_key(project_id, job_id), _run_key(obj)
        if run_key in recent:
            continue
        folder = store.list(f"{project_id}/{job_id}/")
        try:
            manifest = Manifest.model_validate(json.loads(store.get(obj.key) or b""))
        except (json.JSONDecodeError, ValidationError) as exc:
            # Still run: the bundle asset fails with the file, place and problem for the UI to show.
            context.log.warning(f"{obj.key}: unreadable manifest ({exc}); the run will report it")
            manifest = None
        if manifest is not None:
            reason = metadata.store.quota_rejection(manifest, sum(o.size for o in folder), metadata.default_plan)
            if reason:
                metadata.store.register_job(manifest, status="rejected", error=reason)
                context.log.info(f"{key} rejected before any work: {reason}")
                continue
            metadata.store.register_job(manifest, status="queued", stage="queued")
        if key not in existing:
            new_keys.append(key)
            existing.add(key)
        run_requests.append(RunRequest(partition_key=key, run_key=run_key, tags={"upload": obj.key}))
    newest = max((o.last_modified for o in manifests), default=None)
    cursor = context.cursor
    if newest is not None:
        overlap = [o for o in manifests if o.last_modified >= newest - CURSOR_SLACK]
        cursor = json.dumps({"last_modified": newest.isoformat(), "recent": sorted(map(_run_key, overlap))})
    return SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[ingestion_partitions.build_add_request(new_keys)] if new_keys else [],
        cursor=cursor,
    )


@run_failure_sensor(monitored_jobs=[ingest_job], default_status=DefaultSensorStatus.RUNNING)
def ingest_failure_sensor(context: RunFailureSensorContext, metadata: MetadataResource) -> None:
    """Marks the failed run's job `failed` with the error, so the product's job page shows it."""
    key = context.dagster_run.tags.get("dagster/partition")
    if not key:
        return
    project_id, job_id = split_partition_key(key)
    steps = context.instance.all_logs(context.dagster_run.run_id, of_type=DagsterEventType.STEP_FAILURE)
    errors = [
        f"{e.step_key}: {e.dagster_event.step_failure_data.user_failure_data.description}"
        if e.dagster_event.step_failure_data.user_failure_data
        else f"{e.step_key}: {e.dagster_event.step_failure_data.error.message.strip()}"
        for e in steps
        if e.dagster_event is not None
    ]
    metadata.store.fail_job(project_id, job_id, "; ".join(errors) or context.failure_event.message or "run failed")
