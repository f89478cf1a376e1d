package postgres

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/verifykit/verifykit/ports"
)

// RateLimiter is a ports.RateLimiter in PostgreSQL (table rate_limits) that every instance on
// the same schema shares. It keeps, per key, the times of the recent events (in nanoseconds,
// ascending: an event is put in its place by its time, whatever the order in which events
// arrive) and decides by the rule of ports.DecideRate, so it decides exactly like the memory
// limiter: sliding windows, nothing recorded when denied. Allow takes the advisory lock of
// the key in a transaction, reads the key's events, decides, and writes the new event with
// the commit: two round trips, and concurrent Allow calls for one key, from any instance,
// never pass a limit. Peek reads without locking. DecideRates does the same for a batch of
// keys in one transaction (ports.BatchRateLimiter).
//
// A key's events are one row: every recorded event reads the row (8 bytes an event) and
// the database rewrites it. Keys that count a day of sends to a whole country (the otp
// engine's calling-code budgets) grow with the traffic: a host that sends tens of
// thousands of codes a day to one country pays for reading that row on every send.
//
// Times are the callers' (see ports.RateLimiter): each instance passes its own clock, and an
// event keeps the time its instance gave it. Events are kept for the retention
// (SetRetention, ports.DefaultRateRetention by default, and at least the longest window this
// RateLimiter value has been asked about); every instance on one schema should be set to
// the same retention, at least the longest window any of them uses.
//
// Keys whose newest event is older than the retention are deleted by PurgeStale; every
// 1024th recorded event of a RateLimiter value also deletes up to 256 of them.
type RateLimiter struct {
	db        *DB
	writes    atomic.Uint64
	retention ports.RateRetention // how long events are kept

	qSelectMany, qUpsert, qAppend, qPurge, qUndo, qDropEmpty string
}

var _ ports.BatchRateLimiter = (*RateLimiter)(nil)

func newRateLimiter(db *DB) *RateLimiter {
	t := db.table("rate_limits")
	return &RateLimiter{
		db:          db,
		qSelectMany: "select key, events_ns, keep_until_ns from " + t + " where key = any($1)",
		// The usual write: drop the $2-1 oldest events and append $3, without sending the
		// key's events back.
		qAppend: "insert into " + t + " as r (key, events_ns, keep_until_ns) values ($1, array[$3::bigint], $4)" +
			" on conflict (key) do update set events_ns = r.events_ns[$2::int:] || $3::bigint," +
			" keep_until_ns = greatest(r.keep_until_ns, excluded.keep_until_ns)",
		qUpsert: "insert into " + t + " (key, events_ns, keep_until_ns) values ($1, $2, $3)" +
			" on conflict (key) do update set events_ns = excluded.events_ns, keep_until_ns = excluded.keep_until_ns",
		// The first element equal to $2 is cut out: the slices before and after it.
		qUndo: "update " + t + " set events_ns = events_ns[:array_position(events_ns, $2::bigint) - 1]" +
			" || events_ns[array_position(events_ns, $2::bigint) + 1:]" +
			" where key = $1 and array_position(events_ns, $2::bigint) is not null",
		qDropEmpty: "delete from " + t + " where key = $1 and cardinality(events_ns) = 0",
		qPurge: "delete from " + t + " where key in (select key from " + t +
			" where keep_until_ns < $1 order by keep_until_ns limit $2 for update skip locked)",
	}
}

// asyncCommitSQL makes the limiter's transactions commit without waiting for the write-ahead
// log to reach the disk. Locks and atomicity are unchanged, so limits hold exactly under
// concurrency; what is given up is durability of the last moments of events if the database
// server itself crashes (not the host instance), which at worst lets a few more sends or
// failed attempts through after such a crash. Rate-limit events are soft state; codes and
// their attempt counts (OTPStore) keep synchronous commits. It saves a disk flush per
// Allow and Undo, which dominates their cost.
const asyncCommitSQL = "set local synchronous_commit = off"

