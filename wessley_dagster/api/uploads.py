"""A bundle posted to the API: read from multipart files or a tar/zip body within the bundle
limits, validated whole, and only then written to the uploads location, manifest last (its
arrival tells the upload sensor the bundle is complete)."""

from __future__ import annotations

import bz2
import gzip
import io
import itertools
import lzma
import struct
import tarfile
import zipfile
import zlib
from collections.abc import AsyncIterator
from typing import IO

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from wessley_dagster.api.auth import Principal
from wessley_dagster.api.backends import Backends
from wessley_dagster.api.errors import ApiError
from wessley_dagster.domain.bundle import (
    BUNDLE_FILES,
    DEBUG_OVERLAY,
    MANIFEST,
    BundleError,
    BundleLimits,
    ValidatedUpload,
    validate_upload,
)

ALLOWED = (*BUNDLE_FILES, DEBUG_OVERLAY)
TAR_TYPES = ("application/x-tar", "application/gzip", "application/x-gzip", "application/tar+gzip")
ZIP_TYPES = ("application/zip",)
# What an archive may hold before anything in it is read further: a bundle is five files, perhaps
# in one folder; names are file names. An error shows a name's first characters only.
MAX_MEMBERS = 16
MAX_NAME_CHARS = 255
SHOWN_NAME_CHARS = 64
_EXTENDED_HEADERS = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.XGLTYPE)
_MAX_EXTENDED_BYTES = 4096  # a long name or PAX record: a path of MAX_NAME_CHARS and a few keys
# What a corrupt, truncated or encrypted archive raises from the standard library's readers.
_UNREADABLE = (
    tarfile.TarError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    OSError,
    RuntimeError,
    NotImplementedError,
)


def _shown(name: str) -> str:
    return repr(name if len(name) <= SHOWN_NAME_CHARS else name[:SHOWN_NAME_CHARS] + "…")


def _invalid(message: str) -> ApiError:
    return ApiError(422, "invalid_bundle", message)


def _name(path: str) -> str:
    """A member's bundle file name; a bundle may sit in one top-level folder of its archive."""
    _name_length(path)
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or len(parts) > 2 or ".." in parts or parts[-1] not in ALLOWED:
        raise _invalid(f"{_shown(path)}: not a bundle file (expected {', '.join(ALLOWED)})")
    return parts[-1]


def _add(files: dict[str, bytes], name: str, data: bytes) -> None:
    if name in files:
        raise _invalid(f"{name}: given twice")
    files[name] = data


def _too_large(name: str, limits: BundleLimits) -> ApiError:
    return ApiError(413, "too_large", f"{name}: larger than {limits.max_file_bytes} bytes (WESSLEY_MAX_FILE_MB)")


def _total(limits: BundleLimits) -> int:
    """The most an upload may hold, inflated or not: each allowed file at its limit."""
    return limits.max_file_bytes * len(ALLOWED)


def _decompressed(body: bytes) -> IO[bytes]:
    """The tar stream inside a gzip, bzip2 or xz body (or the body itself), read lazily."""
    raw = io.BytesIO(body)
    if body[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw)
    if body[:3] == b"BZh":
        return bz2.BZ2File(raw)
    if body[:6] == b"\xfd7zXZ\x00":
        return lzma.LZMAFile(raw)
    return raw


def _bounded_tar_info() -> type[tarfile.TarInfo]:
    """A tar header class whose long-name and PAX records are refused by their declared size and
    number, before a record is read: tarfile would read a 32 MB name whole, and follows a chain of
    global PAX headers (which are no members) one recursion level each. `_proc_member` is where
    tarfile hands each header to its type's reader: the one hook the module offers."""
    extended = itertools.count(1)

    class BoundedTarInfo(tarfile.TarInfo):
        def _proc_member(self, archive: tarfile.TarFile) -> tarfile.TarInfo:
            if self.type in _EXTENDED_HEADERS:
                if self.size > _MAX_EXTENDED_BYTES:
                    raise _invalid(f"a long-name or PAX record of {self.size} bytes (at most {_MAX_EXTENDED_BYTES})")
                if next(extended) > MAX_MEMBERS:
                    raise _invalid(f"more than {MAX_MEMBERS} long-name or PAX records")
            return super()._proc_member(archive)  # type: ignore[misc]

    return BoundedTarInfo


def _from_tar(body: bytes, limits: BundleLimits) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=_decompressed(body), mode="r|", tarinfo=_bounded_tar_info()) as archive:
            for count, member in enumerate(archive, start=1):
                if count > MAX_MEMBERS:
                    raise _invalid(f"more than {MAX_MEMBERS} archive members")
                if member.isdir():
                    _name_length(member.name)
                    continue
                name = _name(member.name)
                if not member.isreg():  # a link or device is never a bundle file
                    raise _invalid(f"{_shown(member.name)}: not a regular file")
                if member.size > limits.max_file_bytes:
                    raise _too_large(name, limits)
                extracted = archive.extractfile(member)
                _add(files, name, extracted.read() if extracted else b"")
    except _UNREADABLE as exc:
        raise _invalid(f"the body is not a readable tar archive: {_reason(exc)}") from None
    return files


