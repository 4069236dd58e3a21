-- The digest of the upload files a job was last validated against (names, ETags, sizes), so an
-- upload found invalid is not requested again until its files change. A job whose upload was
-- refused or found invalid has status 'invalid' and does not count against the user's quota.
alter table ingestion_jobs add column upload_digest text;
