-- OTP identification processes (ports.ProcessStore). The actor (names, contact, identity
-- document) is jsonb, read and written whole; everything filtered or sorted on is a column.
-- Zero times are stored as 0001-01-01 UTC, never NULL, so they compare like Go times.
create table processes (
    id                  text collate "C" primary key,
    org_id              text collate "C" not null,
    state               text        not null,
    actor               jsonb       not null,
    two_factor_type     text        not null,
    channel_type        text        not null,
    channel_external    boolean     not null,
    created_at          timestamptz not null,
    updated_at          timestamptz not null,
    expires_at          timestamptz not null,
    code_sent_at        timestamptz not null,
    codes_sent          integer     not null,
    failed_attempts     integer     not null,
    validated_at        timestamptz not null,
    two_factor_evidence text        not null,
    cancelled_at        timestamptz not null,
    cancel_reason       text        not null
);

-- Listing: the processes of an organisation by (created_at, id).
create index processes_org_created on processes (org_id, created_at, id);

-- Sweeps: the CREATED processes by expiry.
create index processes_due on processes (expires_at) where state = 'CREATED';
