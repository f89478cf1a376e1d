-- Profile versions (issue 20): ports.ProfileRecord.Version counts the stored changes of a
-- profile (1 when created, one more per Update); the events written with a change carry
-- it as their aggregate_version. Profiles stored before this migration start at 0.
alter table profiles add column version bigint not null default 0;
