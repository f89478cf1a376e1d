-- Authentication method versions (issue 20): ports.AuthMethodRecord.Version counts the
-- stored changes of a method (1 when added, one more per change); the events written with
-- a change carry it as their aggregate_version. Methods stored before start at 0.
alter table auth_methods add column version bigint not null default 0;
