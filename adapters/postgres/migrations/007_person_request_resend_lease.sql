-- The resend lease of a person request (ports.PersonRequest.ResendLease): resends of one
-- request take it in turn, across instances.
alter table person_requests
    add column resend_lease       text not null default '',
    add column resend_lease_until timestamptz;
