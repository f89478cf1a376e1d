-- The profile audit log reads the outbox (issue 20): the outbox events of aggregate type
-- 'profile' are the audit trail's only stored form (ports.ProfileAuditLog maps them back),
-- and delivered outbox rows can be purged (ports.OutboxStore.Purge), which keeps those
-- events when asked to (ports.AuditAggregateTypes).

-- When a row was delivered, for Purge. A delivered row's next_attempt_at is the time of its
-- Ack. Purge walks the index by aggregate type, so the types it keeps (the audit trail,
-- which grows) cost it nothing.
alter table outbox add column delivered_at timestamptz;
update outbox set delivered_at = next_attempt_at where state = 'delivered';
create index outbox_delivered on outbox (aggregate_type, delivered_at) where state = 'delivered';

-- The audit log reads a user's profile events in the order stored.
create index outbox_aggregate_seq on outbox (aggregate_type, aggregate_id, seq);
drop index outbox_aggregate;

-- Each audit row, with the outbox row the flow wrote beside it since migration 009 (same
-- user, type, time, actor and request; the k-th of equal rows pairs with the k-th), if any.
-- new_seq numbers the audit rows below every outbox row (seq starts at 1): negative, in the
-- audit log's order, so the audit trail reads back in the order it had, then what comes
-- after.
create temporary table audit_moves on commit drop as
with a as (
    select e.*,
        case e.action
            when 'reset_requested' then 'profile.reset_request_created'
            when 'reset_request_approved' then 'profile.reset_request_approved'
            when 'reset_request_declined' then 'profile.reset_request_declined'
            when 'identification_reset' then 'profile.identification_reset'
            when 'identification_status_changed' then 'profile.identification_status_changed'
            when 'identification_submitted' then 'profile.submitted'
            else 'profile.' || e.action
        end as type,
        e.seq - (select max(seq) from profile_audit_events) - 1 as new_seq
    from profile_audit_events e
), ranked as (
    select a.*, row_number() over (partition by a.user_id, a.type, a.at, a.actor_id, a.request_id order by a.seq) as k
    from a
), o as (
    select id, aggregate_id, type, occurred_at,
        coalesce(event->>'actor', '') as actor,
        coalesce(event->'data'->>'request_id', '') as request_id,
        row_number() over (partition by aggregate_id, type, occurred_at, coalesce(event->>'actor', ''),
            coalesce(event->'data'->>'request_id', '') order by seq) as k
    from outbox
    where aggregate_type = 'profile'
)
select r.*, o.id as event_id
from ranked r
left join o on o.aggregate_id = r.user_id collate "C" and o.type = r.type and o.occurred_at = r.at
    and o.actor = r.actor_id and o.request_id = r.request_id and o.k = r.k;

-- Paired rows: the event is the audit entry. It takes the entry's place in the order, its
-- action, and the entry's id when that differs from its own (read back as the id).
update outbox o
set seq = m.new_seq,
    event = jsonb_set(o.event, '{data}', coalesce(o.event->'data', '{}'::jsonb)
        || jsonb_build_object('action', m.action)
        || case when m.id <> '' and m.id <> o.id::text then jsonb_build_object('audit_id', m.id) else '{}'::jsonb end)
from audit_moves m
where o.id = m.event_id;

-- Audit rows without an event (from before migration 009, or a host's own) become delivered
-- events, so they are not sent now. Their id is kept when it is a UUID no other row has;
-- otherwise they get a new one and the old id goes in data.audit_id.
insert into outbox (seq, id, type, occurred_at, org_id, aggregate_type, aggregate_id, aggregate_version,
    event, state, next_attempt_at, delivered_at)
select c.new_seq, c.event_id, c.type, c.at, c.org_id, 'profile', c.user_id, 0,
    jsonb_strip_nulls(jsonb_build_object(
        'id', c.event_id::text,
        'type', c.type,
        'time', to_char(c.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'org_id', nullif(c.org_id, ''),
        'aggregate_type', 'profile',
        'aggregate_id', c.user_id,
        'aggregate_version', 0,
        'actor', nullif(c.actor_id, ''),
        'outcome', 'succeeded',
        'data', jsonb_strip_nulls(jsonb_build_object(
            'action', c.action,
            'audit_id', case when c.keep_id then null else nullif(c.id, '') end,
            'request_id', nullif(c.request_id, ''),
            'fields', nullif(array_to_string(c.fields, ','), ''),
            'from', case when c.from_status <> '' or c.to_status <> '' then c.from_status end,
            'to', case when c.from_status <> '' or c.to_status <> '' then c.to_status end))
    )),
    'delivered', c.at, c.at
from (
    select k.*, case when k.keep_id then k.id::uuid else gen_random_uuid() end as event_id
    from (
        select m.seq, m.new_seq, m.id, m.type, m.action, m.actor_id, m.user_id, m.request_id, m.fields,
            m.from_status, m.to_status, m.at, coalesce(p.organization_id, '') as org_id,
            m.id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                and not exists (select 1 from outbox x where x.id::text = m.id)
                and row_number() over (partition by m.id order by m.seq) = 1 as keep_id
        from audit_moves m
        left join profiles p on p.user_id = m.user_id
        where m.event_id is null
    ) k
) c
order by c.seq;

drop table profile_audit_events;
