"""The resources of a deployment, built from its `Settings` here and only here.

`local` (the default) puts every backend left unset on its embedded default under
`WESSLEY_HOME`; `production` refuses to start unless every backend is named. Secrets are passed
as `EnvVar`s, so that the Dagster UI shows the variable's name, not its value."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlparse

from dagster import EnvVar

from wessley_dagster.io_managers.artifacts import ArtifactsIOManager
from wessley_dagster.io_managers.graph import GraphIOManager
from wessley_dagster.io_managers.vectors import VectorIOManager
from wessley_dagster.resources.embeddings import EmbeddingsResource
from wessley_dagster.resources.graph import ArcadeDBResource, GraphResource, Neo4jResource
from wessley_dagster.resources.metadata import MetadataResource, SqlMetadataResource, SupabaseRestMetadataResource
from wessley_dagster.resources.storage import (
    LocalUploadsResource,
    S3Location,
    S3UploadsResource,
    StorageResource,
    UploadsResource,
)
from wessley_dagster.resources.vectors import QdrantEdgeResource, QdrantResource, VectorResource
from wessley_dagster.settings import ConfigurationError, Profile, Settings, current_settings

# What production must name, each as (what, settings of which one is enough).
PRODUCTION_NEEDS = (
    ("graph", ("neo4j_uri",)),
    ("graph password", ("neo4j_password",)),
    ("vectors", ("qdrant_url",)),
    ("artifacts", ("s3_bucket", "supabase_storage_bucket")),
    ("uploads", ("wessley_uploads",)),
    ("metadata", ("supabase_db_url", "supabase_url")),
)


def check_profile(settings: Settings) -> Profile:
    """`production` refuses to start unless every backend is named, listing all that are missing
    in one message, so that a step never quietly starts an embedded server in production."""
    if settings.wessley_env == Profile.PRODUCTION:
        missing = [
            f"{what} ({' or '.join(n.upper() for n in names)})"
            for what, names in PRODUCTION_NEEDS
            if not any(getattr(settings, n) for n in names)
        ]
        if missing:
            raise ConfigurationError(
                "WESSLEY_ENV=production needs every backend configured; missing: " + "; ".join(missing)
            )
    return settings.wessley_env


def _secret(settings: Settings, name: str) -> Any:
    """The variable's name for Dagster to resolve at run time, when it is set."""
    return EnvVar(name.upper()) if getattr(settings, name) else None


def _s3(settings: Settings, prefix: str, bucket: str, path: str) -> S3Location:
    """An S3 location from the `<prefix>endpoint_url`, `_region`, `_access_key_id`, … settings."""
    return S3Location(
        bucket=bucket,
        prefix=path,
        endpoint_url=getattr(settings, f"{prefix}endpoint_url") or None,
        region_name=getattr(settings, f"{prefix}region") or settings.aws_region or None,
        aws_access_key_id=_secret(settings, f"{prefix}access_key_id"),
        aws_secret_access_key=_secret(settings, f"{prefix}secret_access_key"),
    )


def graph_resource(settings: Settings) -> GraphResource:
    if settings.neo4j_uri:
        return Neo4jResource(
            uri=settings.neo4j_uri,
            user=settings.neo4j_user,
            password=_secret(settings, "neo4j_password") or "",
            database=settings.neo4j_database or None,
            writers=settings.neo4j_writers,
        )
    return arcadedb_resource(settings)


def arcadedb_resource(settings: Settings) -> ArcadeDBResource:
    """This home's embedded graph server (also what `wessley-dagster arcadedb start|stop` acts on)."""
    return ArcadeDBResource(
        home_dir=settings.wessley_arcadedb_dir or str(settings.home / "arcadedb"),
        bolt_port=settings.wessley_arcadedb_bolt_port,
        http_port=settings.wessley_arcadedb_http_port,
        heap=settings.wessley_arcadedb_heap,
    )


def vector_resource(settings: Settings) -> VectorResource:
    if settings.qdrant_url:
        return QdrantResource(
            collection=settings.qdrant_collection,
            url=settings.qdrant_url,
            api_key=_secret(settings, "qdrant_api_key"),
        )
    return QdrantEdgeResource(collection=settings.qdrant_collection, edge_dir=str(settings.home / "qdrant"))


