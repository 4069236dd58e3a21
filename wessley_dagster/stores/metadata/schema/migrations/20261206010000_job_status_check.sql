-- postgres-only: a job row's status is one of `JobStatus` (wessley_dagster/domain/jobs.py; a test
-- checks that the two lists agree). SQLite cannot add a constraint to an existing table: there the
-- stores write only `JobStatus` values, and this file is recorded unrun.
alter table ingestion_jobs add constraint ingestion_jobs_status_check
    check (status in ('queued', 'running', 'succeeded', 'failed', 'invalid', 'rejected'));
