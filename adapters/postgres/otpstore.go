package postgres

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/verifykit/verifykit/ports"
)

// OTPStore is a ports.OTPStore in PostgreSQL (table otp_codes). Every step on the codes of
// one purpose and subject runs in one transaction that first takes the advisory lock of that
// purpose and subject, so steps are serialised across connections and instances exactly as
// the memory store serialises them with a mutex. The latest code is the last one inserted.
//
// Besides the port it keeps one rule of its own: code ids are unique across the table, and
// CreateCode answers KindConflict for an id that is already stored. Every 1024th CreateCode
// of an OTPStore value also deletes up to 256 codes that expired before the new one was
// created; hosts should still call PurgeExpired (otp.Service.Sweep) periodically.
type OTPStore struct {
	db      *DB
	creates atomic.Uint64

	qLock, qSupersede, qInsert, qLatest, qUpdate, qInvalidate, qUndeliverable, qExists, qCodes, qPurge string
}

// Sizes of the purges CreateCode makes on its own.
const (
	autoPurgeEvery = 1024
	autoPurgeBatch = 256
	// purgeAllBatch is the batch size of PurgeExpired with a negative limit.
	purgeAllBatch = 1000
)

const lockSQL = "select pg_advisory_xact_lock($1)"

// otpColumns are the columns scanRecord reads, in its order.
const otpColumns = "seq, id, hash, key_id, state, attempts, max_attempts, created_at, expires_at, used_at"

func newOTPStore(db *DB) *OTPStore {
	t := db.table("otp_codes")
	return &OTPStore{
		db:         db,
		qLock:      lockSQL,
		qSupersede: "update " + t + " set state = 'superseded' where purpose = $1 and subject = $2 and state = 'active'",
		qInsert: "insert into " + t + " (id, purpose, subject, hash, key_id, state, attempts, max_attempts, created_at, expires_at, used_at)" +
			" values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
		qLatest:        "select " + otpColumns + " from " + t + " where purpose = $1 and subject = $2 order by seq desc limit 1 for update",
		qUpdate:        "update " + t + " set state = $2, attempts = $3, used_at = $4 where seq = $1",
		qInvalidate:    "update " + t + " set state = 'superseded' where purpose = $1 and subject = $2 and state = 'active'",
		qUndeliverable: "update " + t + " set state = 'undeliverable' where purpose = $1 and subject = $2 and id = $3 and state = 'active'",
		qExists:        "select exists (select from " + t + " where purpose = $1 and subject = $2 and id = $3)",
		qCodes:         "select " + otpColumns + " from " + t + " where purpose = $1 and subject = $2 order by seq",
		qPurge: "delete from " + t + " where seq in (select seq from " + t +
			" where expires_at <= $1 order by expires_at limit $2 for update skip locked)",
	}
}

// subjectLock is the advisory lock key of the codes of a purpose and subject.
func (s *OTPStore) subjectLock(purpose, subject string) int64 {
	return s.db.lockKey("otp", purpose, subject)
}

// CreateCode implements ports.OTPStore: in one transaction it takes the lock of the purpose
// and subject, supersedes their active codes and inserts rec. It answers KindConflict when a
// code with rec.ID is already stored.
func (s *OTPStore) CreateCode(ctx context.Context, rec ports.OTPRecord) (int, error) {
	purpose, subject := []byte(rec.Purpose), []byte(rec.Subject)
	hash := rec.Hash
	if hash == nil {
		hash = []byte{}
	}
	usedAt := optTime(rec.UsedAt)
	superseded := 0
	b := &pgx.Batch{}
	b.Queue(s.qLock, s.subjectLock(rec.Purpose, rec.Subject))
	b.Queue(s.qSupersede, purpose, subject).Exec(func(ct pgconn.CommandTag) error {
		superseded = int(ct.RowsAffected())
		return nil
	})
	b.Queue(s.qInsert, rec.ID, purpose, subject, hash, rec.KeyID, string(rec.State), rec.Attempts, rec.MaxAttempts,
		rec.CreatedAt, rec.ExpiresAt, usedAt)
	if err := s.db.sendBatch(ctx, b); err != nil {
		return 0, err
	}
	if s.creates.Add(1)%autoPurgeEvery == 0 {
		_, _ = s.PurgeExpired(ctx, rec.CreatedAt, autoPurgeBatch) // best effort: the sweep of the host catches up
	}
	return superseded, nil
}

