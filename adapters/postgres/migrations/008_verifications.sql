-- One-time codes live inside the record they confirm (ports.Verification): a person request
-- and an OTP identification process each hold their latest code and failed attempts in a
-- jsonb column written with the record, so a use case is one atomic write. Standalone codes
-- (otp.Service.Issue/Verify) keep one Verification per purpose and subject in
-- otp_verifications. The old otp_codes table goes without a copy: its codes live minutes
-- at most, and a code in flight at the upgrade is simply no longer valid (the person asks
-- for a new one). Existing requests and processes start with an empty Verification ('{}').
-- The verification jsonb keeps byte strings (code id, purpose, subject, hash) as base64 and
-- times as microseconds since the Unix epoch, null for the zero time (verification.go).
drop table otp_codes;

create table otp_verifications (
    purpose      bytea       not null,
    subject      bytea       not null,
    verification jsonb       not null,
    -- ports.Verification.KeepUntil: PurgeExpired deletes from then on.
    keep_until   timestamptz not null,
    primary key (purpose, subject)
);

create index otp_verifications_keep_until on otp_verifications (keep_until);

-- The resend lease of 007 is gone: a resend is one atomic write, nothing is held between
-- calls.
alter table person_requests
    drop column resend_lease,
    drop column resend_lease_until,
    add column verification jsonb not null default '{}';

alter table processes
    add column verification jsonb not null default '{}';
