"""Sensors: a complete new upload under the uploads location starts an ingestion run (after it
is checked and its quota allows it); a failed ingestion run marks its job failed in the metadata
store."""

import json
from datetime import datetime, timedelta

from dagster import (
    DagsterEventType,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    run_failure_sensor,
    sensor,
)
from dagster._core.execution.plan.objects import StepFailureData
from dagster._utils.error import SerializableErrorInfo

from wessley_dagster.domain.bundle import (
    BUNDLE_FILES,
    MANIFEST,
    Manifest,
    id_problem,
    partition_key,
    split_partition_key,
)
from wessley_dagster.jobs import ingest_job
from wessley_dagster.partitions import ingestion_partitions
from wessley_dagster.resources.metadata import MetadataResource
from wessley_dagster.resources.storage import UploadsResource
from wessley_dagster.stores.objects import ObjectStore, upload_digest

# S3 timestamps have one-second resolution: each tick looks back a little, and the cursor keeps
# the run keys of that overlap so an upload already handled is not queued (or re-rejected) again.
CURSOR_SLACK = timedelta(seconds=2)
REQUIRED = frozenset(BUNDLE_FILES)


def _read_cursor(raw: str | None) -> tuple[datetime | None, set[str]]:
    if not raw:
        return None, set()
    data = json.loads(raw)
    return datetime.fromisoformat(data["last_modified"]), set(data["recent"])


def _handled(context: SensorEvaluationContext, run_key: str) -> bool:
    """Whether a run was already requested for this upload (a reset cursor must not re-queue it)."""
    runs = context.instance.get_runs(RunsFilter(tags={"dagster/run_key": run_key}), limit=1)
    return bool(runs)


def _manifest(store: ObjectStore, folder: str, project_id: str, job_id: str) -> tuple[Manifest | None, str | None, str]:
    """The upload's manifest if it is valid and names its own folder, the user it claims (when its
    JSON reads at all, so that an invalid manifest can still be reported to its project's owner),
    and why it is refused ("" if it is not)."""
    try:
        raw = json.loads(store.get(f"{folder}{MANIFEST}") or b"")
    except (ValueError, RecursionError) as exc:  # bad JSON, bad UTF-8, too deep, a key that escapes
        return None, None, f"{MANIFEST}: unreadable: {str(exc)[:500]}"
    claimed = raw.get("user_id") if isinstance(raw, dict) and isinstance(raw.get("user_id"), str) else None
    try:
        manifest = Manifest.model_validate(raw)
    except ValueError as exc:
        return None, claimed, f"{MANIFEST}: invalid: {str(exc)[:500]}"
    if (manifest.project_id, manifest.job_id) != (project_id, job_id):
        return (
            manifest,
            claimed,
            (
                f"{MANIFEST}: names project {manifest.project_id!r}, job {manifest.job_id!r} "
                f"but was uploaded to {project_id}/{job_id}/"
            ),
        )
    return manifest, claimed, ""


