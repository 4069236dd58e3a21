"""A job row's vocabulary, defined once for the metadata stores, the assets, the sensor, the read
API and the CLI: the statuses a job takes, and the stages a run moves it through."""

from enum import StrEnum


class JobStatus(StrEnum):
    """The SQL check constraint `ingestion_jobs_status_check` lists the same values (tested)."""

    QUEUED = "queued"  # the upload sensor requested its run
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INVALID = "invalid"  # the upload broke the contract: refused before any work, or by the bundle step
    REJECTED = "rejected"  # the user's quota refused it


FINISHED = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.INVALID, JobStatus.REJECTED})
REFUSED = (JobStatus.INVALID, JobStatus.REJECTED)  # settled before any work: not requested again
PENDING = (JobStatus.QUEUED, JobStatus.RUNNING)

# Each asset of a run, in order, with the progress (0-100) its job row shows once it is done.
STAGES: tuple[tuple[str, int], ...] = (
    ("bundle", 10),
    ("text_spans", 20),
    ("components", 20),
    ("netlist", 20),
    ("chunks", 40),
    ("embeddings", 60),
    ("vector_index", 75),
    ("schematic_graph", 85),
    ("exports", 90),
)
PROGRESS = dict(STAGES)
QUEUED_STAGE, UPLOAD_STAGE, DONE_STAGE = "queued", "upload", "done"  # a job row's stage outside a run's assets
