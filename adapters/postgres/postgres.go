package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/internal/storeerr"
	"github.com/verifykit/verifykit/ports"
)

// DefaultSchema is the schema the adapter uses when Options.Schema is empty.
const DefaultSchema = "verifykit"

// Options configure the adapter. The zero value is ready to use.
//
// Query tracing: a pgx QueryTracer sees every query the adapter runs. Open sets
// QueryTracer on the pool it builds; a host that builds its own pool for New sets it there
// instead, e.g. an OpenTelemetry one (github.com/exaring/otelpgx):
//
//	cfg, err := pgxpool.ParseConfig(dsn)
//	cfg.ConnConfig.Tracer = otelpgx.NewTracer(otelpgx.WithTracerProvider(tp))
//	pool, err := pgxpool.NewWithConfig(ctx, cfg)
//
// Its spans are children of verifykit's "verifykit.store.*" spans (see adapters/otel).
type Options struct {
	// Schema is the PostgreSQL schema that holds the adapter's tables. Default DefaultSchema.
	// It must be a lower-case identifier: a letter or underscore, then letters, digits or
	// underscores, at most 63 in all, not starting with "pg_".
	Schema string
	// QueryTracer, when set, traces every query of the pool Open builds. The adapter sends
	// most of its statements in batches, which pgx traces only through a tracer that also
	// implements pgx.BatchTracer (otelpgx's does). New refuses it: the
	// tracer of a pool is fixed when the pool is built, so set it on the pool's
	// ConnConfig.Tracer there.
	QueryTracer pgx.QueryTracer
}

var schemaPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// schema returns the schema name the options ask for, or a KindInvalidInput error.
func (o Options) schema() (string, error) {
	s := o.Schema
	if s == "" {
		s = DefaultSchema
	}
	if !schemaPattern.MatchString(s) || strings.HasPrefix(s, "pg_") {
		return "", verifykit.Invalid("Invalid PostgreSQL adapter options.", verifykit.InvalidEntry{
			Entry: "Schema", EntryType: verifykit.EntryConfig, Rule: "format",
			Description: `must match ^[a-z_][a-z0-9_]{0,62}$ and not start with "pg_"`,
		})
	}
	return s, nil
}

// DB is the PostgreSQL adapter of one schema: it hands out the stores and the rate limiter,
// which share its pool. It is safe for concurrent use. The schema must have been migrated
// (see Migrate) before the stores are used.
type DB struct {
	pool           *pgxpool.Pool
	schema         string
	otp            *OTPStore
	limiter        *RateLimiter
	profile        *ProfileStore
	resets         *ResetRequestStore
	audit          *ProfileAuditLog
	procs          *ProcessStore
	personRequests *PersonRequestStore
	persons        *PersonStore
	methods        *AuthMethodStore
	confidants     *ConfidantStore
	outbox         *Outbox
	owned          bool // the pool is Open's: Close closes it
}

// New returns the adapter for the schema of opts on pool. It does not touch the database:
// run Migrate (once per deployment, or at every start; it is idempotent) before using it.
// The pool stays the caller's: close it after the last use of the adapter.
func New(pool *pgxpool.Pool, opts Options) (*DB, error) {
	if pool == nil {
		return nil, verifykit.Invalid("Invalid PostgreSQL adapter options.", verifykit.InvalidEntry{
			Entry: "pool", EntryType: verifykit.EntryConfig, Rule: "required", Description: "is required",
		})
	}
	if opts.QueryTracer != nil {
		return nil, verifykit.Invalid("Invalid PostgreSQL adapter options.", verifykit.InvalidEntry{
			Entry: "QueryTracer", EntryType: verifykit.EntryConfig, Rule: "unsupported",
			Description: "applies to the pool Open builds; for a pool of your own, set its ConnConfig.Tracer before building it",
		})
	}
	return newDB(pool, opts)
}

