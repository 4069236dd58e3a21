"""A bundle posted to the API: read from multipart files or a tar/zip body within the bundle
limits, validated whole, and only then written to the uploads location, manifest last (its
arrival tells the upload sensor the bundle is complete)."""

from __future__ import annotations

import io
import tarfile
import zipfile

from fastapi import Request
from starlette.datastructures import UploadFile

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


def _name(path: str) -> str:
    """A member's bundle file name; a bundle may sit in one top-level folder of its archive."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or len(parts) > 2 or ".." in parts or parts[-1] not in ALLOWED:
        raise ApiError(422, "invalid_bundle", f"{path!r}: not a bundle file (expected {', '.join(ALLOWED)})")
    return parts[-1]


def _add(files: dict[str, bytes], name: str, data: bytes) -> None:
    if name in files:
        raise ApiError(422, "invalid_bundle", f"{name}: given twice")
    files[name] = data


def _too_large(name: str, limits: BundleLimits) -> ApiError:
    return ApiError(413, "too_large", f"{name}: larger than {limits.max_file_bytes} bytes (WESSLEY_MAX_FILE_MB)")


def _from_tar(body: bytes, limits: BundleLimits) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as archive:
            for member in archive:
                if member.isdir():
                    continue
                name = _name(member.name)
                if not member.isreg():  # a link or device is never a bundle file
                    raise ApiError(422, "invalid_bundle", f"{member.name!r}: not a regular file")
                if member.size > limits.max_file_bytes:
                    raise _too_large(name, limits)
                extracted = archive.extractfile(member)
                _add(files, name, extracted.read() if extracted else b"")
    except tarfile.TarError as exc:
        raise ApiError(422, "invalid_bundle", f"the body is not a readable tar archive: {exc}") from None
    return files


def _from_zip(body: bytes, limits: BundleLimits) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                name = _name(info.filename)
                if info.file_size > limits.max_file_bytes:  # checked before inflating anything
                    raise _too_large(name, limits)
                with archive.open(info) as member:
                    data = member.read(limits.max_file_bytes + 1)
                if len(data) > limits.max_file_bytes:
                    raise _too_large(name, limits)
                _add(files, name, data)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as exc:
        raise ApiError(422, "invalid_bundle", f"the body is not a readable zip archive: {exc}") from None
    return files


async def read_upload(request: Request, limits: BundleLimits) -> dict[str, bytes]:
    """The posted bundle's files by name, each within the size limit."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    total_limit = limits.max_file_bytes * len(ALLOWED)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > total_limit:  # refused before a byte is read
        raise ApiError(413, "too_large", f"the upload is larger than {total_limit} bytes")
    if kind == "multipart/form-data":
        files: dict[str, bytes] = {}
        form = await request.form(max_files=len(ALLOWED), max_fields=0, max_part_size=limits.max_file_bytes)
        for _, value in form.multi_items():
            if not isinstance(value, UploadFile) or not value.filename:
                raise ApiError(422, "invalid_bundle", "every form part must be a file")
            name = _name(value.filename)
            data = await value.read(limits.max_file_bytes + 1)
            if len(data) > limits.max_file_bytes:
                raise _too_large(name, limits)
            _add(files, name, data)
        return files
    if kind in TAR_TYPES or kind in ZIP_TYPES:
        body = bytearray()
        async for piece in request.stream():
            body += piece
            if len(body) > total_limit:
                raise ApiError(413, "too_large", f"the archive is larger than {total_limit} bytes")
        return _from_zip(bytes(body), limits) if kind in ZIP_TYPES else _from_tar(bytes(body), limits)
    raise ApiError(
        415, "unsupported_media_type",
        "post multipart/form-data files, or one application/x-tar, application/gzip or application/zip body",
    )  # fmt: skip


def store_upload(files: dict[str, bytes], project_id: str, who: Principal, live: Backends) -> ValidatedUpload:
    """Validate, check who may upload there, then write; an invalid upload writes nothing."""
    upload = validate_upload(files.get, None, live.limits)
    manifest = upload.manifest
    if manifest.project_id != project_id:
        raise BundleError(MANIFEST, "$.project_id", f"names {manifest.project_id!r}, not this URL's {project_id!r}")
    if not who.service and manifest.user_id != who.user_id:
        raise BundleError(MANIFEST, "$.user_id", "must be the signed-in user")
    owner = live.metadata.project_owner(project_id)
    if owner is not None and owner != manifest.user_id:  # another user's project: as if it did not exist
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
