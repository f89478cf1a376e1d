-- Person requests (ports.PersonRequestStore): one row per request. The person, the third
-- person and the upload URLs are jsonb, read and written whole (JSON keeps nil and empty
-- slices apart, as Go does; uploads is NULL for none); status and created_at, which sweeps
-- filter and sort on, are columns.
create table person_requests (
    id                  text collate "C" primary key,
    status              text        not null,
    person              jsonb       not null,
    third_person        jsonb       not null,
    current_auth_method integer     not null,
    uploads             jsonb,
    upload_version      integer     not null,
    created_at          timestamptz not null,
    updated_at          timestamptz not null
);

-- Expiry sweeps: the open requests created before a time, oldest first.
create index person_requests_status_created on person_requests (status, created_at, id);
