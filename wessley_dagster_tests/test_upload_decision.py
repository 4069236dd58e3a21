"""Every branch of the upload sensor's decision, as a table: what `decide` answers for an upload
given what it can see. It writes nothing; the sensor tests cover what the sensor then does."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from wessley_dagster.domain.bundle import BUNDLE_FILES, Manifest, Vehicle
from wessley_dagster.upload_decision import Checked, Refuse, Reject, Run, Skip, Upload, decide

ALL = frozenset(BUNDLE_FILES)
MANIFEST = Manifest(
    project_id="proj",
    job_id="job",
    user_id="alice",
    vehicle=Vehicle(make="M", model="X", year=2020),
    source_document="s.pdf",
    page_count=1,
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
)
VALID = Checked(MANIFEST, "alice", None)


@dataclass
class Seen:
    """What the state answers; `asked` records the questions, to show the cheap ones come first."""

    remembered_: bool = False
    ran_: bool = False
    settled_: bool = False
    checked: Checked = VALID
    owner_: str | None = None
    quota: str | None = None
    asked: list[str] = field(default_factory=list)

    def remembered(self, upload: Upload) -> bool:
        self.asked.append("remembered")
        return self.remembered_

    def ran(self, upload: Upload) -> bool:
        self.asked.append("ran")
        return self.ran_

    def settled(self, upload: Upload) -> bool:
        self.asked.append("settled")
        return self.settled_

    def check(self, upload: Upload) -> Checked:
        self.asked.append("check")
        return self.checked

    def owner(self, project_id: str) -> str | None:
        self.asked.append("owner")
        return self.owner_

    def quota_rejection(self, manifest: Manifest, size: int) -> str | None:
        self.asked.append("quota")
        return self.quota


def upload(project: str = "proj", job: str = "job", names: frozenset[str] = ALL) -> Upload:
    return Upload(project, job, names, digest="d1", size=100)


BAD = Checked(None, "alice", "manifest.json: invalid: created_at missing")
CASES = [
    ("incomplete", upload(names=ALL - {"manifest.json"}), Seen(), Skip, []),
    ("refused before, remembered", upload(), Seen(remembered_=True), Skip, ["remembered"]),
    ("folder is not a job id", upload(job="a b"), Seen(), Refuse, ["remembered"]),
    ("already ran", upload(), Seen(ran_=True), Skip, ["remembered", "ran"]),
    ("settled by a job row", upload(), Seen(settled_=True), Skip, ["remembered", "ran", "settled"]),
    (
        "invalid, project unknown",
        upload(),
        Seen(checked=BAD),
        Refuse,
        ["remembered", "ran", "settled", "check", "owner"],
    ),
    (
        "invalid, the owner's",
        upload(),
        Seen(checked=BAD, owner_="alice"),
        Refuse,
        ["remembered", "ran", "settled", "check", "owner"],
    ),
    (
        "another user's project",
        upload(),
        Seen(owner_="bob"),
        Refuse,
        ["remembered", "ran", "settled", "check", "owner"],
    ),
    (
        "over quota",
        upload(),
        Seen(quota="monthly limit of 1 reached"),
        Reject,
        ["remembered", "ran", "settled", "check", "owner", "quota"],
    ),
    ("new project", upload(), Seen(), Run, ["remembered", "ran", "settled", "check", "owner", "quota"]),
    (
        "the owner's project",
        upload(),
        Seen(owner_="alice"),
        Run,
        ["remembered", "ran", "settled", "check", "owner", "quota"],
    ),
]


@pytest.mark.parametrize(("case", "seen_upload", "seen", "kind", "asked"), CASES, ids=[c[0] for c in CASES])
def test_decide(case, seen_upload, seen, kind, asked):
    decision = decide(seen_upload, seen)
    assert type(decision) is kind and seen.asked == asked
    match decision:
        case Refuse(problem=problem, owner=owner):
            # a job row only in a project that exists and belongs to the user the manifest names
            assert owner == ("alice" if case == "invalid, the owner's" else None)
            assert problem in decision.log and (
                case != "another user's project" or "belongs to another user" in problem
            )
        case Reject(reason=reason):
            assert reason == "monthly limit of 1 reached"
        case Run(manifest=manifest):
            assert manifest == MANIFEST


def test_an_upload_names_its_partition_and_its_run():
    assert (upload().partition_key, upload().run_key, upload().remembered_as) == (
        "proj__job",
        "proj__job@d1",
        "proj/job@d1",
    )
