"""The read API as an attacker meets it: hostile archives, bodies without a length, uploads that
try to take over another user's pending project, tokens for another audience, signed URLs that
leave the folder and graph walks of any depth, each through a live `wessley-dagster serve` on an
embedded home. Every case asserts its status, that nothing was written, and the bound in time or
memory where that is the point."""

from __future__ import annotations

import bz2
import io
import json
import lzma
import struct
import tarfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from dagster import instance_for_test

from wessley_dagster.api.auth import issue_token
from wessley_dagster.api.uploads import MAX_MEMBERS, SHOWN_NAME_CHARS
from wessley_dagster.stores.signing import UrlSigner, home_secret
from wessley_dagster_tests.conftest import SYNTHETIC, add_partitions, home_env, resources_for, stage_bundle, uploads_dir
from wessley_dagster_tests.servers import ApiServer
from wessley_dagster_tests.test_pipeline import run

SECRET = "hostile-test-jwt-secret-with-at-least-32-bytes"
# Fixed ids (uuid5 of a name): test ids must be the same in every xdist worker's collection.
ALICE, BOB = (str(uuid.uuid5(uuid.NAMESPACE_URL, f"wessley-test/{name}")) for name in ("alice", "bob"))
MAX_FILE_MB = 1
TOTAL = MAX_FILE_MB * 2**20 * 5  # the upload limit: each of the five allowed files at its limit


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, arcadedb: Any) -> dict[str, str]:
    """Alice's project `pa` with job `j1` ingested; nothing else."""
    env = home_env(tmp_path_factory.mktemp("hostile") / "home", arcadedb)
    env |= {"SUPABASE_JWT_SECRET": SECRET, "WESSLEY_MAX_FILE_MB": str(MAX_FILE_MB)}
    with instance_for_test() as instance:
        key = stage_bundle(SYNTHETIC, uploads_dir(env), "pa", "j1", user_id=ALICE)
        add_partitions(instance, key)
        assert run(key, resources_for(env), instance).success
    return env


