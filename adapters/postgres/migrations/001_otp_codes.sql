-- One-time codes (ports.OTPStore). Purpose and subject are bytea so that any Go string is
-- kept exactly; the code itself is never stored, only its keyed hash.
create table otp_codes (
    seq          bigint generated always as identity primary key, -- insertion order
    id           text        not null unique,
    purpose      bytea       not null,
    subject      bytea       not null,
    hash         bytea       not null,
    key_id       integer     not null,
    state        text        not null check (state in ('active', 'verified', 'superseded', 'expired', 'blocked', 'undeliverable')),
    attempts     integer     not null,
    max_attempts integer     not null,
    created_at   timestamptz not null,
    expires_at   timestamptz not null,
    used_at      timestamptz
);

-- The codes of a purpose and subject, in insertion order: the latest is the last.
create index otp_codes_subject on otp_codes (purpose, subject, seq);

-- At most one active code per purpose and subject, whatever happens.
create unique index otp_codes_one_active on otp_codes (purpose, subject) where state = 'active';

-- Sweeps of expired codes.
create index otp_codes_expires_at on otp_codes (expires_at);
