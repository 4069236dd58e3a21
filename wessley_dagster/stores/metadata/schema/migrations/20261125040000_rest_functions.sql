-- postgres-only: what the REST metadata store (supabase-py through PostgREST) cannot do in one
-- request, as functions it calls with `rpc`, so that each stays one transaction: creating a
-- user's quota and resetting an ended month, counting a job's usage, resetting every ended month,
-- and replacing a job's artifact registry. Dates come from the caller, as the SQL store computes
-- them, so both stores write the same values. Only the service role may call them.

-- An upsert writes every column it sends; a row's creation time stays the first one, as the SQL
-- store's `on conflict` clauses keep it.
create or replace function wessley_keep_created_at() returns trigger language plpgsql as $$
begin
    new.created_at := old.created_at;
    return new;
end
$$;
create trigger keep_created_at before update on projects
    for each row execute function wessley_keep_created_at();
create trigger keep_created_at before update on ingestion_jobs
    for each row execute function wessley_keep_created_at();

create or replace function wessley_ensure_quota(p_user text, p_plan jsonb, p_reset text, p_today text)
returns user_quotas language plpgsql as $$
declare
    q user_quotas;
begin
    insert into user_quotas (user_id, plan, monthly_ingestion_limit, storage_limit_bytes, reset_date)
    values (p_user, p_plan ->> 'plan', (p_plan ->> 'monthly_ingestion_limit')::integer,
            (p_plan ->> 'storage_limit_bytes')::bigint, p_reset)
    on conflict (user_id) do nothing;
    update user_quotas set ingestions_used = 0, reset_date = p_reset
        where user_id = p_user and reset_date <= p_today;
    select * into strict q from user_quotas where user_id = p_user;
    return q;
end
$$;

-- The job row is locked first so that two runs of one job cannot both count it; different jobs
-- of one user each add in a single UPDATE, so none is lost.
create or replace function wessley_record_usage(
    p_project text, p_job text, p_bytes bigint, p_plan jsonb, p_month text, p_reset text, p_today text
) returns void language plpgsql as $$
declare
    j ingestion_jobs;
begin
    select * into strict j from ingestion_jobs where project_id = p_project and job_id = p_job for update;
    perform wessley_ensure_quota(j.user_id, p_plan, p_reset, p_today);
    update user_quotas
        set ingestions_used = ingestions_used + (case when j.counted_month is distinct from p_month then 1 else 0 end),
            storage_used_bytes = storage_used_bytes + (p_bytes - j.counted_bytes)
        where user_id = j.user_id;
    update ingestion_jobs set counted_month = p_month, counted_bytes = p_bytes
        where project_id = p_project and job_id = p_job;
end
$$;

create or replace function wessley_reset_monthly_usage(p_reset text, p_today text)
returns integer language plpgsql as $$
declare
    n integer;
begin
    update user_quotas set ingestions_used = 0, reset_date = p_reset where reset_date <= p_today;
    get diagnostics n = row_count;
    return n;
end
$$;

create or replace function wessley_replace_artifacts(p_project text, p_job text, p_rows jsonb)
returns void language sql as $$
    delete from artifacts where project_id = p_project and job_id = p_job;
    insert into artifacts (project_id, job_id, name, artifact_type, storage_url, backend, content_type,
                           size_bytes, metadata, created_at)
        select p_project, p_job, name, artifact_type, storage_url, backend, content_type, size_bytes, metadata,
               created_at
        from jsonb_populate_recordset(null::artifacts, p_rows);
$$;

revoke execute on function wessley_ensure_quota(text, jsonb, text, text),
    wessley_record_usage(text, text, bigint, jsonb, text, text, text),
    wessley_reset_monthly_usage(text, text),
    wessley_replace_artifacts(text, text, jsonb) from public;
grant execute on function wessley_ensure_quota(text, jsonb, text, text),
    wessley_record_usage(text, text, bigint, jsonb, text, text, text),
    wessley_reset_monthly_usage(text, text),
    wessley_replace_artifacts(text, text, jsonb) to service_role;