@pytest.fixture(scope="module")
def api(home: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    server = ApiServer(home, tmp_path_factory.mktemp("hostile-log") / "api.log").start()
    yield server
    server.stop()


def bearer(user: str | None, **claims: Any) -> dict[str, str]:
    if not claims:
        return {"Authorization": f"Bearer {issue_token(SECRET.encode(), user)}"}
    now = int(time.time())
    body = {"role": "authenticated", "sub": user, "iat": now, "exp": now + 600} | claims
    return {"Authorization": f"Bearer {jwt.encode({k: v for k, v in body.items() if v is not None}, SECRET)}"}


def written(home: dict[str, str]) -> list[Path]:
    return sorted(uploads_dir(home).rglob("*"))


def peak_rss(api: ApiServer) -> int:
    """The server process's peak resident memory so far, in bytes (VmHWM)."""
    assert api.process is not None
    status = Path(f"/proc/{api.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) * 1024


# --- archives ----------------------------------------------------------------------------------


def tar_of(*members: tarfile.TarInfo | tuple[str, bytes], fmt: int = tarfile.GNU_FORMAT) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as archive:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                archive.addfile(member)
            else:
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                archive.addfile(info, io.BytesIO(member[1]))
    return out.getvalue()


def special(name: str, kind: bytes, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


def gz(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data, compresslevel=9)


def zip_of(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


def zip_with_flags(flag: int = 0, method: int | None = None, garble: bool = False) -> bytes:
    """A one-member zip altered in place: a flag bit set, a compression method named, its data garbled."""
    body = bytearray(zip_of([("manifest.json", b'{"project_id": "pa"}' * 20)]))
    central = body.find(b"PK\x01\x02")
    body[6] |= flag
    body[central + 8] |= flag
    if method is not None:
        struct.pack_into("<H", body, 8, method)
        struct.pack_into("<H", body, central + 10, method)
    if garble:
        start = 30 + len("manifest.json")
        body[start : start + 8] = b"\xff" * 8
    return bytes(body)


def zip_of_dirs(count: int) -> bytes:
    return zip_of([(f"d{i}/", b"") for i in range(count)], zipfile.ZIP_STORED)


def half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def zip64_claimed() -> bytes:
    """A small zip whose end record says 0xFFFF entries, as a ZIP64 archive's does."""
    body = bytearray(zip_of([("manifest.json", b"{}")]))
    struct.pack_into("<HH", body, body.rfind(b"PK\x05\x06") + 8, 0xFFFF, 0xFFFF)
    return bytes(body)


GOOD_TAR = tar_of(("manifest.json", b"{}"))
# Global PAX headers are no members: 20,000 of them (70 MB inflated, 160 KB sent) count only as bytes.
GLOBAL_HEADER = tarfile.TarInfo.create_pax_global_header({"comment": "x" * 3000})
ARCHIVES: dict[str, tuple[str, Callable[[], bytes], int, str]] = {
    # name: (content type, body, status, what the message says)
    "gnu-long-name-32MB": ("application/gzip", lambda: gz(tar_of(("a" * 32_000_000, b"x"))), 422, "long-name or PAX"),
    "pax-path-32MB": (
        "application/gzip",
        lambda: gz(tar_of(("p" * 32_000_000, b"x"), fmt=tarfile.PAX_FORMAT)),
        422,
        "long-name or PAX",
    ),
    "gnu-long-link-32MB": (
        "application/gzip",
        lambda: gz(tar_of(special("l", tarfile.SYMTYPE, "t" * 32_000_000))),
        422,
        "long-name or PAX",
    ),
    "name-of-300-chars": (
        "application/x-tar",
        lambda: tar_of(("n" * 300, b"x"), fmt=tarfile.PAX_FORMAT),
        422,
        "longer than 255",
    ),
    "200k-directories": (
        "application/gzip",
        lambda: gz(tar_of(*(special(f"d{i}/", tarfile.DIRTYPE) for i in range(200_000)))),
        422,
        f"more than {MAX_MEMBERS} archive members",
    ),
    "17-members": (
        "application/x-tar",
        lambda: tar_of(*(special(f"f{i}/", tarfile.DIRTYPE) for i in range(16)), ("manifest.json", b"{}")),
        422,
        f"more than {MAX_MEMBERS}",
    ),
    "zip-20k-directories": ("application/zip", lambda: zip_of_dirs(20_000), 422, f"more than {MAX_MEMBERS}"),
    "zip64-end-record": ("application/zip", lambda: zip64_claimed(), 422, "ZIP64"),
    "truncated-gzip": ("application/gzip", lambda: half(gz(GOOD_TAR)), 422, "not a readable tar archive"),
    "corrupt-bzip2": ("application/x-tar", lambda: b"BZh9" + bytes(200), 422, "not a readable tar archive"),
    "truncated-bzip2": ("application/x-tar", lambda: half(bz2.compress(GOOD_TAR)), 422, "not a readable tar"),
    "corrupt-xz": ("application/x-tar", lambda: b"\xfd7zXZ\x00" + b"\x01" * 200, 422, "not a readable tar archive"),
    "truncated-xz": ("application/x-tar", lambda: half(lzma.compress(GOOD_TAR)), 422, "not a readable tar"),
    "random-bytes-as-gzip": ("application/gzip", lambda: b"\x1f\x8b" + bytes(range(256)) * 4, 422, "not a readable"),
    "empty-tar": ("application/x-tar", lambda: b"", 422, "not a readable tar archive"),
    "zip-corrupt-deflate": ("application/zip", lambda: zip_with_flags(garble=True), 422, "not a readable zip"),
    "zip-encrypted-member": ("application/zip", lambda: zip_with_flags(flag=1), 422, "encrypted"),
    "zip-unknown-method": ("application/zip", lambda: zip_with_flags(method=99), 422, "not a readable zip"),
    "zip-no-directory": ("application/zip", lambda: b"PK\x03\x04" + bytes(100), 422, "no end of central directory"),
    "symlink-member": (
        "application/x-tar",
        lambda: tar_of(special("manifest.json", tarfile.SYMTYPE, "/etc/passwd")),
        422,
        "not a regular file",
    ),
    "hardlink-member": (
        "application/x-tar",
        lambda: tar_of(special("manifest.json", tarfile.LNKTYPE, "x")),
        422,
        "not a regular file",
    ),
    "device-member": (
        "application/x-tar",
        lambda: tar_of(special("manifest.json", tarfile.CHRTYPE)),
        422,
        "not a regular file",
    ),
    "traversal-member": ("application/x-tar", lambda: tar_of(("../manifest.json", b"{}")), 422, "not a bundle file"),
    "zip-traversal-member": (
        "application/zip",
        lambda: zip_of([("../../manifest.json", b"{}")]),
        422,
        "not a bundle file",
    ),
    "duplicate-member": (
        "application/x-tar",
        lambda: tar_of(("manifest.json", b"{}"), ("b/manifest.json", b"{}")),
        422,
        "given twice",
    ),
    "pax-global-header-flood": (
        "application/gzip",
        lambda: gz(GLOBAL_HEADER * 20_000),
        422,
        "more than 16 long-name or PAX records",
    ),
    "member-over-the-file-limit": (
        "application/gzip",
        lambda: gz(tar_of(("components.json", bytes(2 * 2**20)))),
        413,
        "components.json: larger than",
    ),
    "zip-bomb-member": (
        "application/zip",
        lambda: zip_of([("components.json", bytes(8 * 2**20))]),
        413,
        "components.json: larger than",
    ),
}


@pytest.mark.parametrize("case", list(ARCHIVES), ids=list(ARCHIVES))
def test_a_hostile_archive_is_refused_with_its_reason_and_writes_nothing(api, home, case):
    kind, body, status, says = ARCHIVES[case]
    before = written(home)
    response = httpx.post(
        f"{api.url}/v1/projects/pa/ingestions",
        content=body(),
        headers={**bearer(ALICE), "Content-Type": kind},
        timeout=30,
    )
    assert response.status_code == status, response.text
    message = response.json()["error"]["message"]
    assert says in message
    assert len(response.content) < 1000 and "aaaa" * (SHOWN_NAME_CHARS // 4 + 1) not in message  # a prefix only
    assert written(home) == before


def test_healthz_answers_while_the_worst_archives_are_refused(api):
    """Archives are parsed off the event loop: /healthz keeps answering within a second."""
    bodies = [ARCHIVES["200k-directories"][1](), ARCHIVES["zip-20k-directories"][1]()]
    kinds = ["application/gzip", "application/zip"]
    stop, slowest = threading.Event(), [0.0]

    def hammer() -> None:
        for body, kind in zip(bodies * 3, kinds * 3, strict=True):
            httpx.post(
                f"{api.url}/v1/projects/pa/ingestions",
                content=body,
                headers={**bearer(ALICE), "Content-Type": kind},
                timeout=60,
            )
        stop.set()

    worker = threading.Thread(target=hammer)
    worker.start()
    while not stop.is_set():
        started = time.perf_counter()
        assert httpx.get(f"{api.url}/healthz", timeout=5).status_code in (200, 503)
        slowest[0] = max(slowest[0], time.perf_counter() - started)
    worker.join()
    assert slowest[0] < 1.0


def test_memory_while_refusing_stays_within_twice_the_upload_limit(api):
    before = peak_rss(api)
    for case in ("gnu-long-name-32MB", "pax-path-32MB", "pax-global-header-flood", "member-over-the-file-limit"):
        kind, body, status, _ = ARCHIVES[case]
        response = httpx.post(
            f"{api.url}/v1/projects/pa/ingestions",
            content=body(),
            headers={**bearer(ALICE), "Content-Type": kind},
            timeout=30,
        )
        assert response.status_code == status
    assert peak_rss(api) - before <= 2 * TOTAL


# --- bodies without a length -------------------------------------------------------------------


def chunked(head: bytes, size: int, tail: bytes = b"") -> Iterator[bytes]:
    """A body sent in chunks with no Content-Length, `size` bytes of zeros between head and tail."""
    yield head
    piece = bytes(2**20)
    for _ in range(size // len(piece)):
        yield piece
    yield tail


@pytest.mark.parametrize("kind", ["multipart/form-data; boundary=xyz", "application/x-tar", "application/zip"])
def test_a_body_without_a_length_is_counted_as_it_arrives(api, home, kind):
    before, rss = written(home), peak_rss(api)
    head = b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="components.json"\r\n\r\n'
    body = chunked(head if kind.startswith("multipart") else b"", 60 * 2**20, b"\r\n--xyz--\r\n")
    response = httpx.post(
        f"{api.url}/v1/projects/pa/ingestions",
        content=body,
        headers={**bearer(ALICE), "Content-Type": kind},
        timeout=60,
    )
    assert response.status_code == 413, response.text
    assert "larger than" in response.json()["error"]["message"]
    assert written(home) == before and peak_rss(api) - rss <= 2 * TOTAL


# --- uploads nobody else can take over ---------------------------------------------------------


def bundle(project: str, job: str, user: str) -> list[tuple[str, tuple[str, bytes]]]:
    files = {p.name: p.read_bytes() for p in SYNTHETIC.iterdir()}
    manifest = json.loads(files["manifest.json"]) | {"project_id": project, "job_id": job, "user_id": user}
    files["manifest.json"] = json.dumps(manifest).encode()
    return [("files", (name, data)) for name, data in files.items()]


def upload(api: ApiServer, project: str, job: str, user: str) -> httpx.Response:
    return httpx.post(
        f"{api.url}/v1/projects/{project}/ingestions",
        files=bundle(project, job, user),
        headers=bearer(user),
        timeout=30,
    )


def test_a_pending_upload_is_claimed_for_its_user_and_nobody_else_can_take_it(api, home):
    assert upload(api, "pending", "j1", ALICE).status_code == 202
    mine = {p.name: p.read_bytes() for p in (uploads_dir(home) / "pending" / "j1").iterdir()}
    taken = upload(api, "pending", "j1", BOB)  # before the sensor ever ran
    assert taken.status_code == 404 and "no project 'pending'" in taken.json()["error"]["message"]
    assert upload(api, "pending", "j2", BOB).status_code == 404  # another job of the same project too
    assert {p.name: p.read_bytes() for p in (uploads_dir(home) / "pending" / "j1").iterdir()} == mine
    assert not (uploads_dir(home) / "pending" / "j2").exists()
    assert upload(api, "pending", "j2", ALICE).status_code == 202  # the claimant goes on


def test_of_two_users_uploading_one_new_project_at_once_exactly_one_wins(api, home):
    barrier = threading.Barrier(2)

    def post(user: str) -> int:
        barrier.wait()
        return upload(api, "contested", "j1", user).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(post, [ALICE, BOB]))
    assert statuses == [202, 404]
    manifest = json.loads((uploads_dir(home) / "contested" / "j1" / "manifest.json").read_bytes())
    winner = manifest["user_id"]
    assert httpx.get(f"{api.url}/v1/projects/contested/ingestions", headers=bearer(winner)).status_code != 404


# --- tokens ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ({"aud": "authenticated"}, 200),
        ({"aud": ["other", "authenticated"]}, 200),
        ({"aud": "other-api"}, 401),
        ({"aud": None}, 401),  # no audience at all
        ({"aud": "authenticated", "exp": int(time.time()) - 10}, 401),
        ({"aud": "authenticated", "role": "anon"}, 403),
    ],
    ids=["supabase-audience", "audience-among-several", "another-audience", "no-audience", "expired", "anon-role"],
)
def test_a_user_token_must_carry_supabases_audience(api, claims, status):
    response = httpx.get(f"{api.url}/v1/ingestions/j1", headers=bearer(ALICE, **claims), timeout=30)
    assert response.status_code == status, response.text


def test_the_service_role_needs_no_audience(api):
    assert (
        httpx.get(f"{api.url}/v1/ingestions/j1", params={"project_id": "pa"}, headers=bearer(None)).status_code == 200
    )


# --- signed URLs -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["../metadata.db", "pa/../../jwt.secret", "/etc/passwd", "pa/j1/../../../x"])
def test_a_signed_url_for_a_key_outside_the_folder_is_not_found(api, home, key):
    """Even signed with the home's own key (as a leaked secret would let anyone), a key that leaves
    the artifacts folder finds nothing."""
    signer = UrlSigner(home_secret(Path(home["WESSLEY_HOME"]) / "signing.key"), api.url)
    url = signer.url(key, 60).replace(".", "%2E").replace("127%2E0%2E0%2E1", "127.0.0.1")  # no client folds ".."
    response = httpx.get(url, timeout=30)
    assert response.status_code in (403, 404), response.text
    assert b"Traceback" not in response.content and home["WESSLEY_HOME"].encode() not in response.content


# --- graph walks -------------------------------------------------------------------------------


def test_a_graph_walk_costs_the_same_at_any_depth(api):
    params = {"job_id": "j1"}
    one = httpx.get(
        f"{api.url}/v1/projects/pa/components/K3/reach", params=params | {"hops": 1}, headers=bearer(ALICE), timeout=30
    )
    started = time.perf_counter()
    ten = httpx.get(
        f"{api.url}/v1/projects/pa/components/K3/reach", params=params | {"hops": 10}, headers=bearer(ALICE), timeout=30
    )
    assert ten.status_code == 200 and time.perf_counter() - started < 1.0
    near = {r["component_id"] for r in one.json()}
    far = {r["component_id"]: r["hops"] for r in ten.json()}
    assert near and near <= set(far) and all(far[c] == 1 for c in near) and max(far.values()) > 1
    too_deep = httpx.get(
        f"{api.url}/v1/projects/pa/components/K3/reach", params=params | {"hops": 11}, headers=bearer(ALICE)
    )
    assert too_deep.status_code == 422


def test_a_client_that_leaves_a_walk_does_not_stall_the_server(api):
    with pytest.raises(httpx.TimeoutException):
        httpx.get(
            f"{api.url}/v1/projects/pa/components/K3/reach",
            params={"job_id": "j1", "hops": 10},
            headers=bearer(ALICE),
            timeout=0.001,
        )
    assert httpx.get(f"{api.url}/healthz", timeout=5).status_code in (200, 503)
