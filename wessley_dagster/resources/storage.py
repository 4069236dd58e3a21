"""Artifact storage resource: S3 (through dagster-aws's S3Resource client), then Supabase
Storage's S3 endpoint, then a local folder, in that fallback order; each configured backend
joins the chain. With nothing configured the local folder is the only backend.
Uploads resources, one class per backend: a local folder or an S3 prefix."""

from pathlib import Path
from typing import Any

from dagster import Config, ConfigurableResource
from pydantic import Field

from wessley_dagster.domain.bundle import BundleLimits
from wessley_dagster.stores.objects import FallbackStore, LocalFolderStore, ObjectStore, S3Store, upload_digest
from wessley_dagster.stores.signing import UrlSigner, home_secret


class S3Location(Config):
    """One S3-compatible bucket: AWS, MinIO, moto, or Supabase Storage's /storage/v1/s3 endpoint."""

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region_name: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    max_attempts: int = 5  # botocore retries with exponential backoff before a step fails

    def object_store(self, name: str) -> S3Store:
        # Imported here: dagster-aws and boto3 take half a second to import, which every run
        # worker, Celery task and sensor tick would pay without S3 configured.
        from dagster_aws.s3 import S3Resource

        client = S3Resource(
            endpoint_url=self.endpoint_url,
            region_name=self.region_name,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            max_attempts=self.max_attempts,
        ).get_client()
        return S3Store(client, self.bucket, self.prefix, name=name, presigner=self._presigner)

    def _presigner(self) -> Any:
        """S3Resource's client presigns with Signature V2 at a custom endpoint; AWS's newer regions,
        Supabase Storage and S3Proxy accept only V4."""
        import boto3
        from botocore.config import Config as BotoConfig

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region_name,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            config=BotoConfig(signature_version="s3v4"),
        )


class StorageResource(ConfigurableResource):
    """Artifact storage: S3, then Supabase Storage, then a local folder, each configured one in
    that fallback order; each stored object records which backend took it."""

    s3: S3Location | None = None
    supabase: S3Location | None = None
    local_dir: str | None = Field(description="the local folder, the last backend of the chain; None: no local copy")
    api_url: str = Field(description="the read API that serves local signed URLs")
    signing_key: str | None = Field(default=None, description="secret for local signed URLs (WESSLEY_SIGNING_KEY)")
    signing_key_file: str = Field(description="generated once when no key is given")
    spool_dir: str = Field(description="where streamed writes spool beyond 8 MB")

    @property
    def kind(self) -> str:
        """The first backend of the chain, which takes every write while it is up."""
        return "s3" if self.s3 is not None else "supabase" if self.supabase is not None else "file"

    def signer(self) -> UrlSigner:
        secret = self.signing_key.encode() if self.signing_key else home_secret(Path(self.signing_key_file))
        return UrlSigner(secret, self.api_url)

    def local_store(self) -> LocalFolderStore | None:
        return LocalFolderStore(Path(self.local_dir).resolve(), self.signer()) if self.local_dir else None

    def object_store(self) -> FallbackStore:
        backends: list[ObjectStore] = []
        if self.s3 is not None:
            backends.append(self.s3.object_store("s3"))
        if self.supabase is not None:
            backends.append(self.supabase.object_store("supabase-storage"))
        local = self.local_store()
        if local is not None:
            backends.append(local)
        return FallbackStore(backends, Path(self.spool_dir))


class UploadsResource(ConfigurableResource):
    """Where bundles arrive, `<project_id>/<job_id>/…`, and the limits a bundle must keep."""

    max_file_mb: int = Field(default=256, ge=1, description="largest bundle file (WESSLEY_MAX_FILE_MB)")
    max_text_chars: int = Field(default=20_000, ge=1, description="longest string value (WESSLEY_MAX_TEXT_CHARS)")
    max_json_depth: int = Field(default=32, ge=5, description="deepest JSON nesting (WESSLEY_MAX_JSON_DEPTH)")
    sensor_page_keys: int = Field(
        default=10_000, ge=10, description="keys the upload sensor lists per tick (WESSLEY_SENSOR_PAGE_KEYS)"
    )

    def limits(self) -> BundleLimits:
        return BundleLimits(self.max_file_mb * 2**20, self.max_text_chars, self.max_json_depth)

    def upload_digest(self, project_id: str, job_id: str) -> str:
        """The digest the upload sensor keys its run on, of the upload's files as they are now."""
        return upload_digest(self.object_store().list(f"{project_id}/{job_id}/"))

    def object_store(self) -> ObjectStore:
        raise NotImplementedError


class LocalUploadsResource(UploadsResource):
    """Uploads in a local folder (the default, `$WESSLEY_HOME/uploads`)."""

    local_dir: str

    def object_store(self) -> ObjectStore:
        return LocalFolderStore(Path(self.local_dir).resolve())


class S3UploadsResource(UploadsResource):
    """Uploads under an S3 prefix (`WESSLEY_UPLOADS=s3://bucket/prefix`)."""

    s3: S3Location

    def object_store(self) -> ObjectStore:
        return self.s3.object_store("s3")