def _name_length(path: str) -> None:
    if len(path) > MAX_NAME_CHARS:
        raise _invalid(f"{_shown(path)}: a member name longer than {MAX_NAME_CHARS} characters")


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}" if str(exc) else type(exc).__name__


def _zip_entries(body: bytes) -> None:
    """The member count a zip declares at its end, checked before its directory is parsed (a
    directory of 100,000 entries takes seconds to build); ZIP64 is refused, no bundle needs it."""
    end = body.rfind(b"PK\x05\x06", max(0, len(body) - 65_557))
    if end < 0 or len(body) < end + 22:
        raise _invalid("the body is not a readable zip archive: no end of central directory")
    entries, size = struct.unpack_from("<HI", body, end + 10)
    if entries == 0xFFFF or b"PK\x06\x07" in body[max(0, end - 20) : end]:
        raise _invalid("ZIP64 archives are not accepted")
    if entries > MAX_MEMBERS:
        raise _invalid(f"more than {MAX_MEMBERS} archive members ({entries})")
    if size > MAX_MEMBERS * (46 + MAX_NAME_CHARS + 2 * 0xFFFF):
        raise _invalid(f"a central directory of {size} bytes")


def _from_zip(body: bytes, limits: BundleLimits) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    _zip_entries(body)
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    _name_length(info.filename)
                    continue
                name = _name(info.filename)
                if info.flag_bits & 0x1:
                    raise _invalid(f"{name}: encrypted")
                if info.file_size > limits.max_file_bytes:  # checked before inflating anything
                    raise _too_large(name, limits)
                with archive.open(info) as member:
                    data = member.read(limits.max_file_bytes + 1)
                if len(data) > limits.max_file_bytes:
                    raise _too_large(name, limits)
                _add(files, name, data)
    except _UNREADABLE as exc:
        raise _invalid(f"the body is not a readable zip archive: {_reason(exc)}") from None
    return files


async def _counted(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The body as it arrives, refused once past `limit` whatever Content-Length said (or when
    it said nothing: a chunked body)."""
    seen = 0
    async for piece in request.stream():
        seen += len(piece)
        if seen > limit:
            raise ApiError(413, "too_large", f"the upload is larger than {limit} bytes")
        yield piece


async def _from_multipart(request: Request, limits: BundleLimits) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    parser = MultiPartParser(
        request.headers,
        _counted(request, _total(limits)),
        max_files=len(ALLOWED),
        max_fields=0,
        max_part_size=limits.max_file_bytes,
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise _invalid(f"the multipart body is not readable: {exc.message}") from None
    try:
        for _, value in form.multi_items():
            if not isinstance(value, UploadFile) or not value.filename:
                raise _invalid("every form part must be a file")
            name = _name(value.filename)
            data = await value.read(limits.max_file_bytes + 1)
            if len(data) > limits.max_file_bytes:
                raise _too_large(name, limits)
            _add(files, name, data)
    finally:
        await form.close()
    return files


async def read_upload(request: Request, limits: BundleLimits) -> dict[str, bytes]:
    """The posted bundle's files by name, each within the size limit. Archives are parsed in a
    worker thread, so that refusing the worst of them never stalls the event loop."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _total(limits):  # refused before a byte is read
        raise ApiError(413, "too_large", f"the upload is larger than {_total(limits)} bytes")
    if kind == "multipart/form-data":
        return await _from_multipart(request, limits)
    if kind in TAR_TYPES or kind in ZIP_TYPES:
        body = bytearray()
        async for piece in _counted(request, _total(limits)):
            body += piece
        reader = _from_zip if kind in ZIP_TYPES else _from_tar
        return await run_in_threadpool(reader, bytes(body), limits)
    raise ApiError(
        415,
        "unsupported_media_type",
        "post multipart/form-data files, or one application/x-tar, application/gzip or application/zip body",
    )


def store_upload(files: dict[str, bytes], project_id: str, who: Principal, live: Backends) -> ValidatedUpload:
    """Validate, check who may upload there, then write; an invalid upload writes nothing."""
    upload = validate_upload(files.get, None, live.limits)
    manifest = upload.manifest
    if manifest.project_id != project_id:
        raise BundleError(MANIFEST, "$.project_id", f"names {manifest.project_id!r}, not this URL's {project_id!r}")
    if not who.service and manifest.user_id != who.user_id:
        raise BundleError(MANIFEST, "$.user_id", "must be the signed-in user")
    # The project is claimed for the upload's user before 202, so that no other user's upload can
    # take it over before the sensor creates it; another user's project answers as if absent.
    if live.metadata.claim_project(project_id, manifest.user_id, live.claim_ttl) != manifest.user_id:
        raise ApiError(404, "not_found", f"no project {project_id!r}")
    folder = f"{project_id}/{manifest.job_id}/"
    # The folder is incomplete (no manifest) while it changes, so the sensor never reads a mix of
    # two uploads; no file of the last upload stays.
    live.uploads.delete(f"{folder}{MANIFEST}")
    for name in files:
        if name != MANIFEST:
            live.uploads.put(f"{folder}{name}", files[name], "application/octet-stream")
    for stale in live.uploads.list(folder):
        if stale.key.rsplit("/", 1)[-1] not in files:
            live.uploads.delete(stale.key)
    live.uploads.put(f"{folder}{MANIFEST}", files[MANIFEST], "application/json")
    return upload
