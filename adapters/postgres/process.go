package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verifykit/verifykit/ports"
)

// ProcessStore is a ports.ProcessStore in PostgreSQL (table processes). The actor and the
// Verification (the process's latest code and failures, see verificationJSON) are jsonb;
// state, organisation and times are columns. Update and Delete with a check select the
// process FOR UPDATE in a transaction, so every change of one process, its code included, is
// serialised across instances. List evaluates ports.EffectiveProcessState in SQL, so a CREATED process
// past its expiry is listed as EXPIRED before ExpireDue stores it. ExpireDue changes at most
// limit processes in one statement, skipping processes that another transaction holds
// locked, so a backlog is worked off in short batches.
type ProcessStore struct {
	db *DB

	table, qInsert, qGet, qLock, qUpdate, qDelete, qDeleteNow, qExpire string
}

// processColumns are the columns scanProcess reads and processArgs writes, in their order.
const processColumns = "id, org_id, state, actor, two_factor_type, channel_type, channel_external, created_at, updated_at," +
	" expires_at, code_sent_at, codes_sent, failed_attempts, validated_at, two_factor_evidence, cancelled_at, cancel_reason," +
	" verification, version"

func newProcessStore(db *DB) *ProcessStore {
	t := db.table("processes")
	return &ProcessStore{
		db:    db,
		table: t,
		qInsert: "insert into " + t + " (" + processColumns + ")" +
			" values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) on conflict (id) do nothing",
		qGet:  "select " + processColumns + " from " + t + " where id = $1 and org_id = $2",
		qLock: "select " + processColumns + " from " + t + " where id = $1 and org_id = $2 for update",
		qUpdate: "update " + t + " set state = $3, actor = $4, two_factor_type = $5, channel_type = $6, channel_external = $7," +
			" created_at = $8, updated_at = $9, expires_at = $10, code_sent_at = $11, codes_sent = $12, failed_attempts = $13," +
			" validated_at = $14, two_factor_evidence = $15, cancelled_at = $16, cancel_reason = $17, verification = $18, version = $19" +
			" where id = $1 and org_id = $2",
		qDelete:    "delete from " + t + " where id = $1",
		qDeleteNow: "delete from " + t + " where id = $1 and org_id = $2",
		qExpire: "update " + t + " set state = '" + string(ports.ProcessStateExpired) + "', updated_at = $1, version = version + 1 where id in (select id from " + t +
			" where state = '" + string(ports.ProcessStateCreated) + "' and expires_at <= $1 order by expires_at limit $2 for update skip locked)" +
			" returning " + processColumns,
	}
}

func processArgs(r *ports.ProcessRecord) []any {
	return []any{r.ID, r.OrgID, r.State, r.Actor, r.TwoFactorType, r.Channel.Type, r.Channel.External, r.CreatedAt, r.UpdatedAt,
		r.ExpiresAt, r.CodeSentAt, r.CodesSent, r.FailedAttempts, r.ValidatedAt, r.TwoFactorEvidence, r.CancelledAt, r.CancelReason,
		toVerificationJSON(r.Verification), r.Version}
}

func scanProcess(row pgx.Row, r *ports.ProcessRecord) error {
	var v verificationJSON
	err := row.Scan(&r.ID, &r.OrgID, &r.State, &r.Actor, &r.TwoFactorType, &r.Channel.Type, &r.Channel.External, &r.CreatedAt,
		&r.UpdatedAt, &r.ExpiresAt, &r.CodeSentAt, &r.CodesSent, &r.FailedAttempts, &r.ValidatedAt, &r.TwoFactorEvidence,
		&r.CancelledAt, &r.CancelReason, &v, &r.Version)
	r.Verification = v.verification()
	// The zero time comes back as 0001-01-01 in the local zone: make it the zero value.
	for _, t := range []*time.Time{&r.CreatedAt, &r.UpdatedAt, &r.ExpiresAt, &r.CodeSentAt, &r.ValidatedAt, &r.CancelledAt} {
		if t.IsZero() {
			*t = time.Time{}
		}
	}
	return err
}

// Create implements ports.ProcessStore.
func (s *ProcessStore) Create(ctx context.Context, rec ports.ProcessRecord) error {
	rec.Version = 1
	rec.Outbox = ports.CloneLifecycleEvents(rec.Outbox) // stamped: the caller's slice stays as it is
	ports.StampVersion(rec.Outbox, rec.ID, rec.Version)
	return s.db.insertNewWithEvents(ctx, ports.ErrProcessExists, rec.Outbox, s.qInsert, processArgs(&rec)...)
}

