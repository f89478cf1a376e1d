// Package postgres keeps verifykit's state in PostgreSQL, so that several instances of a host
// service sharing one database keep every guarantee the memory adapter gives in one process:
// a code is consumed at most once, wrong attempts are counted atomically, a new code
// invalidates the older ones in the same transaction, and rate limits are shared by all
// instances.
//
// It uses github.com/jackc/pgx/v5 through a *pgxpool.Pool that the host opens and owns:
//
//	pool, err := pgxpool.New(ctx, "postgres://app@db:5432/app")
//	...
//	opts := postgres.Options{Schema: "verifykit"}
//	if err := postgres.Migrate(ctx, pool, opts); err != nil { ... }
//	db, err := postgres.New(pool, opts)
//	...
//	codes, err := otp.NewService(otp.Deps{Store: db.OTPStore(), Limiter: db.RateLimiter(), SMS: sms}, cfg)
//
// # Stores
//
// DB hands out one store per port, all sharing its pool: OTPStore and RateLimiter (the otp
// engine), ProfileStore, ResetRequestStore and ProfileAuditLog (identification profiles),
// ProcessStore (OTP identification processes), PersonRequestStore (person requests),
// PersonStore, AuthMethodStore and ConfidantStore (authentication methods). Nested values
// (a profile, an actor, the persons of a request, documents) are jsonb columns, read and
// written whole; everything a store filters, sorts or locks on is a real column with an
// index. Strings that are sorted or compared are COLLATE "C", so they order byte-wise as in
// Go.
//
// Every atomic Update(ctx, id, fn) of a store runs in one transaction: the row is selected
// FOR UPDATE (the methods of a person: an advisory lock of the person, which also covers a
// person with no method yet), fn is called while it is locked, and what fn left is written
// with the commit; if fn fails, the transaction is rolled back and nothing is written. Such
// an update costs two round trips. Sweeps (OTPStore.PurgeExpired, ProcessStore.ExpireDue,
// PersonRequestStore.ListCreatedBefore, RateLimiter.PurgeStale) work in bounded batches, so
// a large backlog never holds a long lock.
//
// # Schema and migrations
//
// Every table lives in one schema (Options.Schema, default "verifykit"), so a host can keep
// them apart from its own. Migrate creates the schema and applies the embedded migrations
// (migrations/NNN_name.sql) that the schema_migrations table of that schema does not list yet,
// each in its own transaction; it holds a session advisory lock while it works, so instances
// that start at once apply each migration exactly once.
//
// # Concurrency
//
// Operations on the codes of one purpose and subject, and on the events of one rate-limit key,
// take a transaction-scoped advisory lock on a 64-bit hash of the schema and the key, then the
// row locks they need, so they are serialised across every connection of every instance.
// Statements of one step are pipelined: a step costs one or two round trips.
//
// # Errors
//
// Failures of the database come back as *verifykit.Error: KindUnavailable for a lost
// connection, a timeout, a cancelled context or an overloaded server (the cause is kept for
// errors.Is); KindConflict for a unique violation; KindInternal for anything else (a missing
// table means Migrate was not run). "Not found" answers are the sentinels of the ports, e.g.
// ports.ErrNoCode.
//
// # Precision
//
// Times are stored as timestamptz, whose precision is one microsecond: sub-microsecond
// digits are dropped, so e.g. a code may expire up to 999ns earlier than asked. Times come
// back in UTC or in the local zone: compare them with time.Time.Equal. A zero time stays
// zero. Rate-limit events are
// kept in nanoseconds, exactly.
package postgres
