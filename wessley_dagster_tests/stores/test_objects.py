import os
import time
from pathlib import Path

import boto3
import httpx
import pytest

from wessley_dagster.resources.storage import S3Location
from wessley_dagster.stores.objects import FallbackStore, LocalFolderStore, S3Store
from wessley_dagster.stores.signing import SignatureError, UrlSigner


@pytest.fixture
def s3(s3_env) -> S3Store:
    client = boto3.client(
        "s3",
        endpoint_url=s3_env["S3_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return S3Store(client, s3_env["S3_BUCKET"], prefix="artifacts")


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_put_get_list_delete(kind, tmp_path: Path, request):
    store = LocalFolderStore(tmp_path) if kind == "local" else request.getfixturevalue("s3")
    stored = store.put("p/j/a.json", b"{}", "application/json")
    store.put("p/j/exports/b.ndjson", b"x\n", "application/x-ndjson")
    assert stored.size == 2 and stored.backend == kind
    assert store.get("p/j/a.json") == b"{}" and store.get("p/j/missing") is None
    listed = store.list("p/j/")
    assert [o.key for o in listed] == ["p/j/a.json", "p/j/exports/b.ndjson"]
    assert listed[1].content_type == "application/x-ndjson"
    assert [o.key for o in store.list("p/j/", start_after="p/j/a.json")] == ["p/j/exports/b.ndjson"]
    assert [o.key for o in store.list("p/", limit=1)] == ["p/j/a.json"]
    store.delete("p/j/a.json")
    assert [o.key for o in store.list("p/")] == ["p/j/exports/b.ndjson"]


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_a_streamed_write_spools_past_memory_and_lands_whole(kind, tmp_path: Path, request, monkeypatch):
    backend = LocalFolderStore(tmp_path / "objects") if kind == "local" else request.getfixturevalue("s3")
    store = FallbackStore([backend], spool_dir=tmp_path / "spool")
    monkeypatch.setattr(FallbackStore, "SPOOL_MEMORY", 1024)  # spools to a file after 1 kB
    chunks = [bytes([i]) * 3_000_000 for i in range(4)]  # 12 MB: a multipart upload on S3 (8 MB parts)
    spooled = []
    real_write = backend.put_file

    def put_file(key, file, content_type):
        spooled.append(Path(os.readlink(f"/proc/self/fd/{file.fileno()}")).parent)  # a file, not memory
        return real_write(key, file, content_type)

    monkeypatch.setattr(backend, "put_file", put_file)
    stored = store.put_stream("p/j/big.ndjson", iter(chunks), "application/x-ndjson")
    assert stored.size == 12_000_000 and store.get("p/j/big.ndjson") == b"".join(chunks)
    assert spooled == [tmp_path / "spool"] and list((tmp_path / "spool").iterdir()) == []  # under the home, gone


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_an_opened_object_is_a_seekable_file_and_a_remote_one_spools_under_the_home(kind, tmp_path: Path, request):
    backend = LocalFolderStore(tmp_path / "objects") if kind == "local" else request.getfixturevalue("s3")
    store = FallbackStore([backend], spool_dir=tmp_path / "spool")
    data = bytes(range(256)) * 40_000  # 10 MB
    store.put("p/j/big.f32", data, "application/octet-stream")
    assert store.open("p/j/missing.f32") is None
    with store.open("p/j/big.f32") as file:
        assert file.seek(0, 2) == len(data)
        file.seek(5_000_000)
        assert file.read(3) == data[5_000_000:5_000_003]
        held = Path(os.readlink(f"/proc/self/fd/{file.fileno()}"))
        # the local backend's own file; a remote object's anonymous copy under the spool folder
        assert held == tmp_path / "objects/p/j/big.f32" if kind == "local" else held.parent == tmp_path / "spool"
    assert list((tmp_path / "spool").glob("*")) == []


def test_a_streamed_write_falls_back_from_the_start(tmp_path: Path):
    dead = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=boto3.session.Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    store = FallbackStore([S3Store(dead, "bucket"), LocalFolderStore(tmp_path)], spool_dir=tmp_path / "spool")
    stored = store.put_stream("p/j/a.ndjson", (f"{i}\n".encode() for i in range(1000)), "application/x-ndjson")
    assert stored.backend == "local" and store.get("p/j/a.ndjson") == "".join(f"{i}\n" for i in range(1000)).encode()


def test_local_keys_cannot_escape_the_root(tmp_path: Path):
    with pytest.raises(ValueError, match="escapes"):
        LocalFolderStore(tmp_path / "root").put("../outside", b"x", "text/plain")


def test_fallback_reports_the_backend_that_took_the_object(tmp_path: Path, caplog):
    dead = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=boto3.session.Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    store = FallbackStore([S3Store(dead, "bucket"), LocalFolderStore(tmp_path)])
    stored = store.put("p/j/a.json", b"{}", "application/json")
    assert stored.backend == "local"
    assert store.get("p/j/a.json") == b"{}"
    assert any(r.getMessage().startswith("read p/j/a.json from local because s3: ") for r in caplog.records)
    with pytest.raises(RuntimeError, match=r"could not read p/j/other.json: s3: "):
        store.get("p/j/other.json")
    with store.open("p/j/a.json") as file:
        assert file.read() == b"{}"


def test_fallback_with_every_backend_down_fails_loudly():
    dead = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=boto3.session.Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(RuntimeError, match=r"no storage backend accepted p/j/a.json: s3: "):
        FallbackStore([S3Store(dead, "bucket")]).put("p/j/a.json", b"{}", "application/json")


def test_a_symlink_in_a_local_folder_is_never_an_object(tmp_path):
    secret = tmp_path / "outside.txt"
    secret.write_text("host file")
    root = tmp_path / "uploads"
    (root / "p" / "j").mkdir(parents=True)
    (root / "p" / "j" / "components.json").symlink_to(secret)
    (root / "p" / "j" / "netlist.json").write_text("{}")
    store = LocalFolderStore(root)
    assert [o.key for o in store.list("p/")] == ["p/j/netlist.json"]
    with pytest.raises(ValueError, match=r"escapes|symlink"):
        store.get("p/j/components.json")


def test_a_writer_killed_mid_write_leaves_nothing_under_the_final_key(tmp_path: Path):
    """The local store writes to a temporary name and renames: a reader never sees half an object."""
    import subprocess
    import sys
    import time

    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys; from pathlib import Path; from wessley_dagster.stores.objects import LocalFolderStore; "
                "LocalFolderStore(Path(sys.argv[1])).put('p/j/big.bin', b'x' * (1 << 30), 'application/octet-stream')"
            ),
            str(tmp_path),
        ]
    )
    partial = tmp_path / "p" / "j" / "big.bin.tmp"
    deadline = time.monotonic() + 60
    while not (partial.exists() and partial.stat().st_size > 0) and time.monotonic() < deadline:
        time.sleep(0.01)
    writer.kill()
    writer.wait()
    assert partial.exists() and partial.stat().st_size < 1 << 30  # killed mid-write
    store = LocalFolderStore(tmp_path)
    assert store.get("p/j/big.bin") is None and store.list("p/") == []
    store.put("p/j/big.bin", b"whole", "application/octet-stream")
    assert store.get("p/j/big.bin") == b"whole" and [o.key for o in store.list("p/")] == ["p/j/big.bin"]


