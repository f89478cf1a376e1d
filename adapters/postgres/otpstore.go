package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verifykit/verifykit/ports"
)

// OTPStore is a ports.OTPStore in PostgreSQL (table otp_verifications): one row per purpose
// and subject, the Verification in a jsonb column, its KeepUntil in an indexed column for the
// sweeps. Purpose and subject are bytea, so any Go string is kept exactly.
//
// Update runs in one transaction of two round trips: the first inserts an empty row for the
// purpose and subject if there is none (ON CONFLICT DO NOTHING: a concurrent Update of the
// same key waits for this one to end) and selects the row FOR UPDATE; fn runs while it is
// locked; the second writes what fn left and commits. If fn fails, the transaction rolls back
// and the placeholder row goes with it. The store does not purge on its own: hosts call
// PurgeExpired (otp.Service.Sweep) periodically.
type OTPStore struct {
	db *DB

	qGet, qEnsure, qLock, qWrite, qPurge string
}

// purgeAllBatch is the batch size of PurgeExpired with a negative limit.
const purgeAllBatch = 1000

func newOTPStore(db *DB) *OTPStore {
	t := db.table("otp_verifications")
	return &OTPStore{
		db:      db,
		qGet:    "select verification from " + t + " where purpose = $1 and subject = $2",
		qEnsure: "insert into " + t + " (purpose, subject, verification, keep_until) values ($1, $2, '{}', '-infinity') on conflict do nothing",
		qLock:   "select verification from " + t + " where purpose = $1 and subject = $2 for update",
		qWrite:  "update " + t + " set verification = $3, keep_until = $4 where purpose = $1 and subject = $2",
		qPurge: "delete from " + t + " where (purpose, subject) in (select purpose, subject from " + t +
			" where keep_until <= $1 order by keep_until limit $2 for update skip locked)",
	}
}

// Get implements ports.OTPStore.
func (s *OTPStore) Get(ctx context.Context, purpose, subject string) (ports.Verification, error) {
	return queryRow(ctx, s.db, s.qGet, []any{[]byte(purpose), []byte(subject)}, scanVerification, ports.ErrNoCode)
}

func scanVerification(row pgx.Row, v *ports.Verification) error {
	var j verificationJSON
	if err := row.Scan(&j); err != nil {
		return err
	}
	*v = j.verification()
	return nil
}

// Update implements ports.OTPStore in one transaction of two round trips (see OTPStore).
func (s *OTPStore) Update(ctx context.Context, purpose, subject string, fn func(*ports.Verification) error) (ports.Verification, error) {
	if err := ctx.Err(); err != nil {
		return ports.Verification{}, storageError(err)
	}
	key := []any{[]byte(purpose), []byte(subject)}
	var (
		v       ports.Verification
		readErr error
	)
	b := &pgx.Batch{}
	b.Queue(s.qEnsure, key...)
	b.Queue(s.qLock, key...).QueryRow(func(row pgx.Row) error {
		readErr = scanVerification(row, &v)
		return readErr
	})
	return lockedChange(ctx, s.db, b, func() (ports.Verification, error) {
		if errors.Is(readErr, pgx.ErrNoRows) { // cannot happen: the row was just ensured
			return v, ports.ErrNoCode
		}
		return v, nil
	}, fn, func(b *pgx.Batch, v *ports.Verification) error {
		b.Queue(s.qWrite, append(key, toVerificationJSON(*v), v.KeepUntil)...)
		return nil
	})
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
