package ports

import (
	"context"
	"errors"
	"slices"
	"time"
)

// CodeState is the life-cycle state of a one-time code.
type CodeState string

// The states of a one-time code. Only CodeActive codes can be verified.
const (
	// CodeActive: issued, not yet used, not superseded.
	CodeActive CodeState = "active"
	// CodeVerified: used once, successfully; it cannot be used again.
	CodeVerified CodeState = "verified"
	// CodeSuperseded: a newer code for the same purpose and subject replaced it, or it was
	// invalidated.
	CodeSuperseded CodeState = "superseded"
	// CodeExpired: its time ran out before it was used.
	CodeExpired CodeState = "expired"
	// CodeBlocked: too many wrong attempts.
	CodeBlocked CodeState = "blocked"
	// CodeUndeliverable: it could not be delivered; it was never usable.
	CodeUndeliverable CodeState = "undeliverable"
)

// OTPRecord is a stored one-time code. It never holds the code itself, only its keyed hash.
type OTPRecord struct {
	// ID identifies the code; it is also the delivery idempotency key.
	ID string
	// Purpose names what the code confirms, e.g. "person_request".
	Purpose string
	// Subject is what the code is about, e.g. a person request's id.
	Subject string
	// Hash is the keyed hash (HMAC-SHA256) of the code.
	Hash []byte
	// KeyID tells which secret made Hash, so secrets can rotate.
	KeyID int
	// State is the code's life-cycle state.
	State CodeState
	// Attempts counts wrong attempts so far.
	Attempts int
	// MaxAttempts is the number of wrong attempts that blocks the code.
	MaxAttempts int
	// CreatedAt is when the code was issued.
	CreatedAt time.Time
	// ExpiresAt is when the code stops being valid: at ExpiresAt it is already expired.
	ExpiresAt time.Time
	// UsedAt is when the code was verified, zero before.
	UsedAt time.Time
}

// Verification is the one-time-code state of one purpose and subject: the latest code
// issued for it, and the failed attempts that still count against the subject's failure
// budget. Only the latest code can ever be verified, so a new code supersedes every older
// one by replacing it: a Verification never holds two active codes.
//
// A record that a code confirms (a person request, an OTP identification process) holds its
// Verification as a field, so that one atomic Update of that record changes the code and
// what the code completes together, or neither. The otp engine keeps the Verifications of
// standalone codes in an OTPStore. Stores only keep a Verification; the rules that change
// it (issue, check, count, supersede, expire) are package otp's.
type Verification struct {
	// Code is the latest code; its ID is empty when no code was ever issued.
	Code OTPRecord
	// Failures are the times of the failed attempts that still count against the failure
	// budget, in ascending order.
	Failures []time.Time
	// KeepUntil is when the Verification stops mattering: its code has expired and no
	// failure counts any more. A store may delete it from then on.
	KeepUntil time.Time
	// Version counts the stored writes of the standalone Verification of a purpose and
	// subject: the OTPStore stores 1 with the first Update that writes one, and each later
	// Update stores the version it read plus one, whatever fn left in it; an Update whose fn
	// fails stores nothing and counts nothing. A Verification purged (or expired) starts
	// again at 1. The store sets it as the AggregateVersion of the Outbox events of the write
	// that are about its code (AggregateID equal to Code.ID, ports.StampVersion), so the
	// events of one code carry increasing versions. A record that holds a Verification counts
	// its changes in its own Version; its store need not keep this one.
	Version int64
	// Outbox are the events to publish with this write of a standalone Verification: the
	// OTPStore writes them to its outbox in the same atomic step and never keeps them (nor
	// encodes them); a store without an outbox drops them (memory.OTPStore before
	// PublishTo, redis without Options.KeepEvents). A record that holds a Verification publishes its own Outbox field
	// instead; stores of records ignore this one.
	Outbox []LifecycleEvent `json:"-"`
}

// IsZero reports whether v holds neither a code nor a failure.
func (v Verification) IsZero() bool { return v.Code.ID == "" && len(v.Failures) == 0 }

// Clone returns a deep copy of v: changing the copy's slices never changes v.
func (v Verification) Clone() Verification {
	v.Code.Hash = slices.Clone(v.Code.Hash)
	v.Failures = slices.Clone(v.Failures)
	v.Outbox = CloneLifecycleEvents(v.Outbox)
	return v
}

// ErrNoCode is returned by OTPStore.Get when nothing is stored for the purpose and subject.
var ErrNoCode = errors.New("no one-time code for this purpose and subject")

// OTPStore stores the Verifications of standalone one-time codes (those not held by a record
// they confirm), one per purpose and subject. Every method is atomic with respect to the
// others for the same purpose and subject, including across processes for shared stores.
// Values are copied in and out.
type OTPStore interface {
	// Get returns the Verification of the purpose and subject, or ErrNoCode when none is
	// stored.
	Get(ctx context.Context, purpose, subject string) (Verification, error)

	// Update changes the Verification of the purpose and subject atomically: it locks it
	// (a zero Verification when none is stored), calls fn with a copy, and, when fn returns
	// nil, stores the copy as fn left it and returns it. When fn returns an error nothing is
	// written and that error is returned as is (not wrapped). No other Update of the same
	// purpose and subject runs between the read fn sees and the write. fn must do nothing
	// but change its argument; it must not call the store.
	Update(ctx context.Context, purpose, subject string, fn func(*Verification) error) (Verification, error)

	// PurgeExpired deletes up to limit Verifications whose KeepUntil is at or before
	// before, and returns how many it deleted; a negative limit deletes all of them. Stores
	// may also purge on their own.
	PurgeExpired(ctx context.Context, before time.Time, limit int) (int, error)
}