def metadata_resource(settings: Settings) -> MetadataResource:
    if settings.supabase_db_url:
        return SqlMetadataResource(db_url=_secret(settings, "supabase_db_url"))
    if settings.supabase_url:
        if not settings.supabase_service_key:
            raise ConfigurationError(
                "SUPABASE_URL is set but SUPABASE_SERVICE_KEY is not: the metadata store needs both"
            )
        return SupabaseRestMetadataResource(
            supabase_url=settings.supabase_url, supabase_service_key=_secret(settings, "supabase_service_key")
        )
    return SqlMetadataResource(db_url=f"sqlite:///{(settings.home / 'metadata.db').resolve()}")


def storage_resource(settings: Settings) -> StorageResource:
    s3 = _s3(settings, "s3_", settings.s3_bucket, settings.s3_prefix) if settings.s3_bucket else None
    supabase = (
        _s3(settings, "supabase_storage_", settings.supabase_storage_bucket, settings.supabase_storage_prefix)
        if settings.supabase_storage_bucket
        else None
    )
    # The local folder is the whole store by default, and the last fallback only when asked for:
    # a configured remote store that is down must fail the step, not quietly fill a local disk.
    keep_local = not (s3 or supabase) or settings.wessley_local_fallback
    return StorageResource(
        s3=s3,
        supabase=supabase,
        local_dir=str(settings.home / "artifacts") if keep_local else None,
        api_url=settings.wessley_api_url,
        signing_key=_secret(settings, "wessley_signing_key"),
        signing_key_file=str(settings.home / "signing.key"),
        spool_dir=str(settings.home / "tmp"),
    )


def uploads_resource(settings: Settings, location: str | None = None) -> UploadsResource:
    """Uploads at `location` (default `WESSLEY_UPLOADS`, else the home's `uploads/`): a local
    folder, or `s3://bucket/prefix` with the `S3_*` endpoint and keys."""
    location = location or settings.wessley_uploads or str(settings.home / "uploads")
    limits = {
        "max_file_mb": settings.wessley_max_file_mb,
        "max_text_chars": settings.wessley_max_text_chars,
        "max_json_depth": settings.wessley_max_json_depth,
        "sensor_page_keys": settings.wessley_sensor_page_keys,
    }
    parsed = urlparse(location)
    if parsed.scheme == "s3":
        return S3UploadsResource(s3=_s3(settings, "s3_", parsed.netloc, parsed.path.strip("/")), **limits)
    return LocalUploadsResource(local_dir=location, **limits)


def embeddings_resource(settings: Settings) -> EmbeddingsResource:
    return EmbeddingsResource(
        provider=settings.provider,
        dimension=settings.wessley_embedding_dim,
        openai_api_key=_secret(settings, "openai_api_key"),
        openai_base_url=settings.openai_base_url or None,
        openai_model=settings.openai_embedding_model,
        openai_max_in_flight=settings.openai_max_in_flight,
        dense_chunk_types=[t.value for t in settings.wessley_dense_chunk_types],
        batch_chunks=settings.wessley_embed_batch_chunks,
    )


def build_resources(settings: Settings | None = None) -> dict[str, Any]:
    """Every resource and IO manager of the code location, by the keys the assets name."""
    settings = settings or current_settings()
    check_profile(settings)
    graph, vectors, storage = graph_resource(settings), vector_resource(settings), storage_resource(settings)
    return {
        "graph": graph,
        "vectors": vectors,
        "storage": storage,
        "uploads": uploads_resource(settings),
        "metadata": metadata_resource(settings),
        "embeddings_model": embeddings_resource(settings),
        "artifacts_io_manager": ArtifactsIOManager(storage=storage),
        "graph_io_manager": GraphIOManager(graph=graph),
        "vector_io_manager": VectorIOManager(vectors=vectors),
    }


@cache
def deployment_resources() -> dict[str, Any]:
    """This process's resources, built once from its settings: the code location's, whose kinds
    its assets show."""
    return build_resources(current_settings())
