-- What Supabase provides and plain PostgreSQL lacks, created by wessley_dagster's migration runner
-- before the migrations, and only where missing: the API roles and `auth.uid()`, the signed-in
-- user's id from the JWT claims PostgREST sets for each request. Not a migration: on Supabase
-- every object here already exists.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'anon') then
        create role anon nologin;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticated') then
        create role authenticated nologin;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'service_role') then
        create role service_role nologin bypassrls;
    end if;
    if not exists (select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                   where n.nspname = 'auth' and p.proname = 'uid') then
        create schema if not exists auth;
        create function auth.uid() returns uuid language sql stable
            as $f$ select nullif(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub', '')::uuid $f$;
        grant usage on schema auth to anon, authenticated, service_role;
    end if;
end
$$;
