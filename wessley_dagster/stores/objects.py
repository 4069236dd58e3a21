"""Object storage for artifacts and uploads: a local folder, or an S3 bucket (AWS, MinIO, or
Supabase Storage's S3 endpoint) through a boto3 client. `FallbackStore` tries its backends in
order and reports which one took each object.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

from wessley_dagster.stores.signing import UrlSigner

log = logging.getLogger(__name__)
_Read = TypeVar("_Read")
mimetypes.add_type("application/x-ndjson", ".ndjson")
mimetypes.add_type("application/graphml+xml", ".graphml")


def content_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


@dataclass(frozen=True)
class StoredObject:
    key: str
    url: str
    backend: str
    size: int


@dataclass(frozen=True)
class ListedObject:
    key: str
    size: int
    last_modified: datetime
    etag: str
    url: str
    backend: str

    @property
    def content_type(self) -> str:
        return content_type(self.key)


def upload_digest(files: Iterable[ListedObject]) -> str:
    """One upload's identity: a digest of every file's name, ETag and size (not its timestamp, so
    a copy that keeps its mtime, or a file that arrives after the manifest, makes a new upload)."""
    digest = hashlib.sha256()
    for obj in sorted(files, key=lambda o: o.key):
        digest.update(f"{obj.key.rsplit('/', 1)[-1]}\x1f{obj.etag}\x1f{obj.size}\x1e".encode())
    return digest.hexdigest()[:24]


class ObjectStore(Protocol):
    name: str

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject: ...

    def put_file(self, key: str, file: IO[bytes], content_type: str) -> StoredObject:
        """The object read from `file` (from its current position) in bounded memory."""
        ...

    def get(self, key: str) -> bytes | None: ...

    def open(self, key: str, spool: Callable[[], IO[bytes]]) -> IO[bytes] | None:
        """The object as a seekable file, read in bounded memory: a local object's own file, a
        remote one copied into `spool()`."""
        ...

    def delete(self, key: str) -> None: ...

    def list(self, prefix: str, start_after: str = "", limit: int | None = None) -> list[ListedObject]:
        """Objects under prefix in key order: those after `start_after`, at most `limit` of them."""
        ...

    def signed_url(self, key: str, expires_in: int) -> str:
        """A URL any HTTP client can GET the object from until `expires_in` seconds from now."""
        ...


class LocalFolderStore:
    name = "local"

    def __init__(self, root: Path, signer: UrlSigner | None = None) -> None:
        self.root, self.signer = root, signer

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"object key {key!r} escapes {self.root}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        return self._write(key, lambda out: out.write(data))

    def put_file(self, key: str, file: IO[bytes], content_type: str) -> StoredObject:
        return self._write(key, lambda out: shutil.copyfileobj(file, out))

    def _write(self, key: str, write: Callable[[IO[bytes]], object]) -> StoredObject:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        try:
            with tmp.open("wb") as out:
                write(out)
                size = out.tell()
            tmp.replace(path)  # atomic: a reader never sees half a file
        except OSError:
            if tmp.exists():  # a full or failing disk leaves no partial object behind
                tmp.unlink()
            raise
        return StoredObject(key, path.as_uri(), self.name, size)

    def _existing(self, key: str) -> Path | None:
        path = self._path(key)
        if (self.root / key).is_symlink():
            raise ValueError(f"object key {key!r} is a symlink, not an object")
        return path if path.is_file() else None

    def get(self, key: str) -> bytes | None:
        path = self._existing(key)
        return None if path is None else path.read_bytes()

    def open(self, key: str, spool: Callable[[], IO[bytes]]) -> IO[bytes] | None:
        path = self._existing(key)
        return None if path is None else path.open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str, start_after: str = "", limit: int | None = None) -> list[ListedObject]:
        base = self.root / prefix
        if not base.exists():
            return []
        paths: Iterator[Path] = base.rglob("*") if base.is_dir() else iter([base])
        root = self.root.resolve()
        out = []
        for path in paths:
            # A symlink is never an object: in an upload folder it could point anywhere on the host.
            if path.is_symlink() or not path.resolve().is_relative_to(root):
                continue
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and not path.name.endswith(".tmp") and key > start_after:
                stat = path.stat()
                modified = datetime.fromtimestamp(stat.st_mtime, UTC)
                etag = f"{stat.st_size}-{stat.st_mtime_ns}"
                out.append(ListedObject(key, stat.st_size, modified, etag, path.as_uri(), self.name))
        return _first(out, limit)

    def signed_url(self, key: str, expires_in: int) -> str:
        if self.signer is None:
            raise ValueError("this local folder has no URL signer (the read API serves its signed URLs)")
        # A key that could leave the folder is never signed; checked by its parts, as signing reads
        # no file (serving it resolves the path again).
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"object key {key!r} escapes {self.root}")
        return self.signer.url(key, expires_in)


class _KeepOpen:
    """A file whose `close` leaves it open: its owner closes it."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)

    def close(self) -> None:
        return None


