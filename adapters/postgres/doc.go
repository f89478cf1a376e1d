// Package postgres keeps verifykit's state in PostgreSQL, so that several instances of a host
// service sharing one database keep every guarantee the memory adapter gives in one process:
// a code is consumed at most once, wrong attempts are counted atomically, a new code
// replaces the older one in the same write as whatever it comes with, every use case commits
// all of its stored changes together or not at all, and rate limits are shared by all
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
// an update costs two round trips. ProfileStore writes a profile aggregate this way: the
// first round trip locks the profile row and then, in a statement of its own (so that it
// sees what the write it waited for committed), reads the user's PENDING reset request; the
// second writes the profile, inserts or updates the request fn touched, inserts fn's events
// into the outbox in order, and commits. ResetRequestStore and ProfileAuditLog (a reader
// over the profile events of the outbox) read what it writes;
// the partial unique index reset_requests_one_open keeps one PENDING request per user on
// top of the profile lock. Sweeps (OTPStore.PurgeExpired, ProcessStore.ExpireDue,
// PersonRequestStore.ListCreatedBefore, RateLimiter.PurgeStale) work in bounded batches, so
// a large backlog never holds a long lock.
//
// # One-time codes
//
// A one-time code lives in the record it confirms (see ports.Verification and "One use case,
// one atomic write" in package ports): the verification column (jsonb) of person_requests
// and of processes holds the record's latest code, as its keyed hash, and the failed
// attempts of its failure budget. Standalone codes (otp.Service.Issue and Verify) keep one
// Verification per purpose and subject in the table otp_verifications (purpose, subject,
// verification, keep_until, version; keep_until is indexed for OTPStore.PurgeExpired).
// Migration 008 created it and dropped the old otp_codes table; 014 added the version
// (ports.Verification.Version).
//
// A Verification write is therefore no write of its own: it is the UPDATE of the record's
// row (or of the otp_verifications row) that the store's Update sends with its commit, so
// the code and what it completes (APPROVED, VALIDATED, new upload URLs, the current method)
// are stored in one statement or not at all. In the jsonb, byte strings (code id, purpose,
// subject, hash) are base64 and times are microseconds since the Unix epoch (null for the
// zero time), so every Verification comes back exactly: Hash bytes, Failures in order, nil
// and empty slices apart, zero times zero. OTPStore.Update locks a row that may not exist
// yet: its first round trip inserts an empty placeholder row (ON CONFLICT DO NOTHING) and
// selects it FOR UPDATE; if fn fails, the rollback takes the placeholder with it.
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
// Changes of one record, code included, are serialised by its row lock (SELECT ... FOR
// UPDATE), those of one purpose and subject by the row lock of their otp_verifications row.
// Operations on the events of one rate-limit key, and on the methods of one person, take a
// transaction-scoped advisory lock on a 64-bit hash of the schema and the key, then the row
// locks they need. Either way they are serialised across every connection of every instance.
// Statements of one step are pipelined: a step costs one or two round trips.
//
// # Errors
//
// The stores answer what ports asks of every adapter (see ports.ErrUnavailable): the
// sentinels of the ports for the outcomes the domain expects (ports.ErrNoCode,
// ports.ErrProcessExists, ...), and for a failure of the database its cause, wrapped, with
// ports.ErrUnavailable when trying again may work (a lost connection, a timeout, a cancelled
// context, an overloaded server, a deadlock) and ports.ErrInvalidText for text PostgreSQL
// cannot hold (a NUL character). Any other failure is the server's error alone (a missing
// table means Migrate was not run). No store answers a *verifykit.Error: the flows word
// what people read. New, Open and Migrate answer bad options with a *verifykit.Error.
//
// # Precision
//
// Times are stored as timestamptz, whose precision is one microsecond: sub-microsecond
// digits are dropped, so e.g. a code may expire up to 999ns earlier than asked. Times come
// back in UTC or in the local zone: compare them with time.Time.Equal. A zero time stays
// zero. The times of a Verification are kept as microseconds in its jsonb (the same
// precision) and come back in UTC. Rate-limit events are kept in nanoseconds, exactly.
package postgres
