-- Profiles (ports.ProfileStore): one row per user. The profile and its documents are jsonb
-- (read and written whole); what a host may filter on is in real columns. Strings compare
-- byte-wise (collate "C"), as in Go.
create table profiles (
    user_id          text collate "C" primary key,
    organization_id  text collate "C" not null,
    status           text collate "C" not null, -- profile->>'status', kept for queries
    profile          jsonb       not null,
    documents        jsonb       not null,
    mandatory_fields text[]      not null,
    pending_fields   text[]      not null,
    reset_at         timestamptz,
    reset_by         text        not null,
    created_at       timestamptz,
    updated_at       timestamptz
);

create index profiles_organization on profiles (organization_id, status);

-- Reset identification requests (ports.ResetRequestStore).
create table reset_requests (
    id                text collate "C" primary key,
    user_id           text collate "C" not null,
    description       text        not null,
    organization_id   text collate "C" not null,
    status            text collate "C" not null,
    initiator_user_id text        not null,
    decided_by        text        not null,
    created_at        timestamptz not null,
    decided_at        timestamptz
);

-- At most one PENDING request per user, whatever happens.
create unique index reset_requests_one_open on reset_requests (user_id) where status = 'PENDING';

-- Listing: by default (created_at, id); filtered by status or organisation.
create index reset_requests_created on reset_requests (created_at, id);
create index reset_requests_status on reset_requests (status, created_at, id);
create index reset_requests_organization on reset_requests (organization_id, created_at, id);

-- Audit events of profiles (ports.ProfileAuditLog), append-only, read in insertion order.
create table profile_audit_events (
    seq         bigint generated always as identity primary key,
    id          text        not null,
    action      text        not null,
    actor_id    text        not null,
    user_id     text collate "C" not null,
    request_id  text        not null,
    fields      text[]      not null,
    from_status text        not null,
    to_status   text        not null,
    at          timestamptz not null
);

create index profile_audit_events_user on profile_audit_events (user_id, seq);