class S3Store:
    """`presigner` makes the client that signs GET URLs, when the first is asked for (most stores
    never sign one); by default the client itself signs."""

    def __init__(
        self, client: Any, bucket: str, prefix: str = "", name: str = "s3", presigner: Callable[[], Any] | None = None
    ) -> None:
        self.client, self.bucket, self.prefix, self.name = client, bucket, prefix.strip("/"), name
        self._make_presigner = presigner or (lambda: client)

    @cached_property
    def _presigner(self) -> Any:
        return self._make_presigner()

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)
        return StoredObject(key, f"s3://{self.bucket}/{self._key(key)}", self.name, len(data))

    def put_file(self, key: str, file: IO[bytes], content_type: str) -> StoredObject:
        start = file.tell()
        # boto3's managed transfer: parts of 8 MB (a multipart upload beyond one), never the whole
        # file in memory. It closes the file it is given, even on failure: a fallback reads it again.
        kept = _KeepOpen(file)
        self.client.upload_fileobj(kept, self.bucket, self._key(key), ExtraArgs={"ContentType": content_type})
        return StoredObject(key, f"s3://{self.bucket}/{self._key(key)}", self.name, file.seek(0, 2) - start)

    def _body(self, key: str) -> Any:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except self.client.exceptions.NoSuchKey:
            return None

    def get(self, key: str) -> bytes | None:
        body = self._body(key)
        return None if body is None else body.read()

    def open(self, key: str, spool: Callable[[], IO[bytes]]) -> IO[bytes] | None:
        body = self._body(key)
        if body is None:
            return None
        file = spool()
        try:
            shutil.copyfileobj(body, file)
        except BaseException:
            file.close()
            raise
        file.seek(0)
        return file

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def signed_url(self, key: str, expires_in: int) -> str:
        return self._presigner.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._key(key)}, ExpiresIn=expires_in
        )

    def list(self, prefix: str, start_after: str = "", limit: int | None = None) -> list[ListedObject]:
        """ListObjectsV2 pages (1,000 keys each) from `StartAfter`, stopping once `limit` keys are read."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self._key(prefix)}
        if start_after:
            params["StartAfter"] = self._key(start_after)
        if limit is not None:
            params["PaginationConfig"] = {"MaxItems": limit}
        strip = len(self.prefix) + 1 if self.prefix else 0
        return [
            ListedObject(
                o["Key"][strip:],
                o["Size"],
                o["LastModified"],
                o.get("ETag", "").strip('"'),  # S3 always sends one; some compatible servers do not
                f"s3://{self.bucket}/{o['Key']}",
                self.name,
            )
            for page in self.client.get_paginator("list_objects_v2").paginate(**params)
            for o in page.get("Contents", [])
        ]


class FallbackStore:
    """Writes go to the first backend that accepts them; reads look in each, in order. A streamed
    write is spooled to a temporary file under `spool_dir` (in memory up to `SPOOL_MEMORY`), so
    that a fallback backend can read it again from the start."""

    SPOOL_MEMORY = 8 * 2**20

    def __init__(self, backends: Sequence[ObjectStore], spool_dir: Path | None = None) -> None:
        if not backends:
            raise ValueError("at least one storage backend is needed")
        self.backends = list(backends)
        self.name = "+".join(b.name for b in backends)
        self.spool_dir = spool_dir

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        return self._put(key, lambda backend: backend.put(key, data, content_type))

    def put_stream(self, key: str, chunks: Iterable[bytes], content_type: str) -> StoredObject:
        """The object made of `chunks`, written as they come: never the whole object in memory."""
        if self.spool_dir is not None:
            self.spool_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.SpooledTemporaryFile(self.SPOOL_MEMORY, dir=self.spool_dir) as spool:
            for chunk in chunks:
                spool.write(chunk)

            def put(backend: ObjectStore) -> StoredObject:
                spool.seek(0)
                return backend.put_file(key, spool, content_type)  # type: ignore[arg-type]

            return self._put(key, put)

    def _put(self, key: str, put: Callable[[ObjectStore], StoredObject]) -> StoredObject:
        errors, last = [], None
        for backend in self.backends:
            try:
                return put(backend)
            except Exception as exc:  # the next backend is the fallback; all failing raises below
                log.warning("storage backend %s refused %s: %s", backend.name, key, exc)
                errors.append(f"{backend.name}: {exc}")
                last = exc
        # Chained to the last cause, so that a retry policy can tell a network error from a full disk.
        raise RuntimeError(f"no storage backend accepted {key}: " + "; ".join(errors)) from last

    def get(self, key: str) -> bytes | None:
        return self._read(key, lambda backend: backend.get(key))

    def open(self, key: str) -> IO[bytes] | None:
        """The object as a seekable file, never whole in memory: a remote object is copied into
        an anonymous temporary file under `spool_dir`, gone when the file is closed."""
        return self._read(key, lambda backend: backend.open(key, self._spool))

    def _spool(self) -> IO[bytes]:
        if self.spool_dir is not None:
            self.spool_dir.mkdir(parents=True, exist_ok=True)
        return tempfile.TemporaryFile(dir=self.spool_dir)

    def _read(self, key: str, read: Callable[[ObjectStore], _Read | None]) -> _Read | None:
        """What `read` gives from the first backend that has the object; a backend that is down
        is only tolerated when a later one has it (it may have been the fallback on write)."""
        errors, last = [], None
        for backend in self.backends:
            try:
                found = read(backend)
            except Exception as exc:  # reported below unless a later backend has the object
                errors.append(f"{backend.name}: {exc}")
                last = exc
                continue
            if found is not None:
                if errors:  # a fallback copy may be older than the one the failing backend holds
                    log.warning("read %s from %s because %s", key, backend.name, "; ".join(errors))
                return found
        if errors:
            raise RuntimeError(f"could not read {key}: " + "; ".join(errors)) from last
        return None

    def delete(self, key: str) -> None:
        for backend in self.backends:
            backend.delete(key)

    def backend(self, name: str) -> ObjectStore:
        """The backend an artifact's registry row names."""
        for backend in self.backends:
            if backend.name == name:
                return backend
        raise LookupError(f"storage backend {name!r} is not configured here (have: {self.name})")

    def list(self, prefix: str, start_after: str = "", limit: int | None = None) -> list[ListedObject]:
        seen: dict[str, ListedObject] = {}
        for backend in self.backends:
            for obj in backend.list(prefix, start_after, limit):
                seen.setdefault(obj.key, obj)
        return _first(list(seen.values()), limit)


def _first(objects: list[ListedObject], limit: int | None) -> list[ListedObject]:
    """The first `limit` objects in key order (S3's order: UTF-8 bytes)."""
    ordered = sorted(objects, key=lambda o: o.key.encode())
    return ordered if limit is None else ordered[:limit]
