"""Sensors: a complete new upload under the uploads location starts an ingestion run (after it
is validated and its quota allows it); the end of any run of a partition, launched however,
closes its job row in the metadata store (succeeded, or failed with the cause)."""

import json
from dataclasses import asdict, dataclass, field

from dagster import (
    DagsterEvent,
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

from wessley_dagster.domain.bundle import Manifest, split_partition_key
from wessley_dagster.domain.jobs import QUEUED_STAGE, JobStatus
from wessley_dagster.jobs import ingest_job
from wessley_dagster.partitions import ingestion_partitions, run_partition
from wessley_dagster.resources.metadata import MetadataResource
from wessley_dagster.resources.storage import UploadsResource
from wessley_dagster.stores.objects import ListedObject, ObjectStore, upload_digest
from wessley_dagster.upload_decision import Checked, Decision, Refuse, Reject, Run, Upload, check_upload, decide

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


class LiveUploadState:
    """`UploadState` read from this tick's cursor, the instance's runs and the stores."""

    def __init__(
        self,
        context: SensorEvaluationContext,
        uploads: UploadsResource,
        metadata: MetadataResource,
        cursor: UploadCursor,
    ) -> None:
        # The metadata store is opened by the first question that needs it: a tick with nothing
        # new to look at never touches it.
        self.context, self.uploads, self.metadata, self.cursor = context, uploads, metadata, cursor
        self.store = uploads.object_store()

    def remembered(self, upload: Upload) -> bool:
        return upload.remembered_as in self.cursor.skipped

    def ran(self, upload: Upload) -> bool:
        """Whether a run was already requested for this content (a reset cursor must not re-queue it)."""
        runs = self.context.instance.get_runs(RunsFilter(tags={"dagster/run_key": upload.run_key}), limit=1)
        return bool(runs)

    def settled(self, upload: Upload) -> bool:
        return self.metadata.store.settled_upload(upload.project_id, upload.job_id, upload.digest)

    def check(self, upload: Upload) -> Checked:
        return check_upload(self.store, upload.project_id, upload.job_id, self.uploads.limits())

    def owner(self, project_id: str) -> str | None:
        return self.metadata.store.project_owner(project_id)

    def quota_rejection(self, manifest: Manifest, size: int) -> str | None:
        return self.metadata.store.quota_rejection(manifest, size)


@sensor(job=ingest_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING)
def upload_sensor(
    context: SensorEvaluationContext, uploads: UploadsResource, metadata: MetadataResource
) -> SensorResult:
    """Each complete new upload `<project>/<job>/` adds a partition and requests one run.

    Nothing is written before `decide` has checked the upload: folder names are valid ids, every
    bundle file is there, the manifest names its own folder and a user who owns the project, the
    whole bundle is valid, and the quota allows it. A refused upload gets an invalid job row only
    in a project that exists and belongs to the user its manifest names; otherwise it is logged once.

    Each tick lists one page of keys from where the last one stopped (S3's `StartAfter`) and
    starts again from the top after the last page, so every key is seen within
    keys / `sensor_page_keys` ticks whatever its timestamp (`mv` and `cp -p` keep old ones)."""
    cursor = UploadCursor.read(context.cursor)
    state = LiveUploadState(context, uploads, metadata, cursor)
    folders, next_after = _folders_to_check(state.store, cursor, uploads.sensor_page_keys)
    existing = set(context.instance.get_dynamic_partitions(ingestion_partitions.name))
    run_requests: list[RunRequest] = []
    for folder, files in folders.items():
        project_id, job_id = folder.split("/")
        upload = Upload(
            project_id,
            job_id,
            frozenset(o.key.rsplit("/", 1)[-1] for o in files),
            upload_digest(files),
            sum(o.size for o in files),
        )
        request = _act(context, metadata, cursor, upload, decide(upload, state))
        if request is not None:
            run_requests.append(request)
    new_keys = list(dict.fromkeys(r.partition_key for r in run_requests if r.partition_key not in existing))
    cursor.after = next_after
    return SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[ingestion_partitions.build_add_request(new_keys)] if new_keys else [],
        cursor=json.dumps(asdict(cursor)),
    )


def _act(
    context: SensorEvaluationContext,
    metadata: MetadataResource,
    cursor: UploadCursor,
    upload: Upload,
    decision: Decision,
) -> RunRequest | None:
    """What the sensor writes for one decision; the run request of a `Run`."""
    match decision:
        case Refuse(log=log, problem=problem, owner=owner):
            context.log.warning(log)
            if owner is not None:
                metadata.store.refuse_upload(upload.project_id, upload.job_id, owner, problem, upload.digest)
            else:
                cursor.skip(upload.remembered_as)
        case Reject(manifest=manifest, reason=reason):
            metadata.store.register_job(manifest, status=JobStatus.REJECTED, error=reason, upload_digest=upload.digest)
            context.log.info(f"{upload.partition_key} rejected before any work: {reason}")
        case Run(manifest=manifest):
            metadata.store.register_job(
                manifest, status=JobStatus.QUEUED, stage=QUEUED_STAGE, upload_digest=upload.digest
            )
            tags = {"upload": f"{upload.folder}/"}
            return RunRequest(partition_key=upload.partition_key, run_key=upload.run_key, tags=tags)
    return None


def _cause(event: DagsterEvent) -> str:
    """What made the step fail: a Failure's description, else the first error in the chain that is
    not Dagster's own wrapper (after retries Dagster reports only "Exceeded max_retries")."""
    failure = event.step_failure_data
    if failure.user_failure_data is not None and failure.user_failure_data.description:
        return failure.user_failure_data.description
    error = failure.error
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
    errors = [f"{e.step_key}: {_cause(e.dagster_event)}" for e in steps if e.dagster_event]
    done = [e.step_key for e in context.instance.all_logs(run_id, of_type=DagsterEventType.STEP_SUCCESS)]
    cause = "; ".join(errors) or context.failure_event.message or "run failed"
    completed = f" (completed before it: {', '.join(done)})" if done else " (no step had completed)"
    metadata.store.fail_job(project_id, job_id, cause + completed)