// Open builds a pool for dsn (a PostgreSQL URL or keyword/value string, as
// pgxpool.ParseConfig reads it), with opts.QueryTracer as its query tracer, and returns
// the adapter on it. Like New it does not migrate; unlike New the pool is the adapter's:
// Close closes it. A dsn that cannot be parsed is an invalid-config error naming "dsn"
// (its text is not repeated: it may hold a password).
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if _, err := opts.schema(); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, verifykit.Invalid("Invalid PostgreSQL adapter options.", verifykit.InvalidEntry{
			Entry: "dsn", EntryType: verifykit.EntryConfig, Rule: "format",
			Description: "is not a PostgreSQL connection string pgx can read",
		})
	}
	if opts.QueryTracer != nil {
		cfg.ConnConfig.Tracer = opts.QueryTracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	db, err := newDB(pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	db.owned = true
	return db, nil
}

// Close closes the pool when Open built it, after its connections are released; for an
// adapter of New it does nothing, since the pool is the caller's.
func (db *DB) Close() {
	if db.owned {
		db.pool.Close()
	}
}

// newDB returns the adapter on pool, with the stores of the schema of opts.
func newDB(pool *pgxpool.Pool, opts Options) (*DB, error) {
	schema, err := opts.schema()
	if err != nil {
		return nil, err
	}
	db := &DB{pool: pool, schema: schema}
	db.outbox = newOutbox(db)
	db.otp = newOTPStore(db)
	db.limiter = newRateLimiter(db)
	db.profile = newProfileStore(db)
	db.resets = newResetRequestStore(db)
	db.audit = newProfileAuditLog(db)
	db.procs = newProcessStore(db)
	db.personRequests = newPersonRequestStore(db)
	db.persons = newPersonStore(db)
	db.methods = newAuthMethodStore(db)
	db.confidants = newConfidantStore(db)
	return db, nil
}

// Schema returns the name of the schema the adapter works in.
func (db *DB) Schema() string { return db.schema }

// Pool returns the pool the adapter was built with.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Migrate applies the migrations the adapter's schema lacks; see the package function Migrate.
func (db *DB) Migrate(ctx context.Context) error {
	return Migrate(ctx, db.pool, Options{Schema: db.schema})
}

// OTPStore returns the ports.OTPStore of the adapter.
func (db *DB) OTPStore() *OTPStore { return db.otp }

// RateLimiter returns the ports.RateLimiter of the adapter. Every RateLimiter of every
// instance on the same schema shares the same counts.
func (db *DB) RateLimiter() *RateLimiter { return db.limiter }

// ProfileStore returns the ports.ProfileStore of the adapter.
func (db *DB) ProfileStore() *ProfileStore { return db.profile }

// ResetRequestStore returns the ports.ResetRequestStore of the adapter: it reads the reset
// requests that ProfileStore writes.
func (db *DB) ResetRequestStore() *ResetRequestStore { return db.resets }

// ProfileAuditLog returns the ports.ProfileAuditLog of the adapter: it reads the profile
// events that ProfileStore writes to the outbox with each change.
func (db *DB) ProfileAuditLog() *ProfileAuditLog { return db.audit }

// ProcessStore returns the ports.ProcessStore of the adapter.
func (db *DB) ProcessStore() *ProcessStore { return db.procs }

// PersonRequestStore returns the ports.PersonRequestStore of the adapter.
func (db *DB) PersonRequestStore() *PersonRequestStore { return db.personRequests }

// PersonStore returns the ports.PersonStore of the adapter.
func (db *DB) PersonStore() *PersonStore { return db.persons }

// AuthMethodStore returns the ports.AuthMethodStore of the adapter.
func (db *DB) AuthMethodStore() *AuthMethodStore { return db.methods }

// ConfidantStore returns the ports.ConfidantStore of the adapter.
func (db *DB) ConfidantStore() *ConfidantStore { return db.confidants }

// table returns the quoted, schema-qualified name of one of the adapter's tables, for use in
// SQL text. Only fixed table names and the validated schema ever reach it.
func (db *DB) table(name string) string {
	return pgx.Identifier{db.schema, name}.Sanitize()
}

// lockKey returns the 64-bit advisory lock key of the given parts within the adapter's schema:
// an FNV-1a hash of the length-prefixed parts, so that no two part lists share a key by
// construction (two keys may still collide, which only serialises them).
func (db *DB) lockKey(parts ...string) int64 {
	h := fnv.New64a()
	var n [binary.MaxVarintLen64]byte
	for _, p := range append([]string{"verifykit", db.schema}, parts...) {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(p)))])
		h.Write([]byte(p))
	}
	return int64(h.Sum64())
}

