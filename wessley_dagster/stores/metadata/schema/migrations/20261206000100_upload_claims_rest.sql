-- postgres-only: row-level security on the claims (a signed-in user reads their own; the service
-- role writes them), and the claim as one transaction for the REST metadata store: drop an expired
-- claim, claim if free, renew one's own, and answer who holds it (the project's owner where the
-- project exists).
alter table upload_claims enable row level security;
create policy own_claims on upload_claims for select to authenticated
    using (user_id = (select auth.uid())::text);
grant select on upload_claims to authenticated;
grant select, insert, update, delete on upload_claims to service_role;

create or replace function wessley_claim_project(p_project text, p_user text, p_now text, p_expires text)
returns text language plpgsql as $$
declare
    holder text;
begin
    select user_id into holder from projects where project_id = p_project;
    if holder is not null then
        return holder;
    end if;
    delete from upload_claims where project_id = p_project and expires_at < p_now;
    insert into upload_claims (project_id, user_id, claimed_at, expires_at)
        values (p_project, p_user, p_now, p_expires)
        on conflict (project_id) do update set expires_at = excluded.expires_at
        where upload_claims.user_id = excluded.user_id;
    select user_id into strict holder from upload_claims where project_id = p_project;
    return holder;
end
$$;

revoke execute on function wessley_claim_project(text, text, text, text) from public;
grant execute on function wessley_claim_project(text, text, text, text) to service_role;
