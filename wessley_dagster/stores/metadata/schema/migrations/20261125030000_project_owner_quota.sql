-- postgres-only: every project's owner has a quota row, so the four tables are linked by foreign
-- keys (user_quotas <- projects <- ingestion_jobs <- artifacts). The store creates the quota row
-- before the project. NOT VALID: rows from before this migration are not re-checked. SQLite
-- cannot add a constraint to a table; it records this file and skips it.
alter table projects add constraint projects_user_quota_fk
    foreign key (user_id) references user_quotas (user_id) not valid;
