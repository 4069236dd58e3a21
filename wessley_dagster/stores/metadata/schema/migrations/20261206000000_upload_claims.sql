-- A project's claim by the user whose upload the API accepted, before the upload sensor creates
-- the project: another user's upload to the same project is refused from that moment, and the
-- sensor honours the claim. A claim that never becomes a project expires at `expires_at`
-- (WESSLEY_CLAIM_TTL_S after the last accepted upload, 24 hours by default) and is then free.
create table upload_claims (
    project_id text primary key,
    user_id text not null,
    claimed_at text not null,
    expires_at text not null
);
