package postgres

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/verifykit/verifykit/ports"
)

// Outbox is the transactional outbox of a DB (table outbox, migration 009): every store of
// the DB inserts the events of a record's Outbox field in the transaction that writes the
// record, and Outbox is the ports.OutboxStore dispatchers read them through, and the
// ports.EventLog flows append events of refusals that change nothing to. Several
// dispatchers (of several instances) may share it: Claim selects due rows FOR UPDATE SKIP
// LOCKED and leases them in one statement, so no two of them claim one row while its lease
// runs. Purge deletes delivered rows (migration 013 adds delivered_at); the profile events
// in it are the profile audit trail as well (ProfileAuditLog reads them).
//
// Event ids must be UUIDs (ports.NewLifecycleEvent makes them).
type Outbox struct {
	db *DB

	qInsert, qClaim, qMark, qAck, qRetry, qDead, qDeadList, qRedrive, qAll, qPurge string
}

// outboxColumns are the columns scanOutboxEntry reads, in its order.
const outboxColumns = "event, state, attempts, next_attempt_at, locked_until, last_error, delivered_to, delivered_at"

func newOutbox(db *DB) *Outbox {
	t := db.table("outbox")
	return &Outbox{
		db: db,
		qInsert: "insert into " + t + " (id, type, occurred_at, org_id, aggregate_type, aggregate_id, aggregate_version, event, next_attempt_at)" +
			" values ($1, $2, $3, $4, $5, $6, $7, $8, $3)",
		qClaim: "update " + t + " o set locked_until = $2 from (select id from " + t +
			" where state = 'pending' and next_attempt_at <= $1 and (locked_until is null or locked_until <= $1)" +
			" order by occurred_at, seq limit $3 for update skip locked) due where o.id = due.id" +
			" returning o.seq, " + prefixed("o.", outboxColumns),
		// The claimed entry's writes apply while its lease ($2, the locked_until its Claim
		// returned) holds.
		qMark:     "update " + t + " set delivered_to = case when $3 = any(delivered_to) then delivered_to else array_append(delivered_to, $3) end where id = $1 and state = 'pending' and locked_until = $2",
		qAck:      "update " + t + " set state = 'delivered', locked_until = null, next_attempt_at = $3, delivered_at = $3 where id = $1 and state = 'pending' and locked_until = $2",
		qRetry:    "update " + t + " set attempts = attempts + 1, locked_until = null, next_attempt_at = $3, last_error = $4 where id = $1 and state = 'pending' and locked_until = $2",
		qDead:     "update " + t + " set state = 'dead', attempts = attempts + 1, locked_until = null, last_error = $3 where id = $1 and state = 'pending' and locked_until = $2",
		qDeadList: "select seq, " + outboxColumns + " from " + t + " where state = 'dead' order by occurred_at, seq limit $1",
		qRedrive:  "update " + t + " set state = 'pending', attempts = 0, locked_until = null, next_attempt_at = $2 where id = $1 and state = 'dead'",
		qAll:      "select seq, " + outboxColumns + " from " + t + " order by occurred_at, seq",
		// The oldest deliveries first, through the partial index outbox_delivered
		// (aggregate_type, delivered_at): a loose scan finds the aggregate types that have
		// delivered rows, and the oldest rows of each type that is not kept are locked
		// (rows another Purge holds are skipped, not waited for) and deleted by their
		// primary key. So the events a purge keeps (the audit trail, however long) are
		// never read. $3 NULL: no limit.
		qPurge: "with recursive types as (" +
			"(select aggregate_type as t from " + t + " where state = 'delivered' order by aggregate_type limit 1)" +
			" union all select (select o.aggregate_type from " + t + " o where o.state = 'delivered' and o.aggregate_type > types.t" +
			" order by o.aggregate_type limit 1) from types where types.t is not null)" +
			" delete from " + t + " where id = any(array(select d.id from types cross join lateral (select o.id, o.delivered_at from " + t + " o" +
			" where o.state = 'delivered' and o.aggregate_type = types.t and o.delivered_at < $1 order by o.delivered_at limit $3" +
			" for update skip locked) d where types.t is not null and not (types.t = any($2)) order by d.delivered_at limit $3))",
	}
}

// prefixed returns the comma-separated columns with p before each.
func prefixed(p, columns string) string {
	cols := strings.Split(columns, ", ")
	for i := range cols {
		cols[i] = p + cols[i]
	}
	return strings.Join(cols, ", ")
}

// Outbox returns the outbox the stores of db write to.
func (db *DB) Outbox() *Outbox { return db.outbox }

// queue adds the inserts of evs to b, the batch of a transaction that writes the change
// they report.
func (o *Outbox) queue(b *pgx.Batch, evs []ports.LifecycleEvent) {
	for i := range evs {
		ev := &evs[i]
		b.Queue(o.qInsert, ev.ID, ev.Type, ev.Time, ev.OrgID, ev.AggregateType, ev.AggregateID, ev.AggregateVersion, *ev)
	}
}