// Allow implements ports.RateLimiter, as DecideRates decides a batch of one. With no
// limits it allows and records nothing.
func (l *RateLimiter) Allow(ctx context.Context, key string, now time.Time, limits ...ports.RateLimit) (ports.RateDecision, error) {
	return l.decideOne(ctx, key, now, true, limits)
}

// decideOne decides one key, recording or not, as DecideRates does.
func (l *RateLimiter) decideOne(ctx context.Context, key string, now time.Time, record bool, limits []ports.RateLimit) (ports.RateDecision, error) {
	ds, err := l.DecideRates(ctx, now, []ports.RateRequest{{Key: key, Limits: limits, Record: record}})
	if err != nil {
		return ports.RateDecision{}, err
	}
	return ds[0], nil
}

// queueRecord queues the write of the events of key (row, sorted) with one more at now,
// kept for keep: it drops what the retention no longer covers and puts now in its place by
// time (after the events at the same time), as the memory limiter does. In the usual case
// (a row stored in order, and now at or after its newest event) the database cuts and
// appends on its own, and the key's events are not sent back.
func (l *RateLimiter) queueRecord(w *pgx.Batch, key string, row rateRow, now time.Time, keep time.Duration) {
	events, at := row.events, now.UnixNano()
	drop := ports.FirstAfterNanos(events, at-int64(keep))
	keepUntil := max(row.keepUntil, at+int64(keep))
	if row.inOrder && ports.FirstAfterNanos(events, at) == len(events) {
		w.Queue(l.qAppend, []byte(key), drop+1, at, keepUntil)
		return
	}
	events = slices.Delete(events, 0, drop)
	events = slices.Insert(events, ports.FirstAfterNanos(events, at), at)
	w.Queue(l.qUpsert, []byte(key), pgtype.FlatArray[int64](events), keepUntil)
}

// recorded counts n recorded events; every autoPurgeEvery-th also purges stale keys.
func (l *RateLimiter) recorded(ctx context.Context, now time.Time, n int) {
	before := l.writes.Load()
	if after := l.writes.Add(uint64(n)); after/autoPurgeEvery != before/autoPurgeEvery {
		_, _ = l.PurgeStale(ctx, now, autoPurgeBatch) // best effort
	}
}

// rateRow is what the limiter keeps of a key.
type rateRow struct {
	events    []int64
	keepUntil int64
	// inOrder is true when the row holds its events in time order (DecideRates sorts those
	// of rows written before events were kept so).
	inOrder bool
}

