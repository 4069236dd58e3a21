-- Quota usage is counted, not recomputed: a job's first success in a month adds one ingestion to
-- its user's row, and each success adjusts the user's stored bytes by the change in the job's
-- artifact bytes. The job row remembers what it has been counted for, so a re-run counts once.
alter table ingestion_jobs add column counted_month text;
alter table ingestion_jobs add column counted_bytes bigint not null default 0;
