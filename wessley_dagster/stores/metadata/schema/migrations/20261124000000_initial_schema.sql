-- wessley-dagster metadata schema.
-- Written in the SQL that Postgres (Supabase) and SQLite (the embedded default) both accept:
-- text/integer/bigint columns, JSON kept in jsonb (text affinity on SQLite), timestamps as
-- timestamptz (ISO-8601 text on SQLite). Applied in file-name order by wessley_dagster's own runner.

create table if not exists projects (
    project_id  text primary key,
    user_id     text not null,
    vehicle     jsonb not null,
    created_at  timestamptz not null,
    updated_at  timestamptz not null
);

create table if not exists ingestion_jobs (
    project_id       text not null references projects (project_id),
    job_id           text not null,
    user_id          text not null,
    status           text not null,   -- queued | running | succeeded | failed | rejected | invalid
    stage            text,
    progress         integer not null default 0,
    error            text,
    metrics          jsonb,
    artifacts        jsonb,
    chunker_version  text,
    embedding_model  text,
    dagster_run_id   text,
    created_at       timestamptz not null,
    updated_at       timestamptz not null,
    finished_at      timestamptz,
    primary key (project_id, job_id)
);

create index if not exists ingestion_jobs_user_created on ingestion_jobs (user_id, created_at);

create table if not exists artifacts (
    project_id    text not null,
    job_id        text not null,
    name          text not null,
    artifact_type text not null,
    storage_url   text not null,
    backend       text not null,
    content_type  text not null,
    size_bytes    bigint not null,
    metadata      jsonb,
    created_at    timestamptz not null,
    primary key (project_id, job_id, name),
    foreign key (project_id, job_id) references ingestion_jobs (project_id, job_id)
);

create table if not exists user_quotas (
    user_id                  text primary key,
    plan                     text not null,
    monthly_ingestion_limit  integer not null,
    storage_limit_bytes      bigint not null,
    ingestions_used          integer not null default 0,
    storage_used_bytes       bigint not null default 0,
    reset_date               text not null
);

create table if not exists embedding_cache (
    model        text not null,
    text_sha256  text not null,
    dimension    integer not null,
    vector       bytea not null,   -- little-endian float32
    primary key (model, text_sha256)
);
