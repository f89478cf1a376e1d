-- The transactional outbox (issue 20): every store writes the events of a change
-- (ports.LifecycleEvent, the Outbox field of the record) into this table in the same
-- transaction as the change, so no change is stored without its event nor an event without
-- its change. Dispatchers claim due rows with FOR UPDATE SKIP LOCKED and a lease
-- (locked_until), deliver them, and mark them delivered, due again later, or dead.
create table outbox (
    -- seq orders rows stored at the same occurred_at.
    seq               bigserial   not null,
    id                uuid        primary key,
    type              text        not null,
    occurred_at       timestamptz not null,
    org_id            text        not null,
    aggregate_type    text        not null,
    aggregate_id      text        not null,
    aggregate_version bigint      not null,
    -- The whole event, as JSON (ports.LifecycleEvent).
    event             jsonb       not null,
    state             text        not null default 'pending' check (state in ('pending', 'delivered', 'dead')),
    -- Failed delivery attempts so far.
    attempts          integer     not null default 0,
    next_attempt_at   timestamptz not null,
    locked_until      timestamptz,
    last_error        text        not null default '',
    -- The targets (subscribers, endpoints) that got the event: a retry skips them.
    delivered_to      text[]      not null default '{}'
);

create index outbox_due on outbox (occurred_at, seq) where state = 'pending';
create index outbox_dead on outbox (occurred_at, seq) where state = 'dead';
create index outbox_aggregate on outbox (aggregate_type, aggregate_id);
