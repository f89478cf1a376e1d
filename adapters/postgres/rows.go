package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// lockSQL takes the transaction-scoped advisory lock of a key (DB.lockKey). The rate limiter
// and the methods of a person use it.
const lockSQL = "select pg_advisory_xact_lock($1)"

// updateLocked is the atomic read-modify-write of one row that the stores' Update methods
// share. sel with args must select the row FOR UPDATE; scan reads it; without a row it
// answers notFound. The rest is lockedChange's.
func updateLocked[T any](ctx context.Context, db *DB, sel string, args []any, scan func(pgx.Row, *T) error,
	notFound error, fn func(*T) error, write func(*pgx.Batch, *T)) (T, error) {
	var rec T
	found := false
	b := &pgx.Batch{}
	b.Queue(sel, args...).QueryRow(func(row pgx.Row) error {
		err := scan(row, &rec)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	return lockedChange(ctx, db, b, func() (T, error) {
		if !found {
			return rec, notFound
		}
		return rec, nil
	}, fn, func(b *pgx.Batch, rec *T) error { write(b, rec); return nil })
}

// lockedChange is the atomic read-modify-write the stores share. In one round trip it opens
// a transaction and sends read, whose queries lock what they read (SELECT ... FOR UPDATE, an
// advisory lock) and keep it in variables of the caller; loaded then returns the value, or an
// error (e.g. a "not found" sentinel) that ends the change. fn is called with the value while
// it is locked: if fn fails, the transaction is rolled back, nothing is written and fn's
// error comes back as it is. Else write queues the statements that store what fn left (or
// fails, and nothing is written), and they are sent with the commit: a second round trip.
// It returns ctx.Err() when ctx is done before it starts. A panic in fn rolls back.
func lockedChange[T any](ctx context.Context, db *DB, read *pgx.Batch, loaded func() (T, error),
	fn func(*T) error, write func(*pgx.Batch, *T) error) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	b := &pgx.Batch{QueuedQueries: append([]*pgx.QueuedQuery{{SQL: "begin"}}, read.QueuedQueries...)}
	c, err := db.openTx(ctx, b)
	if err != nil {
		return zero, err
	}
	open := true
	defer func() {
		if open {
			rollbackTx(ctx, c)
		}
	}()
	rec, err := loaded()
	if err != nil {
		return zero, err
	}
	if err := fn(&rec); err != nil {
		return zero, err
	}
	w := &pgx.Batch{}
	if err := write(w, &rec); err != nil {
		return zero, err
	}
	open = false
	if err := commitTx(ctx, c, w); err != nil {
		return zero, err
	}
	return rec, nil
}

// execCount runs one statement on the pool and returns how many rows it changed. It returns
// ctx.Err() when ctx is done before it starts.
func (db *DB) execCount(ctx context.Context, sql string, args ...any) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	ct, err := db.pool.Exec(ctx, sql, args...)
	if err != nil {
		return 0, storageError(err)
	}
	return int(ct.RowsAffected()), nil
}

// insertNew runs sql, an INSERT ... ON CONFLICT DO NOTHING of one row, and answers exists
// when the row was not inserted because its key is taken.
func (db *DB) insertNew(ctx context.Context, exists error, sql string, args ...any) error {
	n, err := db.execCount(ctx, sql, args...)
	if err == nil && n == 0 {
		return exists
	}
	return err
}

// queryRow runs sel on the pool and scans its one row with scan; without a row it answers
// notFound. It returns ctx.Err() when ctx is done before it starts.
func queryRow[T any](ctx context.Context, db *DB, sel string, args []any, scan func(pgx.Row, *T) error, notFound error) (T, error) {
	var rec T
	if err := ctx.Err(); err != nil {
		return rec, err
	}
	err := scan(db.pool.QueryRow(ctx, sel, args...), &rec)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return rec, notFound
	case err != nil:
		return rec, storageError(err)
	}
	return rec, nil
}

// queryRows runs sel on the pool and scans every row with scan. It returns an empty, non-nil
// slice when there is no row, and ctx.Err() when ctx is done before it starts.
func queryRows[T any](ctx context.Context, db *DB, sel string, args []any, scan func(pgx.Row, *T) error) ([]T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, _ := db.pool.Query(ctx, sel, args...)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) {
		var rec T
		err := scan(row, &rec)
		return rec, err
	})
	if err != nil {
		return nil, storageError(err)
	}
	if out == nil {
		out = []T{}
	}
	return out, nil
}

// listPage reads, in one round trip, how many rows of table match where (a condition over
// args, "" for every row) and the page of them ordered by orderBy, from offset (at least 0),
// at most *limit of them (nil: no limit), scanned with scan. where and orderBy must be built
// from fixed SQL only; values go in args. The page is never nil. It returns ctx.Err() when
// ctx is done before it starts.
func listPage[T any](ctx context.Context, db *DB, columns, table, where string, args []any, orderBy string,
	offset int, limit *int, scan func(pgx.Row, *T) error) ([]T, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	if where != "" {
		where = " where " + where
	}
	total := 0
	page := []T{}
	n := len(args)
	b := &pgx.Batch{}
	b.Queue("select count(*) from "+table+where, args...).QueryRow(func(row pgx.Row) error { return row.Scan(&total) })
	b.Queue("select "+columns+" from "+table+where+" order by "+orderBy+
		" offset $"+strconv.Itoa(n+1)+" limit $"+strconv.Itoa(n+2), append(args[:n:n], offset, limit)...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var rec T
			if err := scan(rows, &rec); err != nil {
				return err
			}
			page = append(page, rec)
		}
		return rows.Err()
	})
	if err := storageError(db.pool.SendBatch(ctx, b).Close()); err != nil {
		return nil, 0, err
	}
	return page, total, nil
}

// isUniqueViolation reports whether err is a unique violation of the named constraint or
// index.
func isUniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == constraint
}

// optTime is t as a nullable timestamptz: NULL for the zero time.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// fromOptTime is the time a nullable timestamptz holds: the zero time for NULL.
func fromOptTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// jsonArray is s for a nullable jsonb column: NULL for nil, so that nil and empty slices
// come back as they went in.
func jsonArray[T any](s []T) any {
	if s == nil {
		return nil
	}
	return s
}

// dbTime is t as the database gives it back: the zero time for the zero time, else t
// truncated to the microsecond (as pgx sends it), in UTC. Stores apply it to what they
// return from an update, so that it equals what a later read gives.
func dbTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Truncate(time.Microsecond).UTC()
}

// strs is s for a "text[] not null" column: an empty array for nil.
func strs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