// openTx acquires a connection and sends b, whose first query must be "begin", in one round
// trip. On success the connection holds an open transaction that the caller ends with
// commitTx or rollbackTx; on failure the connection has been released.
func (db *DB) openTx(ctx context.Context, b *pgx.Batch) (*pgxpool.Conn, error) {
	c, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, storageError(err)
	}
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		release(c)
		return nil, storageError(err)
	}
	return c, nil
}

// commitTx sends the queries of b (which may be nil) followed by "commit" in one round trip,
// then releases c.
func commitTx(ctx context.Context, c *pgxpool.Conn, b *pgx.Batch) error {
	defer release(c)
	if b == nil {
		b = &pgx.Batch{}
	}
	b.Queue("commit")
	return storageError(c.SendBatch(ctx, b).Close())
}

// rollbackTx ends the transaction of c without writing, then releases c. Callers use it when
// the transaction wrote nothing, so its outcome does not matter: if the rollback fails, the
// pool destroys the connection and the server ends the transaction.
func rollbackTx(ctx context.Context, c *pgxpool.Conn) {
	defer release(c)
	_, _ = c.Exec(ctx, "rollback")
}

// release returns c to its pool. A connection still inside a transaction (after an error)
// is destroyed by the pool, which makes the server roll the transaction back.
func release(c *pgxpool.Conn) { c.Release() }

// sendBatch sends b on a connection of the pool as one implicit transaction: it commits when
// every query succeeds and rolls back otherwise.
func (db *DB) sendBatch(ctx context.Context, b *pgx.Batch) error {
	return storageError(db.pool.SendBatch(ctx, b).Close())
}

// storageError wraps an error of pgx in what ports asks of a store failure (see
// ports.ErrUnavailable): the cause, kept for errors.Is and errors.As, with
//   - ports.ErrUnavailable for connection failures, timeouts, cancelled contexts, an
//     overloaded or shutting-down server, serialisation failures and deadlocks (trying
//     again may work), and for errors that do not come from the server (the connection,
//     the pool, the context);
//   - ports.ErrInvalidText for text the database cannot hold (NUL bytes, invalid UTF-8);
//   - nothing more for any other error the server reports (a unique violation the store
//     did not expect, a missing table).
//
// nil stays nil, and an error storageError made comes back as it is.
func storageError(err error) error {
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &pe):
		return storeerr.Wrap("postgres", ports.ErrUnavailable, err)
	case pe.Code == "22021" || pe.Code == "22P05": // character_not_in_repertoire, untranslatable_character
		return storeerr.Wrap("postgres", ports.ErrInvalidText, err)
	case strings.HasPrefix(pe.Code, "08"), // connection exception
		strings.HasPrefix(pe.Code, "53"), // insufficient resources
		strings.HasPrefix(pe.Code, "57"), // operator intervention: query cancelled, admin shutdown, ...
		strings.HasPrefix(pe.Code, "40"), // transaction rollback: serialisation failure, deadlock
		pe.Code == "55P03":               // lock_not_available (lock_timeout)
		return storeerr.Wrap("postgres", ports.ErrUnavailable, err)
	}
	return storeerr.Wrap("postgres", nil, err)
}
