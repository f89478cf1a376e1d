package ports

import (
	"context"
	"time"
)

// Observer is told what verifykit does, for traces and metrics, the way pgx's QueryTracer
// is: a small interface the core calls and an instrumentation package implements
// (adapters/otel does it with OpenTelemetry), so the core depends on no telemetry library.
//
// Every exported use case of the services (otp.Service.Verify, personrequest.Service.
// ResendAuthMethod, ...) calls Start when it begins and the End it got when it returns;
// every call a service makes to a port it was given (a store, the rate limiter, a sender,
// the token verifier, the upload signer) does too, with Operation.Port set, inside the use
// case's context: so an Observer that starts spans gets one per use case with a child per
// port call. Event reports what counters count: codes issued, verified and failed,
// messages sent, rate-limit refusals.
//
// What an Observer is given never holds a code, a token, a phone number, an e-mail
// address or a document number: Operations and Events carry fixed names, an organisation
// id and the error (which an Observer must not print: its text may quote what a caller
// sent; report its kind, verifykit.KindOf). Implementations must be safe for concurrent
// use. NopObserver, the default of every service, does nothing and costs nothing.
type Observer interface {
	// Start is called when op begins. It returns the context op runs in (carrying a span,
	// say) and the function op calls, once, with its outcome when it returns.
	Start(ctx context.Context, op Operation) (context.Context, End)
	// Event reports something a counter counts.
	Event(ctx context.Context, e Event)
}

// End reports the outcome of an Operation: nil for success, else its error.
type End func(err error)

// Operation names what is being done: a use case of a service, or a port call it makes.
// Every field is a fixed name or an organisation id, never personal data.
type Operation struct {
	// Flow is the service's package: "otp", "personrequest", "authmethod" or
	// "identification".
	Flow string
	// Name is the use case ("ResendAuthMethod") or, for a port call, the port method
	// ("Update", "Allow", "Send").
	Name string
	// Port is empty for a use case; for a port call it names the port: "store",
	// "limiter", "sender", "tokens" or "uploads".
	Port string
	// Resource is, for a port call, what it acts on: the store's aggregate
	// ("person_request", "otp_code", "process", "profile", ...) or the sender's channel
	// ("sms", "email", "whatsapp"); empty otherwise.
	Resource string
	// OrgID is the organisation the use case acts for, when the request names it (the
	// OTP identification processes); empty otherwise.
	OrgID string
}

// EventKind says what an Event reports.
type EventKind uint8

// The kinds of Event.
const (
	// EventCodeIssued: a one-time code was issued and handed to delivery (or, for an
	// external channel, to the caller). Purpose is set.
	EventCodeIssued EventKind = iota + 1
	// EventCodeVerified: a one-time code was checked and matched. Purpose is set.
	EventCodeVerified
	// EventCodeFailed: a check of a one-time code failed. Purpose and Reason are set.
	EventCodeFailed
	// EventMessageSent: a sender was called once (one try of a delivery). Channel,
	// Outcome and Duration are set.
	EventMessageSent
	// EventRateLimited: a rate limit refused. Limit is set.
	EventRateLimited
	// EventAbusePaused: an abuse guard paused sends (the pumping guard, to a number
	// prefix whose codes are rarely verified). Limit names the guard; the prefix itself is
	// not reported.
	EventAbusePaused
)

// String returns the kind's snake_case name, e.g. "code_issued".
func (k EventKind) String() string {
	switch k {
	case EventCodeIssued:
		return "code_issued"
	case EventCodeVerified:
		return "code_verified"
	case EventCodeFailed:
		return "code_failed"
	case EventMessageSent:
		return "message_sent"
	case EventRateLimited:
		return "rate_limited"
	case EventAbusePaused:
		return "abuse_paused"
	}
	return "unknown"
}

// Reasons of EventCodeFailed (Event.Reason).
const (
	ReasonWrongCode        = "wrong_code"
	ReasonExpired          = "expired"
	ReasonAttemptsExceeded = "attempts_exceeded"
	ReasonAlreadyUsed      = "already_used"
	ReasonNoActiveCode     = "no_active_code"
	ReasonTooManyFailures  = "too_many_failures"
)

// Outcomes of EventMessageSent (Event.Outcome).
const (
	OutcomeSent        = "sent"
	OutcomeTransient   = "transient"
	OutcomePermanent   = "permanent"
	OutcomeInterrupted = "interrupted"
)

// Event is what Observer.Event reports. Which fields are set depends on Kind; all of them
// are fixed names, never personal data.
type Event struct {
	// Kind says what happened.
	Kind EventKind
	// Purpose is the one-time code's purpose, e.g. "person_request".
	Purpose string
	// Reason is why a code check failed: one of the Reason constants.
	Reason string
	// Channel is the sender's channel: "sms", "email" or "whatsapp".
	Channel string
	// Outcome is how a send ended: one of the Outcome constants.
	Outcome string
	// Limit names the rate limit that refused, e.g. "otp:send" or "otp:failures".
	Limit string
	// Duration is how long a send took.
	Duration time.Duration
}

// NopObserver is the Observer that does nothing: the default of every service. It
// allocates nothing.
type NopObserver struct{}

// Start returns ctx and an End that does nothing.
func (NopObserver) Start(ctx context.Context, _ Operation) (context.Context, End) { return ctx, nopEnd }

// Event does nothing.
func (NopObserver) Event(context.Context, Event) {}

func nopEnd(error) {}
