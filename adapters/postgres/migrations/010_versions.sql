-- Record versions (issue 20): ports.ProcessRecord.Version and ports.PersonRequest.Version
-- count the stored changes of a record (1 when created, one more per Update and, for
-- processes, per ExpireDue). The events written with a change carry it as their
-- aggregate_version. Rows stored before this migration start at 0.
alter table processes add column version bigint not null default 0;
alter table person_requests add column version bigint not null default 0;
