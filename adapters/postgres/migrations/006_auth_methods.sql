-- Persons (ports.PersonStore). Documents are jsonb, read and written whole (NULL for none).
create table persons (
    id                  text collate "C" primary key,
    birth_date          date        not null,
    status              text        not null,
    is_active           boolean     not null,
    verification_status text        not null,
    documents           jsonb
);

-- Authentication methods (ports.AuthMethodStore), listed per person in the order they were
-- added (seq). Changes to one person's methods are serialised by an advisory lock of the
-- person, which also covers a person with no method yet.
create table auth_methods (
    seq        bigint generated always as identity primary key,
    id         text collate "C" not null unique,
    person_id  text collate "C" not null,
    type       text        not null,
    alias      text        not null,
    phone      text        not null,
    value      text        not null,
    started_at timestamptz not null,
    ended_at   timestamptz,
    is_active  boolean     not null,
    is_primary boolean     not null
);

create index auth_methods_person on auth_methods (person_id, seq);

-- Confidant relationships (ports.ConfidantStore), listed per represented person in the
-- order they were added.
create table confidant_relationships (
    seq                 bigint generated always as identity primary key,
    id                  text collate "C" not null unique,
    person_id           text collate "C" not null,
    confidant_person_id text collate "C" not null,
    verification_status text        not null,
    is_active           boolean     not null,
    active_to           timestamptz
);

create index confidant_relationships_person on confidant_relationships (person_id, seq);