// Append implements ports.EventLog: evs are inserted in one implicit transaction.
func (o *Outbox) Append(ctx context.Context, evs ...ports.LifecycleEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(evs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	o.queue(b, evs)
	return o.db.sendBatch(ctx, b)
}

type seqEntry struct {
	seq int64
	e   ports.OutboxEntry
}

func scanOutboxEntry(row pgx.Row, se *seqEntry) error {
	var locked, delivered *time.Time
	var state string
	err := row.Scan(&se.seq, &se.e.Event, &state, &se.e.Attempts, &se.e.NextAttemptAt, &locked, &se.e.LastError, &se.e.DeliveredTo, &delivered)
	se.e.State, se.e.LockedUntil, se.e.DeliveredAt = ports.OutboxState(state), fromOptTime(locked), fromOptTime(delivered)
	return err
}

func entries(ses []seqEntry) []ports.OutboxEntry {
	slices.SortFunc(ses, func(a, b seqEntry) int {
		return cmp.Or(a.e.Event.Time.Compare(b.e.Event.Time), cmp.Compare(a.seq, b.seq))
	})
	out := make([]ports.OutboxEntry, len(ses))
	for i := range ses {
		out[i] = ses[i].e
	}
	return out
}

// Claim implements ports.OutboxStore in one statement (an implicit transaction).
func (o *Outbox) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]ports.OutboxEntry, error) {
	if limit < 1 {
		return []ports.OutboxEntry{}, ctx.Err()
	}
	ses, err := queryRows(ctx, o.db, o.qClaim, []any{now, now.Add(lease), limit}, scanOutboxEntry)
	if err != nil {
		return nil, err
	}
	return entries(ses), nil
}

// change runs one update of the entry id and answers ErrOutboxEntryNotFound when it
// changed nothing.
func (o *Outbox) change(ctx context.Context, sql string, args ...any) error {
	n, err := o.db.execCount(ctx, sql, args...)
	if err == nil && n == 0 {
		return ports.ErrOutboxEntryNotFound
	}
	return err
}

// leased runs one update of the claimed entry e under its lease and answers
// ports.ErrOutboxLeaseLost when it changed nothing.
func (o *Outbox) leased(ctx context.Context, sql string, e ports.OutboxEntry, args ...any) error {
	n, err := o.db.execCount(ctx, sql, append([]any{e.Event.ID, e.LockedUntil}, args...)...)
	if err == nil && n == 0 {
		return ports.ErrOutboxLeaseLost
	}
	return err
}

// MarkDelivered implements ports.OutboxStore.
func (o *Outbox) MarkDelivered(ctx context.Context, e ports.OutboxEntry, target string) error {
	return o.leased(ctx, o.qMark, e, target)
}

// Ack implements ports.OutboxStore.
func (o *Outbox) Ack(ctx context.Context, e ports.OutboxEntry, now time.Time) error {
	return o.leased(ctx, o.qAck, e, now)
}

// Retry implements ports.OutboxStore.
func (o *Outbox) Retry(ctx context.Context, e ports.OutboxEntry, nextAttemptAt time.Time, lastErr string) error {
	return o.leased(ctx, o.qRetry, e, nextAttemptAt, lastErr)
}

// Dead implements ports.OutboxStore.
func (o *Outbox) Dead(ctx context.Context, e ports.OutboxEntry, lastErr string) error {
	return o.leased(ctx, o.qDead, e, lastErr)
}

// DeadLetters implements ports.OutboxStore.
func (o *Outbox) DeadLetters(ctx context.Context, limit int) ([]ports.OutboxEntry, error) {
	if limit < 1 {
		return []ports.OutboxEntry{}, ctx.Err()
	}
	ses, err := queryRows(ctx, o.db, o.qDeadList, []any{limit}, scanOutboxEntry)
	if err != nil {
		return nil, err
	}
	return entries(ses), nil
}

// Redrive implements ports.OutboxStore.
func (o *Outbox) Redrive(ctx context.Context, id string, now time.Time) error {
	return o.change(ctx, o.qRedrive, id, now)
}

// Purge implements ports.OutboxStore in one statement: a DELETE of the oldest deliveries
// that req selects, FOR UPDATE SKIP LOCKED, so several instances purge side by side, each
// row once. Pending and dead rows are never touched.
func (o *Outbox) Purge(ctx context.Context, req ports.PurgeRequest) (int, error) {
	if err := req.Validate(); err != nil {
		return 0, err
	}
	var limit *int
	if req.Limit > 0 {
		limit = &req.Limit
	}
	keep := req.KeepAggregateTypes
	if keep == nil {
		keep = []string{}
	}
	return o.db.execCount(ctx, o.qPurge, req.DeliveredBefore, keep, limit)
}

// Entries returns every entry of the outbox, whatever its state, oldest first: for tests
// and operators' tools.
func (o *Outbox) Entries(ctx context.Context) ([]ports.OutboxEntry, error) {
	ses, err := queryRows(ctx, o.db, o.qAll, nil, scanOutboxEntry)
	if err != nil {
		return nil, err
	}
	return entries(ses), nil
}

// insertNewWithEvents is insertNew for a row whose write carries events: the row and the
// events are inserted in one transaction, the events only when the row was.
func (db *DB) insertNewWithEvents(ctx context.Context, exists error, evs []ports.LifecycleEvent, sql string, args ...any) error {
	if len(evs) == 0 {
		return db.insertNew(ctx, exists, sql, args...)
	}
	inserted := false
	read := &pgx.Batch{}
	read.Queue(sql, args...).Exec(func(ct pgconn.CommandTag) error {
		inserted = ct.RowsAffected() == 1
		return nil
	})
	_, err := lockedChange(ctx, db, read, func() (struct{}, error) {
		if !inserted {
			return struct{}{}, exists
		}
		return struct{}{}, nil
	}, func(*struct{}) error { return nil }, func(b *pgx.Batch, _ *struct{}) error {
		db.outbox.queue(b, evs)
		return nil
	})
	return err
}