def test_s3_presigned_urls_are_fetched_by_any_client_and_refused_after_expiry(s3proxy, monkeypatch):
    """On S3Proxy, which checks a presigned URL's signature and expiry as S3 and Supabase Storage
    do (moto serves expired URLs): the same S3Store serves both, by its configured endpoint."""
    monkeypatch.setenv("AWS_REQUEST_CHECKSUM_CALCULATION", "when_required")  # S3Proxy predates CRC headers
    location = S3Location(
        bucket="wessley-signed",
        prefix="artifacts",
        endpoint_url=s3proxy.url,
        region_name="us-east-1",
        aws_access_key_id=s3proxy.access_key,
        aws_secret_access_key=s3proxy.secret_key,
    )
    store = location.object_store("supabase-storage")
    store.client.create_bucket(Bucket="wessley-signed")
    store.put("p/j/exports/graph.graphml", b"<graphml/>", "application/graphml+xml")
    url = store.signed_url("p/j/exports/graph.graphml", 3)
    assert "X-Amz-Expires=3" in url and "/wessley-signed/artifacts/p/j/exports/graph.graphml" in url
    fetched = httpx.get(url)
    assert (fetched.status_code, fetched.content) == (200, b"<graphml/>")
    assert httpx.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0")).status_code == 403
    time.sleep(4)
    expired = httpx.get(url)
    assert expired.status_code == 403 and b"Request has expired" in expired.content


def test_local_signed_urls_name_the_object_and_its_expiry(tmp_path: Path):
    signer = UrlSigner(b"k" * 32, "http://api.example")
    store = LocalFolderStore(tmp_path, signer)
    store.put("p/j/a b.json", b"{}", "application/json")
    url = httpx.URL(store.signed_url("p/j/a b.json", 60))
    assert url.path == "/v1/artifacts/p/j/a b.json" and url.raw_path.startswith(b"/v1/artifacts/p/j/a%20b.json")
    expires, signature = int(url.params["expires"]), url.params["signature"]
    signer.verify("p/j/a b.json", expires, signature)
    for key, at, problem in (
        ("p/j/other.json", expires, "does not match"),
        ("p/j/a b.json", expires + 1, "does not"),
        ("p/j/a b.json", expires, "expired"),
    ):
        with pytest.raises(SignatureError, match=problem):
            signer.verify(key, at, signature, now=expires + 1 if problem == "expired" else None)
    with pytest.raises(ValueError, match="escapes"):
        store.signed_url("../outside", 60)
    with pytest.raises(ValueError, match="no URL signer"):
        LocalFolderStore(tmp_path).signed_url("p/j/a b.json", 60)
