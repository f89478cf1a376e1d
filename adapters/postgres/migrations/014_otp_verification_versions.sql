-- Versions of standalone codes (issue 20): ports.Verification.Version counts the stored
-- writes of the Verification of a purpose and subject (1 for the first, one more per
-- Update), and the events written with a code change carry it as their aggregate_version.
-- Rows stored before this migration start at 0: their next write stores 1.
alter table otp_verifications add column version bigint not null default 0;
