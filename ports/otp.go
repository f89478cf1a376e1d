package ports

import (
	"context"
	"errors"
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

// VerifyOutcome is what an OTPStore did with one verification attempt.
type VerifyOutcome string

// The outcomes of OTPStore.VerifyLatest.
const (
	// OutcomeVerified: the code matched; it is now CodeVerified.
	OutcomeVerified VerifyOutcome = "verified"
	// OutcomeMismatch: the code did not match; Attempts was incremented. If that used up
	// the attempts, the code is now CodeBlocked.
	OutcomeMismatch VerifyOutcome = "mismatch"
	// OutcomeNotActive: the latest code is not active (see its State); nothing changed,
	// except that an active code found past its expiry is now CodeExpired.
	OutcomeNotActive VerifyOutcome = "not_active"
)

// ErrNoCode is returned by OTPStore methods when no code exists for the purpose and subject.
var ErrNoCode = errors.New("no one-time code for this purpose and subject")

// OTPStore stores one-time codes. Every method is atomic with respect to the others for
// the same purpose and subject, including across processes for shared stores.
type OTPStore interface {
	// CreateCode stores rec, which must be CodeActive, and in the same atomic step marks
	// every other active code of the same purpose and subject CodeSuperseded. It returns
	// how many codes it superseded.
	CreateCode(ctx context.Context, rec OTPRecord) (superseded int, err error)

	// VerifyLatest takes the latest code of the purpose and subject — the last one stored
	// by CreateCode, whatever its CreatedAt (clocks of several instances may differ) — and,
	// atomically:
	//   - if it is active and now >= ExpiresAt, marks it CodeExpired: OutcomeNotActive;
	//   - if it is not active: OutcomeNotActive, nothing changed;
	//   - if match(rec) is true, marks it CodeVerified with UsedAt = now: OutcomeVerified;
	//   - else increments Attempts and, when Attempts reaches MaxAttempts, marks it
	//     CodeBlocked: OutcomeMismatch.
	// It returns the record as it is after the step, or ErrNoCode. match is called at most
	// once, while the code is locked; it must not call the store.
	VerifyLatest(ctx context.Context, purpose, subject string, now time.Time, match func(OTPRecord) bool) (OTPRecord, VerifyOutcome, error)

	// Invalidate marks every active code of the purpose and subject CodeSuperseded and
	// returns how many it marked.
	Invalidate(ctx context.Context, purpose, subject string) (int, error)

	// MarkUndeliverable marks the code id of the purpose and subject CodeUndeliverable if
	// it is still active. It returns ErrNoCode when there is no such code.
	MarkUndeliverable(ctx context.Context, purpose, subject, id string) error

	// Codes returns every stored code of the purpose and subject, oldest first.
	Codes(ctx context.Context, purpose, subject string) ([]OTPRecord, error)

	// PurgeExpired deletes up to limit codes whose ExpiresAt is at or before before, and
	// returns how many it deleted. Stores may also purge on their own.
	PurgeExpired(ctx context.Context, before time.Time, limit int) (int, error)
}

// ApplyVerify performs the state change that OTPStore.VerifyLatest describes on rec, which
// the caller has locked, and returns the outcome. Store adapters call it so that every
// store verifies alike; match is called only for an active, unexpired code.
func ApplyVerify(rec *OTPRecord, now time.Time, match func(OTPRecord) bool) VerifyOutcome {
	if rec.State != CodeActive {
		return OutcomeNotActive
	}
	if !now.Before(rec.ExpiresAt) {
		rec.State = CodeExpired
		return OutcomeNotActive
	}
	if match(*rec) {
		rec.State = CodeVerified
		rec.UsedAt = now
		return OutcomeVerified
	}
	rec.Attempts++
	if rec.Attempts >= rec.MaxAttempts {
		rec.State = CodeBlocked
	}
	return OutcomeMismatch
}
