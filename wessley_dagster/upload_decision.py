"""What the upload sensor does with one folder of the uploads location, decided by a function that
writes nothing: `decide(upload, state)` reads what it needs through `state` (cheapest questions
first, the bundle's validation last) and answers `Run`, `Refuse`, `Reject` or `Skip`. The sensor
acts on the answer; the table test in `test_upload_decision.py` covers every branch."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

from wessley_dagster.domain.bundle import (
    BUNDLE_FILES,
    MANIFEST,
    BundleLimits,
    Manifest,
    id_problem,
    partition_key,
    validate_upload,
)
from wessley_dagster.stores.objects import ObjectStore

REQUIRED = frozenset(BUNDLE_FILES)


@dataclass(frozen=True)
class Upload:
    """One `<project>/<job>/` folder as listed: its file names, their digest and total size."""

    project_id: str
    job_id: str
    names: frozenset[str]
    digest: str
    size: int

    @property
    def folder(self) -> str:
        return f"{self.project_id}/{self.job_id}"

    @property
    def partition_key(self) -> str:
        return partition_key(self.project_id, self.job_id)

    @property
    def run_key(self) -> str:
        """A run per upload content: the same files never run twice, changed files run again."""
        return f"{self.partition_key}@{self.digest}"

    @property
    def remembered_as(self) -> str:
        return f"{self.folder}@{self.digest}"


@dataclass(frozen=True)
class Checked:
    """The upload read as the `bundle` step will read it: its manifest if valid, the user its
    manifest claims (when its JSON reads at all), and why it is refused (None: it is not)."""

    manifest: Manifest | None
    claimed_user: str | None
    problem: str | None


class UploadState(Protocol):
    """What a decision may ask; nothing here writes."""

    def remembered(self, upload: Upload) -> bool: ...  # refused earlier with no job row to say so
    def ran(self, upload: Upload) -> bool: ...  # a run was requested for this content
    def settled(self, upload: Upload) -> bool: ...  # refused or rejected before: its job row says why
    def check(self, upload: Upload) -> Checked: ...
    def owner(self, project_id: str) -> str | None: ...  # the project's owner, or its live claim
    def quota_rejection(self, manifest: Manifest, size: int) -> str | None: ...


@dataclass(frozen=True)
class Skip:
    """Nothing to do now: incomplete, or already handled."""

    why: str


@dataclass(frozen=True)
class Refuse:
    """Refused before any work. Recorded as an invalid job row when the project exists and
    belongs to the user the manifest names (`owner`); otherwise logged once and remembered."""

    log: str
    problem: str
    owner: str | None = None


@dataclass(frozen=True)
class Reject:
    """Valid, but the user's quota refuses it: a rejected job row says why."""

    manifest: Manifest
    reason: str


@dataclass(frozen=True)
class Run:
    """Valid and allowed: a queued job row, the partition, and a run request."""

    manifest: Manifest


Decision = Skip | Refuse | Reject | Run


def decide(upload: Upload, state: UploadState) -> Decision:
    if not upload.names.issuperset(REQUIRED):
        return Skip("incomplete: looked at again when the missing files arrive")
    if state.remembered(upload):
        return Skip("refused before, with no job row")
    problem = id_problem(upload.project_id) or id_problem(upload.job_id)
    if problem:
        return Refuse(f"{upload.folder}/: ignored, the folder is not a project/job: {problem}", problem)
    if state.ran(upload):
        return Skip("its run was requested")
    if state.settled(upload):
        return Skip("refused or rejected before")
    checked = state.check(upload)
    owner = state.owner(upload.project_id)
    problem = checked.problem
    if problem is None and owner is not None and owner != checked.claimed_user:
        problem = f"{MANIFEST}: project {upload.project_id!r} belongs to another user"
    if problem is not None or checked.manifest is None:
        problem = problem or f"{MANIFEST}: unreadable"
        recorded = owner if owner is not None and owner == checked.claimed_user else None
        return Refuse(f"{upload.folder}/ refused before any work: {problem}", problem, recorded)
    reason = state.quota_rejection(checked.manifest, upload.size)
    if reason:
        return Reject(checked.manifest, reason)
    return Run(checked.manifest)


def check_upload(store: ObjectStore, project_id: str, job_id: str, limits: BundleLimits) -> Checked:
    """The manifest, then the whole bundle validated as the `bundle` step will: an invalid upload
    never gets a partition, a queued row or a run (whose unrun checks would read as failed)."""
    folder = f"{project_id}/{job_id}/"
    try:
        raw = json.loads(store.get(f"{folder}{MANIFEST}") or b"")
    except (ValueError, RecursionError) as exc:  # bad JSON, bad UTF-8, too deep, a key that escapes
        return Checked(None, None, f"{MANIFEST}: unreadable: {str(exc)[:500]}")
    claimed = raw.get("user_id") if isinstance(raw, dict) and isinstance(raw.get("user_id"), str) else None
    try:
        manifest = Manifest.model_validate(raw)
    except ValueError as exc:
        return Checked(None, claimed, f"{MANIFEST}: invalid: {str(exc)[:500]}")
    if (manifest.project_id, manifest.job_id) != (project_id, job_id):
        named = f"names project {manifest.project_id!r}, job {manifest.job_id!r}"
        return Checked(manifest, claimed, f"{MANIFEST}: {named} but was uploaded to {folder}")
    try:
        validate_upload(lambda name: store.get(f"{folder}{name}"), partition_key(project_id, job_id), limits)
    except ValueError as exc:  # a BundleError, or a file the store refuses to read (a symlink)
        return Checked(manifest, claimed, f"invalid bundle: {exc}")
    return Checked(manifest, claimed, None)