// Get implements ports.ProcessStore.
func (s *ProcessStore) Get(ctx context.Context, orgID, id string) (ports.ProcessRecord, error) {
	return queryRow(ctx, s.db, s.qGet, []any{id, orgID}, scanProcess, ports.ErrProcessNotFound)
}

// Update implements ports.ProcessStore: the process is selected FOR UPDATE in a transaction,
// fn runs while it is locked, and what fn left is written with the commit, with its Outbox
// (deleted instead, when fn set Deleted).
func (s *ProcessStore) Update(ctx context.Context, orgID, id string, fn func(*ports.ProcessRecord) error) (ports.ProcessRecord, error) {
	var version int64
	return updateLocked(ctx, s.db, s.qLock, []any{id, orgID}, scanProcess, ports.ErrProcessNotFound,
		func(r *ports.ProcessRecord) error { version = r.Version + 1; return fn(r) },
		func(b *pgx.Batch, r *ports.ProcessRecord) {
			r.ID, r.OrgID, r.Version = id, orgID, version
			ports.StampVersion(r.Outbox, id, version)
			if r.Deleted {
				b.Queue(s.qDelete, id)
			} else {
				b.Queue(s.qUpdate, processArgs(r)...)
			}
			s.db.outbox.queue(b, r.Outbox)
			r.Outbox = nil
		})
}

// Delete deletes the process id of orgID when check (nil: none) allows, as the memory
// adapter's does; the flows delete with Update and ProcessRecord.Deleted, and never call
// it. With a check, the process is selected FOR UPDATE in a
// transaction and deleted with the commit when check allows; without one, a single DELETE.
func (s *ProcessStore) Delete(ctx context.Context, orgID, id string, check func(ports.ProcessRecord) error) error {
	if check == nil {
		n, err := s.db.execCount(ctx, s.qDeleteNow, id, orgID)
		if err == nil && n == 0 {
			return ports.ErrProcessNotFound
		}
		return err
	}
	_, err := updateLocked(ctx, s.db, s.qLock, []any{id, orgID}, scanProcess, ports.ErrProcessNotFound,
		func(r *ports.ProcessRecord) error { return check(*r) },
		func(b *pgx.Batch, _ *ports.ProcessRecord) { b.Queue(s.qDelete, id) })
	return err
}

// List implements ports.ProcessStore. The page and the total are read in one round trip.
func (s *ProcessStore) List(ctx context.Context, f ports.ProcessFilter) (ports.ProcessPage, error) {
	where := "org_id = $1"
	args := []any{f.OrgID}
	if len(f.States) > 0 {
		where += " and (case when state = '" + string(ports.ProcessStateCreated) + "' and expires_at <= $2 then '" +
			string(ports.ProcessStateExpired) + "' else state end) = any($3)"
		args = append(args, f.Now, f.States)
	}
	var limit *int
	if f.Limit > 0 {
		limit = &f.Limit
	}
	procs, total, err := listPage(ctx, s.db, processColumns, s.table, where, args, "created_at, id", max(f.Offset, 0), limit, scanProcess)
	if err != nil {
		return ports.ProcessPage{}, err
	}
	return ports.ProcessPage{Processes: procs, Total: total}, nil
}

// ExpireDue implements ports.ProcessStore: one UPDATE of at most limit processes, the
// earliest expiry first, skipping processes locked by a running Update or Delete, in a
// transaction that inserts the expired event of each process it returns into the outbox
// before it commits (two round trips).
func (s *ProcessStore) ExpireDue(ctx context.Context, now time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var evs []ports.LifecycleEvent
	read := &pgx.Batch{}
	read.Queue("begin")
	read.Queue(s.qExpire, now, limit).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var r ports.ProcessRecord
			if err := scanProcess(rows, &r); err != nil {
				return err
			}
			evs = append(evs, ports.ProcessExpiredEvent(r, now))
		}
		return rows.Err()
	})
	c, err := s.db.openTx(ctx, read)
	if err != nil {
		return 0, err
	}
	if len(evs) == 0 {
		rollbackTx(ctx, c)
		return 0, nil
	}
	write := &pgx.Batch{}
	s.db.outbox.queue(write, evs)
	if err := commitTx(ctx, c, write); err != nil {
		return 0, err
	}
	return len(evs), nil
}
