package postgres

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verifykit/verifykit/ports"
)

// OTPStore is a ports.OTPStore in PostgreSQL (table otp_verifications): one row per purpose
// and subject, the Verification in a jsonb column (see verificationJSON), its KeepUntil also
// in an indexed column for the sweeps, its Version in a column of its own (migration 014).
// Purpose and subject are bytea, so any Go string is kept exactly.
//
// Update runs in one transaction of two round trips: the first begins it, inserts an empty
// placeholder row for the purpose and subject if there is none (INSERT ... ON CONFLICT DO
// NOTHING: a concurrent Update of the same key waits there until this one ends) and selects
// the row FOR UPDATE; fn runs while it is locked; the second writes what fn left and commits.
// If fn fails, the transaction rolls back and a placeholder row goes with it: no other
// session ever sees one.
//
// Like the memory store, it also purges on its own: every 1024th Update of an OTPStore value
// deletes, after its commit, up to 256 Verifications whose KeepUntil is at or before the
// latest time the written Verification names (its code's creation or use, its latest
// failure), since the store has no clock of its own. Hosts should still call PurgeExpired
// (otp.Service.Sweep) periodically.
type OTPStore struct {
	db     *DB
	writes atomic.Uint64

	qGet, qEnsure, qLock, qWrite, qPurge string
}

// Sizes of the purges that OTPStore and RateLimiter make on their own: every autoPurgeEvery
// writes, up to autoPurgeBatch rows.
const (
	autoPurgeEvery = 1024
	autoPurgeBatch = 256
)

// purgeAllBatch is the batch size of PurgeExpired with a negative limit.
const purgeAllBatch = 1000

func newOTPStore(db *DB) *OTPStore {
	t := db.table("otp_verifications")
	return &OTPStore{
		db:      db,
		qGet:    "select verification, version from " + t + " where purpose = $1 and subject = $2",
		qEnsure: "insert into " + t + " (purpose, subject, verification, keep_until) values ($1, $2, '{}', '-infinity') on conflict do nothing",
		qLock:   "select verification, version from " + t + " where purpose = $1 and subject = $2 for update",
		qWrite:  "update " + t + " set verification = $3, keep_until = $4, version = $5 where purpose = $1 and subject = $2",
		qPurge: "delete from " + t + " where (purpose, subject) in (select purpose, subject from " + t +
			" where keep_until <= $1 order by keep_until limit $2 for update skip locked)",
	}
}

// Get implements ports.OTPStore.
func (s *OTPStore) Get(ctx context.Context, purpose, subject string) (ports.Verification, error) {
	return queryRow(ctx, s.db, s.qGet, []any{[]byte(purpose), []byte(subject)}, scanVerification, ports.ErrNoCode)
}

// scanVerification reads the verification and version columns of row into v.
func scanVerification(row pgx.Row, v *ports.Verification) error {
	var j verificationJSON
	var version int64
	if err := row.Scan(&j, &version); err != nil {
		return err
	}
	*v = j.verification()
	v.Version = version
	return nil
}

// Update implements ports.OTPStore in one transaction of two round trips (see OTPStore). A
// done ctx is a KindUnavailable error that wraps ctx.Err(), as the rate limiter answers.
func (s *OTPStore) Update(ctx context.Context, purpose, subject string, fn func(*ports.Verification) error) (ports.Verification, error) {
	if err := ctx.Err(); err != nil {
		return ports.Verification{}, storageError(err)
	}
	key := []any{[]byte(purpose), []byte(subject)}
	var cur ports.Verification
	b := &pgx.Batch{}
	b.Queue(s.qEnsure, key...)
	// The row exists now (ensured or already there): without it the batch fails as a whole.
	b.Queue(s.qLock, key...).QueryRow(func(row pgx.Row) error { return scanVerification(row, &cur) })
	var version int64
	v, err := lockedChange(ctx, s.db, b, func() (ports.Verification, error) { version = cur.Version + 1; return cur, nil }, fn,
		func(b *pgx.Batch, v *ports.Verification) error {
			v.Version = version // a placeholder row has version 0: its first write stores 1
			ports.StampVersion(v.Outbox, v.Code.ID, v.Version)
			b.Queue(s.qWrite, append(key, toVerificationJSON(*v), v.KeepUntil, v.Version)...)
			s.db.outbox.queue(b, v.Outbox)
			v.Outbox = nil
			return nil
		})
	if err != nil {
		return ports.Verification{}, err
	}
	if s.writes.Add(1)%autoPurgeEvery == 0 {
		if now := latestTime(v); !now.IsZero() {
			_, _ = s.PurgeExpired(ctx, now, autoPurgeBatch) // best effort: the host's sweep catches up
		}
	}
	return v, nil
}

// latestTime is the latest time v names: its code's creation or use, or its latest failure.
func latestTime(v ports.Verification) time.Time {
	t := v.Code.CreatedAt
	if v.Code.UsedAt.After(t) {
		t = v.Code.UsedAt
	}
	if n := len(v.Failures); n > 0 && v.Failures[n-1].After(t) {
		t = v.Failures[n-1]
	}
	return t
}

// PurgeExpired implements ports.OTPStore: each batch is one DELETE of at most limit rows
// whose KeepUntil is at or before before, skipping rows an Update holds locked. A negative
// limit deletes them all, purgeAllBatch at a time.
func (s *OTPStore) PurgeExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit >= 0 {
		if limit == 0 {
			return 0, ctx.Err()
		}
		return s.db.execCount(ctx, s.qPurge, before, limit)
	}
	total := 0
	for {
		n, err := s.db.execCount(ctx, s.qPurge, before, purgeAllBatch)
		total += n
		if err != nil || n < purgeAllBatch {
			return total, err
		}
	}
}
