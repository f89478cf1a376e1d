-- Sliding-window rate limits (ports.RateLimiter): one row per key with the times of the
-- events any limit can still see, in Unix nanoseconds, in the order they were recorded.
create table rate_limits (
    key           bytea    primary key,
    events_ns     bigint[] not null,
    keep_until_ns bigint   not null -- the row is stale once now passes it
);

-- Sweeps of stale keys.
create index rate_limits_keep_until on rate_limits (keep_until_ns);
