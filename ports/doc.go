// Package ports holds the interfaces the domain packages of verifykit need from the outside
// world — storage, message delivery, token verification, upload-URL signing, rate limiting
// and the clock — and the value types those interfaces exchange.
//
// Adapters implement these interfaces (see adapters/memory and adapters/postgres); the
// conformance suites in ports/porttest check that an adapter keeps every guarantee the
// domain relies on, including under concurrent use.
//
// Stores answer the sentinel errors of their port (ErrNoCode, ErrProcessNotFound, ...) or
// wrapped causes, never a *verifykit.Error: the domain turns them into the errors people
// read (see ErrUnavailable).
//
// # One use case, one atomic write
//
// Every use case commits all of its stored changes together or not at all. verifykit gets
// there by keeping each one-time code inside the record it confirms, not by sharing a
// transaction between stores: a PersonRequest and a ProcessRecord each hold a Verification
// (their latest code, as a keyed hash, and the failed attempts that count against their
// failure budget), so approving a request consumes its code and stores APPROVED in one
// Update of the request, and a resend stores the new code, the current method and the new
// upload URLs in one Update too. Codes that confirm no record of their own (otp.Service's
// Issue and Verify) keep their Verification in an OTPStore, whose Update has the same shape.
// Profiles work the same way: a ProfileRecord carries the user's open reset request and the
// events of the change (its Outbox, which is the audit trail too), so a reset, a decision
// or a submission stores the profile, the request and its event in one ProfileStore.Update.
//
// This shape was chosen over a Transactor port carrying one transaction through the
// context because it asks the least of a host that implements the stores on its own
// database: each store needs one thing only, an Update(ctx, id, fn) that runs fn on a copy
// of one record while that record is locked (a mutex; SELECT ... FOR UPDATE in a
// transaction; a compare-and-set loop) and stores what fn left, or nothing when fn fails.
// No store has to join another's transaction, the same guarantee holds in memory without an
// undo journal, and codes and limits can live in a different engine (Redis) than the records
// without weakening any flow. The rules that change a Verification are pure functions of
// package otp, so every store behaves alike.
//
// What stays outside the record's write: the send limits (RateLimiter, one more write before
// it, given back if the record's write fails) and delivery (after the write commits; a
// failed delivery marks the code undeliverable in a second Update and never brings an older
// code or upload URL back).
package ports
