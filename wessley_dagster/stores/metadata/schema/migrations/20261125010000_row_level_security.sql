-- postgres-only: row-level security as Supabase applies it (SQLite records this file and skips it).
-- A signed-in user (role `authenticated`, user id in the JWT's `sub`, read by `auth.uid()`) reads
-- only the rows of their own projects; `service_role` (the pipeline, the API's service key)
-- bypasses RLS. On plain PostgreSQL the project's migration runner first creates the roles and a
-- minimal `auth.uid()` reading `request.jwt.claims`, as Supabase provides them.

alter table projects enable row level security;
alter table ingestion_jobs enable row level security;
alter table artifacts enable row level security;
alter table user_quotas enable row level security;
alter table embedding_cache enable row level security;  -- no policy: the service role only

create policy own_projects on projects for select to authenticated
    using (user_id = (select auth.uid())::text);
create policy own_jobs on ingestion_jobs for select to authenticated
    using (user_id = (select auth.uid())::text);
create policy own_artifacts on artifacts for select to authenticated
    using (exists (select 1 from projects p where p.project_id = artifacts.project_id
                   and p.user_id = (select auth.uid())::text));
create policy own_quota on user_quotas for select to authenticated
    using (user_id = (select auth.uid())::text);

grant usage on schema public to authenticated, service_role;
grant select on projects, ingestion_jobs, artifacts, user_quotas to authenticated;
grant select, insert, update, delete on projects, ingestion_jobs, artifacts, user_quotas, embedding_cache
    to service_role;

-- Live job status for Supabase Realtime subscribers, where the publication exists.
do $$
begin
    if exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
        alter publication supabase_realtime add table ingestion_jobs;
    end if;
end
$$;