@sensor(job=ingest_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING)
def upload_sensor(
    context: SensorEvaluationContext, uploads: UploadsResource, metadata: MetadataResource
) -> SensorResult:
    """Each complete new upload `<project>/<job>/` adds a partition and requests one run.

    Nothing is written before the upload is checked: folder names are valid ids, every bundle
    file is there, the manifest names its own folder and a user who owns the project, and the
    quota allows it. A refused upload gets a failed job row only in a project that exists and
    belongs to the same user; otherwise it is only logged."""
    store = uploads.object_store()
    last_modified, recent = _read_cursor(context.cursor)
    since = last_modified - CURSOR_SLACK if last_modified else None
    changed = [o for o in store.list("", since) if o.key.count("/") == 2]
    folders = sorted({o.key.rsplit("/", 1)[0] for o in changed})
    existing = set(context.instance.get_dynamic_partitions(ingestion_partitions.name))
    run_requests, new_keys, seen_keys = [], [], set()
    for folder_name in folders:
        project_id, job_id = folder_name.split("/")
        problem = id_problem(project_id) or id_problem(job_id)
        if problem:
            context.log.warning(f"{folder_name}/: ignored, the folder is not a project/job: {problem}")
            continue
        files = store.list(f"{folder_name}/")
        names = {o.key.rsplit("/", 1)[-1] for o in files}
        if not names.issuperset(REQUIRED):
            continue  # incomplete: looked at again when the missing files arrive
        key = partition_key(project_id, job_id)
        run_key = f"{key}@{upload_digest(files)}"
        seen_keys.add(run_key)
        if run_key in recent or _handled(context, run_key):
            continue
        manifest, claimed_user, problem = _manifest(store, f"{folder_name}/", project_id, job_id)
        owner = metadata.store.project_owner(project_id)
        if not problem and owner is not None and owner != claimed_user:
            problem = f"{MANIFEST}: project {project_id!r} belongs to another user"
        if problem:
            context.log.warning(f"{folder_name}/ refused before any work: {problem}")
            if owner is not None and owner == claimed_user:
                metadata.store.refuse_upload(project_id, job_id, owner, problem)
            continue
        assert manifest is not None
        reason = metadata.store.quota_rejection(manifest, sum(o.size for o in files), metadata.default_plan)
        if reason:
            metadata.store.register_job(manifest, status="rejected", error=reason)
            context.log.info(f"{key} rejected before any work: {reason}")
            continue
        metadata.store.register_job(manifest, status="queued", stage="queued")
        if key not in existing:
            new_keys.append(key)
            existing.add(key)
        run_requests.append(RunRequest(partition_key=key, run_key=run_key, tags={"upload": f"{folder_name}/"}))
    newest = max((o.last_modified for o in changed), default=None)
    cursor = context.cursor
    if newest is not None:
        overlap = {o.key.rsplit("/", 1)[0] for o in changed if o.last_modified >= newest - CURSOR_SLACK}
        keep = sorted(k for k in seen_keys if k.split("@")[0].replace("__", "/", 1) in overlap)
        cursor = json.dumps({"last_modified": newest.isoformat(), "recent": keep})
    return SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[ingestion_partitions.build_add_request(new_keys)] if new_keys else [],
        cursor=cursor,
    )


def _cause(failure: StepFailureData) -> str:
    """What made the step fail: a Failure's description, else the first error in the chain that is
    not Dagster's own wrapper (after retries Dagster reports only "Exceeded max_retries")."""
    if failure.user_failure_data is not None and failure.user_failure_data.description:
        return failure.user_failure_data.description
    error: SerializableErrorInfo | None = failure.error
    while error is not None:
        if not error.cls_name.startswith(("Dagster", "RetryRequested")):
            return f"{error.cls_name}: {error.message.strip()}"
        error = error.cause or error.context
    return failure.error.message.strip() if failure.error else "unknown error"


# Every job of the code location: "Materialize" in the UI and backfills run as __ASSET_JOB, not as
# ingest_job, and their failures must reach the job row too.
@run_failure_sensor(default_status=DefaultSensorStatus.RUNNING)
def ingest_failure_sensor(context: RunFailureSensorContext, metadata: MetadataResource) -> None:
    """Marks the failed run's job `failed` with the failing steps' causes and the steps that had
    completed, so the job page shows what failed and which stores the run had already written."""
    key = context.dagster_run.tags.get("dagster/partition")
    if not key or not context.instance.has_dynamic_partition(ingestion_partitions.name, key):
        return
    project_id, job_id = split_partition_key(key)
    run_id = context.dagster_run.run_id
    steps = context.instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE)
    errors = [f"{e.step_key}: {_cause(e.dagster_event.step_failure_data)}" for e in steps if e.dagster_event]
    done = [e.step_key for e in context.instance.all_logs(run_id, of_type=DagsterEventType.STEP_SUCCESS)]
    cause = "; ".join(errors) or context.failure_event.message or "run failed"
    completed = f" (completed before it: {', '.join(done)})" if done else " (no step had completed)"
    metadata.store.fail_job(project_id, job_id, cause + completed)
