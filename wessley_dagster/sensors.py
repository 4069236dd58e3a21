"""Sensors: a complete new upload under the uploads location starts an ingestion run (after it
is validated and its quota allows it); the end of any run of a partition, launched however,
closes its job row in the metadata store (succeeded, or failed with the cause)."""

import json
from dataclasses import asdict, dataclass, field

from dagster import (
    DagsterEventType,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    RunsFilter,
    RunStatusSensorContext,
    SensorEvaluationContext,
    SensorResult,
    run_failure_sensor,
    run_status_sensor,
    sensor,
)
from dagster._core.execution.plan.objects import StepFailureData
from dagster._utils.error import SerializableErrorInfo

from wessley_dagster.domain.bundle import (
    BUNDLE_FILES,
    MANIFEST,
    BundleLimits,
    Manifest,
    id_problem,
    partition_key,
    split_partition_key,
    validate_upload,
)
from wessley_dagster.jobs import ingest_job
from wessley_dagster.partitions import ingestion_partitions, run_partition
from wessley_dagster.resources.metadata import MetadataResource
from wessley_dagster.resources.storage import UploadsResource
from wessley_dagster.stores.objects import ListedObject, ObjectStore, upload_digest

REQUIRED = frozenset(BUNDLE_FILES)
SKIPPED_REMEMBERED = 1000  # uploads refused with no job row to record it, remembered so as not to log them again


@dataclass
class UploadCursor:
    """Where the next tick's listing starts (`StartAfter`), and the refused uploads that have no
    job row to say so. Which uploads ran is not kept here: a run key is a digest of the upload's
    files, and the instance's runs answer whether it ran, so a reset cursor re-queues nothing."""

    after: str = ""
    skipped: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, raw: str | None) -> "UploadCursor":
        return cls(**json.loads(raw)) if raw else cls()

    def skip(self, upload: str) -> None:
        """Remember `<folder>@<digest>`, refused with no job row, so it is not logged again."""
        self.skipped = [*self.skipped, upload][-SKIPPED_REMEMBERED:]


def _folders_to_check(
    store: ObjectStore, cursor: UploadCursor, page_keys: int
) -> tuple[dict[str, list[ListedObject]], str]:
    """One page of the listing from the cursor, grouped by `<project>/<job>` folder, and where the
    next page starts. A page always ends at a folder's end, so each folder is seen whole."""
    page = store.list("", start_after=cursor.after, limit=page_keys)
    if len(page) < page_keys:  # the end of the listing: the next tick starts again from the top
        after, complete = "", page
    else:
        last = "/".join(page[-1].key.split("/")[:2])
        complete = [o for o in page if not o.key.startswith(f"{last}/")]
        if complete:
            after = complete[-1].key
        else:  # one folder fills the page: read it whole, and go on after it ("0" sorts after "/")
            complete, after = store.list(f"{last}/"), f"{last}0"
    folders: dict[str, list[ListedObject]] = {}
    for obj in complete:
        if obj.key.count("/") == 2:
            folders.setdefault(obj.key.rsplit("/", 1)[0], []).append(obj)
    return folders, after


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


def upload_problem(
    store: ObjectStore, folder: str, project_id: str, job_id: str, limits: BundleLimits
) -> tuple[Manifest | None, str | None, str]:
    """`_manifest`, then the whole bundle validated as the `bundle` step will: an invalid upload
    never gets a partition, a queued row or a run (whose unrun checks would read as failed)."""
    manifest, claimed, problem = _manifest(store, folder, project_id, job_id)
    if manifest is None or problem:
        return manifest, claimed, problem
    try:
        validate_upload(lambda name: store.get(f"{folder}{name}"), partition_key(project_id, job_id), limits)
    except ValueError as exc:  # a BundleError, or a file the store refuses to read (a symlink)
        return manifest, claimed, f"invalid bundle: {exc}"
    return manifest, claimed, ""