// VerifyLatest implements ports.OTPStore. In one transaction it takes the lock of the purpose
// and subject, selects their latest code FOR UPDATE (one round trip), applies
// ports.ApplyVerify to it (match runs while the row is locked) and writes the change with the
// commit (a second round trip). If the connection fails before the commit, nothing changed.
func (s *OTPStore) VerifyLatest(ctx context.Context, purpose, subject string, now time.Time, match func(ports.OTPRecord) bool) (ports.OTPRecord, ports.VerifyOutcome, error) {
	var (
		rec   ports.OTPRecord
		seq   int64
		found bool
	)
	b := &pgx.Batch{}
	b.Queue("begin")
	b.Queue(s.qLock, s.subjectLock(purpose, subject))
	b.Queue(s.qLatest, []byte(purpose), []byte(subject)).QueryRow(func(row pgx.Row) error {
		var err error
		seq, err = scanRecord(row, &rec)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	c, err := s.db.openTx(ctx, b)
	if err != nil {
		return ports.OTPRecord{}, "", err
	}
	if !found {
		rollbackTx(ctx, c) // nothing was written: the answer holds whatever the rollback does
		return ports.OTPRecord{}, "", ports.ErrNoCode
	}
	rec.Purpose, rec.Subject = purpose, subject
	before := rec
	outcome := ports.ApplyVerify(&rec, now, match)
	if rec.State == before.State && rec.Attempts == before.Attempts {
		// Nothing to write (a code that was not active).
		rollbackTx(ctx, c)
		return rec, outcome, nil
	}
	usedAt := optTime(rec.UsedAt)
	w := &pgx.Batch{}
	w.Queue(s.qUpdate, seq, string(rec.State), rec.Attempts, usedAt)
	if err := commitTx(ctx, c, w); err != nil {
		return ports.OTPRecord{}, "", err
	}
	return rec, outcome, nil
}

// Invalidate implements ports.OTPStore.
func (s *OTPStore) Invalidate(ctx context.Context, purpose, subject string) (int, error) {
	n := 0
	b := &pgx.Batch{}
	b.Queue(s.qLock, s.subjectLock(purpose, subject))
	b.Queue(s.qInvalidate, []byte(purpose), []byte(subject)).Exec(func(ct pgconn.CommandTag) error {
		n = int(ct.RowsAffected())
		return nil
	})
	if err := s.db.sendBatch(ctx, b); err != nil {
		return 0, err
	}
	return n, nil
}

// MarkUndeliverable implements ports.OTPStore.
func (s *OTPStore) MarkUndeliverable(ctx context.Context, purpose, subject, id string) error {
	exists := false
	b := &pgx.Batch{}
	b.Queue(s.qLock, s.subjectLock(purpose, subject))
	b.Queue(s.qUndeliverable, []byte(purpose), []byte(subject), id)
	b.Queue(s.qExists, []byte(purpose), []byte(subject), id).QueryRow(func(row pgx.Row) error {
		return row.Scan(&exists)
	})
	if err := s.db.sendBatch(ctx, b); err != nil {
		return err
	}
	if !exists {
		return ports.ErrNoCode
	}
	return nil
}

// Codes implements ports.OTPStore.
func (s *OTPStore) Codes(ctx context.Context, purpose, subject string) ([]ports.OTPRecord, error) {
	rows, _ := s.db.pool.Query(ctx, s.qCodes, []byte(purpose), []byte(subject))
	codes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ports.OTPRecord, error) {
		rec := ports.OTPRecord{Purpose: purpose, Subject: subject}
		_, err := scanRecord(row, &rec)
		return rec, err
	})
	if err != nil {
		return nil, storageError(err)
	}
	return codes, nil
}

// PurgeExpired implements ports.OTPStore. It deletes at most limit codes in one statement,
// oldest expiry first, skipping codes that a verification holds locked; a negative limit
// deletes every expired code, in batches of 1000, each its own transaction.
func (s *OTPStore) PurgeExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit >= 0 {
		return s.purge(ctx, before, limit)
	}
	total := 0
	for {
		n, err := s.purge(ctx, before, purgeAllBatch)
		total += n
		if err != nil || n < purgeAllBatch {
			return total, err
		}
	}
}

func (s *OTPStore) purge(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit == 0 {
		return 0, nil
	}
	ct, err := s.db.pool.Exec(ctx, s.qPurge, before, limit)
	if err != nil {
		return 0, storageError(err)
	}
	return int(ct.RowsAffected()), nil
}

// scanRecord reads the columns otpColumns lists into rec (all but purpose and subject) and
// returns the row's seq.
func scanRecord(row pgx.Row, rec *ports.OTPRecord) (int64, error) {
	var (
		seq    int64
		state  string
		usedAt *time.Time
	)
	err := row.Scan(&seq, &rec.ID, &rec.Hash, &rec.KeyID, &state, &rec.Attempts, &rec.MaxAttempts,
		&rec.CreatedAt, &rec.ExpiresAt, &usedAt)
	if err != nil {
		return 0, err
	}
	rec.State = ports.CodeState(state)
	rec.UsedAt = fromOptTime(usedAt)
	return seq, nil
}
