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
	// Ref names the code the message carries, for delivery receipts (see DeliveryRef);
	// zero for a message that carries none.
	Ref DeliveryRef
}

// Sender delivers messages on one channel: SMS, e-mail or WhatsApp. Message.To is an
// address of the channel: a phone number in E.164 form for SMS and WhatsApp, an e-mail
// address for e-mail. The flows take one Sender per channel (otp.Deps.SMS, the Email and
// WhatsApp of the identification processes' deps).
//
// An error that wraps ErrPermanent means retrying cannot help (e.g. the number or the
// mailbox does not exist); any other error is treated as transient. The otp engine never
// prints a sender's error text (it may name the recipient): it logs and answers the
// failure class only, and keeps the error reachable with errors.Is/As.
type Sender interface {
	Send(ctx context.Context, msg Message) error
}

// SenderFunc is a function that is a Sender: SenderFunc(f).Send(ctx, msg) calls f(ctx, msg).
type SenderFunc func(ctx context.Context, msg Message) error

// Send calls f(ctx, msg).
func (f SenderFunc) Send(ctx context.Context, msg Message) error { return f(ctx, msg) }

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

// RateLimit is a sliding-window limit: at most Max events in any window of length Per
// (for events that arrive out of time order, see RateLimiter). {Max: 1, Per: 30 *
// time.Second} means "30 seconds apart".
type RateLimit struct {
	Max int
	Per time.Duration
}

// RateDecision is the answer of a RateLimiter.
type RateDecision struct {
	// Allowed is true when the event is within every limit.
	Allowed bool
	// RetryAfter, when not allowed, is how long until an event would be allowed: the
	// longest wait among the denying limits until the event that must leave its window
	// does (see DecideRate).
	RetryAfter time.Duration
}

// DefaultRateRetention is how long a RateLimiter keeps an event unless it is set otherwise:
// long enough for every limit of RULES.md §E (the longest is "100 failures per day").
const DefaultRateRetention = 24 * time.Hour

// RateLimiter counts events per key against sliding-window limits, by the rule of
// DecideRate: an event at now is allowed when, for every limit, fewer than Max recorded
// events lie in (now-Per, now]. Implementations must be safe for concurrent use: under any
// number of concurrent Allow calls for one key, no limit is passed.
//
// What now means. now is the caller's clock (its Clock): an event is recorded at the now of
// the Allow that recorded it, and a limiter never puts a clock of its own in its place, so
// every adapter decides alike and a host's test clock works with all of them. Instances
// that share a limiter (the PostgreSQL one) each pass their own clock; keep those clocks
// synchronised (NTP). They need not agree exactly, and a clock may step back: events may
// reach a key in any time order, and a limiter counts them by their times, never by their
// order of arrival, so a late-arriving event counts exactly where its time puts it. An
// event recorded at a time later than now (by an instance whose clock is ahead) is not
// counted at now; it counts once now reaches it. So every recorded event found fewer than
// Max events in the window that ends at its own time; a window that ends later may also
// hold events of instances whose clocks are ahead, so clock skew between instances is the
// margin by which a window measured on one clock can hold more: keep it small against the
// shortest Per.
//
// Retention. Limits may differ between calls on one key (two services configured
// differently over one limiter, a configuration change during a rolling deploy). A limiter
// keeps every event for its retention, whatever the limits of the call that records it:
// at least DefaultRateRetention unless the adapter is set otherwise, and at least the
// longest Per it has been asked about. A call counts every event its limits can see as long
// as each Per is within the retention and its now is not behind the now of an earlier call
// by more than the retention minus Per (a clock that steps back by most of a day).
type RateLimiter interface {
	// Allow records one event for key at time now when, with it, every limit holds, and
	// reports Allowed. When a limit would be passed it records nothing and reports the
	// longest wait among the limits that deny. With no limits, Allow allows and records
	// nothing.
	Allow(ctx context.Context, key string, now time.Time, limits ...RateLimit) (RateDecision, error)
	// Peek reports what Allow would decide, without recording anything.
	Peek(ctx context.Context, key string, now time.Time, limits ...RateLimit) (RateDecision, error)
	// Undo removes one event recorded for key at exactly at, if there is one: the caller
	// reserved the event with Allow, and it did not happen after all (a verification that
	// turned out not to be a failure). It is atomic with Allow for the same key.
	Undo(ctx context.Context, key string, at time.Time) error
}

// DecideRate applies sliding-window limits to the event times of one key, given in any
// order: it allows an event at now when, for every limit, fewer than Max events lie in
// (now-Per, now]. Events later than now are not counted. When it denies, RetryAfter is the
// longest wait among the denying limits until the event that must leave the window does:
// of the n events in a limit's window, the (n-Max+1)-th oldest, at t, leaves at t+Per. A
// limit with Max <= 0 allows nothing and waits Per. Times compare on the wall clock
// (monotonic clock readings are ignored), so times taken by different processes compare
// alike. Adapters that keep event times elsewhere (a database) use it so every limiter
// decides alike.
func DecideRate(times []time.Time, now time.Time, limits []RateLimit) RateDecision {
	d := RateDecision{Allowed: true}
	now = now.Round(0) // wall clock only
	var in []time.Time
	for _, lim := range limits {
		from := now.Add(-lim.Per)
		n := 0
		for _, t := range times {
			if t = t.Round(0); t.After(from) && !t.After(now) {
				n++
			}
		}
		if n < lim.Max {
			continue
		}
		d.Allowed = false
		if lim.Max <= 0 { // a limit that allows nothing: no wait makes room
			d.RetryAfter = max(d.RetryAfter, lim.Per)
			continue
		}
		in = in[:0]
		for _, t := range times {
			if t = t.Round(0); t.After(from) && !t.After(now) {
				in = append(in, t)
			}
		}
		slices.SortFunc(in, time.Time.Compare)
		// Once the (n-Max+1)-th oldest event has left, Max-1 remain: one more fits.
		if wait := in[n-lim.Max].Add(lim.Per).Sub(now); wait > d.RetryAfter {
			d.RetryAfter = wait
		}
	}
	return d
}