@sensor(job=ingest_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING)
def upload_sensor(
    context: SensorEvaluationContext, uploads: UploadsResource, metadata: MetadataResource
) -> SensorResult:
    """Each complete new upload `<project>/<job>/` adds a partition and requests one run.

    Nothing is written before the upload is checked: folder names are valid ids, every bundle
    file is there, the manifest names its own folder and a user who owns the project, the whole
    bundle is valid, and the quota allows it. A refused upload gets an invalid job row only in a
    project that exists and belongs to the user its manifest names; otherwise it is logged once.

    Each tick lists one page of keys from where the last one stopped (S3's `StartAfter`) and
    starts again from the top after the last page, so every key is seen within
    keys / `sensor_page_keys` ticks whatever its timestamp (`mv` and `cp -p` keep old ones)."""
    store = uploads.object_store()
    cursor = UploadCursor.read(context.cursor)
    folders, next_after = _folders_to_check(store, cursor, uploads.sensor_page_keys)
    existing = set(context.instance.get_dynamic_partitions(ingestion_partitions.name))
    run_requests, new_keys = [], []
    for folder_name, files in folders.items():
        project_id, job_id = folder_name.split("/")
        names = {o.key.rsplit("/", 1)[-1] for o in files}
        if not names.issuperset(REQUIRED):
            continue  # incomplete: looked at again when the missing files arrive
        digest = upload_digest(files)
        upload = f"{folder_name}@{digest}"
        if upload in cursor.skipped:
            continue
        problem = id_problem(project_id) or id_problem(job_id)
        if problem:
            context.log.warning(f"{folder_name}/: ignored, the folder is not a project/job: {problem}")
            cursor.skip(upload)
            continue
        key = partition_key(project_id, job_id)
        run_key = f"{key}@{digest}"
        if _handled(context, run_key):
            continue
        if metadata.store.settled_upload(project_id, job_id, digest):
            continue  # refused or rejected before: its job row says why
        manifest, claimed_user, problem = upload_problem(store, f"{folder_name}/", project_id, job_id, uploads.limits())
        owner = metadata.store.project_owner(project_id)
        if not problem and owner is not None and owner != claimed_user:
            problem = f"{MANIFEST}: project {project_id!r} belongs to another user"
        if problem:
            context.log.warning(f"{folder_name}/ refused before any work: {problem}")
            if owner is not None and owner == claimed_user:
                metadata.store.refuse_upload(project_id, job_id, owner, problem, digest)
            else:
                cursor.skip(upload)
            continue
        assert manifest is not None
        reason = metadata.store.quota_rejection(manifest, sum(o.size for o in files))
        if reason:
            metadata.store.register_job(manifest, status="rejected", error=reason, upload_digest=digest)
            context.log.info(f"{key} rejected before any work: {reason}")
            continue
        metadata.store.register_job(manifest, status="queued", stage="queued", upload_digest=digest)
        if key not in existing:
            new_keys.append(key)
            existing.add(key)
        run_requests.append(RunRequest(partition_key=key, run_key=run_key, tags={"upload": f"{folder_name}/"}))
    cursor.after = next_after
    return SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[ingestion_partitions.build_add_request(new_keys)] if new_keys else [],
        cursor=json.dumps(asdict(cursor)),
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


# Run status sensors read only new run events: cheap enough to look every few seconds, so a job
# row never lags its run by long.
ROW_SENSOR_INTERVAL = 5


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=ROW_SENSOR_INTERVAL,
)
def ingest_success_sensor(context: RunStatusSensorContext, metadata: MetadataResource) -> None:
    """A successful run that did not include `job_record` (a UI selection, part of a backfill)
    marks its job `succeeded` too, so no launch path leaves a row `running`."""
    key = run_partition(context.dagster_run.tags)
    if key and context.instance.has_dynamic_partition(ingestion_partitions.name, key):
        metadata.store.finish_run(*split_partition_key(key), context.dagster_run.run_id)


# Every job of the code location: "Materialize" in the UI and backfills run as __ASSET_JOB, not as
# ingest_job, and their failures must reach the job row too.
@run_failure_sensor(default_status=DefaultSensorStatus.RUNNING, minimum_interval_seconds=ROW_SENSOR_INTERVAL)
def ingest_failure_sensor(context: RunFailureSensorContext, metadata: MetadataResource) -> None:
    """Marks the failed run's job `failed` with the failing steps' causes and the steps that had
    completed, so the job page shows what failed and which stores the run had already written."""
    key = run_partition(context.dagster_run.tags)
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