// DecideRates implements ports.BatchRateLimiter in one transaction: it takes the advisory
// locks of the keys that record (in one order, so batches never wait for each other in a
// cycle), reads every key's events at once, decides, and writes the new events with the
// commit: two round trips for the whole batch, whatever its size. A batch that records
// nothing reads without locking, in one round trip. Concurrent calls for its keys, from
// any instance, see all of it or none.
func (l *RateLimiter) DecideRates(ctx context.Context, now time.Time, reqs []ports.RateRequest) ([]ports.RateDecision, error) {
	if err := ports.CheckRateBatch(reqs); err != nil {
		return nil, err
	}
	longest, ok := ports.BatchLongestPer(reqs)
	if !ok {
		return nil, ports.ErrBadRateLimit
	}
	var (
		keys  [][]byte
		locks []int64
	)
	for _, r := range reqs {
		if len(r.Limits) == 0 {
			continue
		}
		keys = append(keys, []byte(r.Key))
		if r.Record {
			locks = append(locks, l.db.lockKey("rate", r.Key))
		}
	}
	keep := l.retention.Keep(longest)
	rows := make(map[string]rateRow, len(keys))
	read := func(r pgx.Rows) error {
		var (
			key []byte
			row rateRow
		)
		// FlatArray scans and encodes the events without a reflection pass per element.
		_, err := pgx.ForEachRow(r, []any{&key, (*pgtype.FlatArray[int64])(&row.events), &row.keepUntil}, func() error {
			rows[string(key)] = row
			row = rateRow{}
			return nil
		})
		return err
	}
	decide := func() []ports.RateDecision {
		ds := make([]ports.RateDecision, len(reqs))
		for i, r := range reqs {
			row := rows[r.Key]
			if row.inOrder = slices.IsSorted(row.events); !row.inOrder {
				// Rows written before events were kept in time order hold them in arrival order.
				slices.Sort(row.events)
			}
			rows[r.Key] = row
			ds[i] = ports.DecideRateNanos(row.events, now.UnixNano(), r.Limits)
		}
		return ds
	}
	if len(keys) == 0 {
		return decide(), nil
	}
	if len(locks) == 0 {
		r, err := l.db.pool.Query(ctx, l.qSelectMany, keys)
		if err == nil {
			err = read(r)
		}
		if err != nil {
			return nil, storageError(err)
		}
		return decide(), nil
	}
	slices.Sort(locks)
	b := &pgx.Batch{}
	b.Queue("begin")
	b.Queue(asyncCommitSQL)
	for i, k := range locks {
		if i == 0 || k != locks[i-1] {
			b.Queue(lockSQL, k)
		}
	}
	b.Queue(l.qSelectMany, keys).Query(read)
	c, err := l.db.openTx(ctx, b)
	if err != nil {
		return nil, err
	}
	ds := decide()
	w := &pgx.Batch{}
	if ports.RateBatchGoesThrough(reqs, ds) {
		for i, r := range reqs {
			if r.Record && ds[i].Allowed && len(r.Limits) > 0 {
				l.queueRecord(w, r.Key, rows[r.Key], now, keep)
			}
		}
	}
	if w.Len() == 0 {
		rollbackTx(ctx, c) // nothing is recorded
		return ds, nil
	}
	if err := commitTx(ctx, c, w); err != nil {
		return nil, err
	}
	l.recorded(ctx, now, w.Len())
	return ds, nil
}

// SetRetention sets how long the limiter keeps an event (see ports.RateLimiter); zero or
// less restores ports.DefaultRateRetention. It never keeps events for less than the longest
// Per this RateLimiter value has been asked about. Set every instance on one schema alike,
// to at least the longest window any of them uses. It is safe to call at any time.
func (l *RateLimiter) SetRetention(d time.Duration) { l.retention.Set(d) }

// Peek implements ports.RateLimiter. It reads the committed events of key without locking,
// in one round trip.
func (l *RateLimiter) Peek(ctx context.Context, key string, now time.Time, limits ...ports.RateLimit) (ports.RateDecision, error) {
	return l.decideOne(ctx, key, now, false, limits)
}

// PurgeStale deletes up to limit keys whose events the retention no longer covers at now
// (their newest event is older than the retention it was recorded with), and returns how
// many it deleted. Hosts call it periodically, like otp.Service.Sweep.
func (l *RateLimiter) PurgeStale(ctx context.Context, now time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	ct, err := l.db.pool.Exec(ctx, l.qPurge, now.UnixNano(), limit)
	if err != nil {
		return 0, storageError(err)
	}
	return int(ct.RowsAffected()), nil
}

// Undo implements ports.RateLimiter: under the key's lock, it removes one event recorded at
// exactly at (to the nanosecond) from the key's events, and the key's row once it holds
// none.
func (l *RateLimiter) Undo(ctx context.Context, key string, at time.Time) error {
	b := &pgx.Batch{}
	b.Queue("begin")
	b.Queue(asyncCommitSQL)
	b.Queue(lockSQL, l.db.lockKey("rate", key))
	c, err := l.db.openTx(ctx, b)
	if err != nil {
		return err
	}
	w := &pgx.Batch{}
	w.Queue(l.qUndo, []byte(key), at.UnixNano())
	w.Queue(l.qDropEmpty, []byte(key)) // nothing left to count: keep no empty row
	return commitTx(ctx, c, w)
}
