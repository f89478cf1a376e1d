package ports

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Clock tells the time. Domain packages never call time.Now directly, so tests and hosts
// can control time.
type Clock interface {
	Now() time.Time
}

// SystemClock is the Clock of the machine.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Claims are what a verified access token says about its bearer.
type Claims struct {
	// Subject identifies the bearer (a user or a client).
	Subject string
	// PersonID is the person the token acts for, when it acts for one.
	PersonID string
	// OrgID is the organisation the token belongs to, when it belongs to one.
	OrgID string
	// Scopes are the OAuth-style scopes granted, e.g. "person_request:write".
	Scopes []string
	// Permissions are role permissions, e.g. "RESET_IDENTIFICATION_INITIATOR".
	Permissions []string
	// ExpiresAt is when the token stops being valid. The domain compares it with its
	// Clock; a zero value means the token is not valid.
	ExpiresAt time.Time
}

// MissingScopes returns the scopes of want that the claims do not carry, in want's order.
func (c Claims) MissingScopes(want ...string) []string {
	var missing []string
	for _, s := range want {
		if !slices.Contains(c.Scopes, s) {
			missing = append(missing, s)
		}
	}
	return missing
}

// HasPermission reports whether the claims carry the permission p.
func (c Claims) HasPermission(p string) bool { return slices.Contains(c.Permissions, p) }

// TokenVerifier checks an access token and returns its claims. It returns an error when
// the token is unknown or malformed; deciding whether the token has expired is left to the
// domain, which compares Claims.ExpiresAt with its Clock.
type TokenVerifier interface {
	VerifyToken(ctx context.Context, token string) (Claims, error)
}

// Message is one message to deliver to a person: an SMS, an e-mail or a chat message.
type Message struct {
	// To is the recipient's address: a phone number in E.164 form, an e-mail address, ...
	To string
	// Body is the text to deliver. It may contain a one-time code: senders must not log it.
	Body string
	// IdempotencyKey is the same on every retry of one message, so a sender (or its
	// gateway) can drop a duplicate instead of delivering twice.
	IdempotencyKey string
}

// SMSSender delivers SMS messages. An error that wraps ErrPermanent means retrying cannot
// help (e.g. the number does not exist); any other error is treated as transient. The
// otp engine never prints a sender's error text (it may name the recipient): it logs and
// answers the failure class only, and keeps the error reachable with errors.Is/As.
type SMSSender interface {
	SendSMS(ctx context.Context, msg Message) error
}

// ErrPermanent marks a delivery failure that retrying cannot fix. Senders wrap it:
//
//	return fmt.Errorf("gateway refused number: %w", ports.ErrPermanent)
var ErrPermanent = errors.New("permanent delivery failure")

// UploadTarget names the document an upload URL is for.
type UploadTarget struct {
	// Resource is the owner of the upload, e.g. "person_request/<id>".
	Resource string
	// DocumentType is the type of the document, e.g. "PASSPORT".
	DocumentType string
	// Version distinguishes URLs issued at different times for the same document, so
	// that older URLs can be told apart from the current ones.
	Version int
}

// UploadSigner issues upload URLs for documents, e.g. pre-signed object-storage URLs.
type UploadSigner interface {
	SignUploadURL(ctx context.Context, target UploadTarget, expiresAt time.Time) (string, error)
}

// RateLimit is a sliding-window limit: at most Max events in any window of length Per.
// {Max: 1, Per: 30 * time.Second} means "30 seconds apart".
type RateLimit struct {
	Max int
	Per time.Duration
}

// RateDecision is the answer of a RateLimiter.
type RateDecision struct {
	// Allowed is true when the event is within every limit.
	Allowed bool
	// RetryAfter, when not allowed, is how long until an event would be allowed.
	RetryAfter time.Duration
}

// RateLimiter counts events per key against sliding-window limits. Implementations must be
// safe for concurrent use: under any number of concurrent Allow calls for one key, no limit
// is passed.
type RateLimiter interface {
	// Allow records one event for key at time now when, with it, every limit holds, and
	// reports Allowed. When a limit would be passed it records nothing and reports the
	// longest wait among the limits that deny.
	Allow(ctx context.Context, key string, now time.Time, limits ...RateLimit) (RateDecision, error)
	// With no limits, Allow allows and records nothing.
	//
	// Peek reports what Allow would decide, without recording anything.
	Peek(ctx context.Context, key string, now time.Time, limits ...RateLimit) (RateDecision, error)
	// Undo removes one event recorded for key at exactly at, if there is one: the caller
	// reserved the event with Allow, and it did not happen after all (a verification that
	// turned out not to be a failure). It is atomic with Allow for the same key.
	Undo(ctx context.Context, key string, at time.Time) error
}

// DecideRate applies sliding-window limits to the ascending event times of one key: it allows
// an event at now when, for every limit, fewer than Max events fall in (now-Per, now]. When
// it denies, RetryAfter is the longest wait among the denying limits. Adapters that keep
// event times elsewhere (a database) use it so every limiter decides alike.
func DecideRate(times []time.Time, now time.Time, limits []RateLimit) RateDecision {
	d := RateDecision{Allowed: true}
	for _, lim := range limits {
		windowStart := now.Add(-lim.Per)
		// Events in the window, counted from the newest back.
		in := 0
		for i := len(times) - 1; i >= 0 && times[i].After(windowStart); i-- {
			in++
		}
		if in < lim.Max {
			continue
		}
		d.Allowed = false
		if lim.Max <= 0 { // a limit that allows nothing: no wait makes room
			d.RetryAfter = max(d.RetryAfter, lim.Per)
			continue
		}
		// The oldest event that must leave the window before one more fits.
		oldest := times[len(times)-lim.Max]
		if wait := oldest.Add(lim.Per).Sub(now); wait > d.RetryAfter {
			d.RetryAfter = wait
		}
	}
	return d
}
