package otp

import (
	"context"
	"errors"

	"github.com/verifykit/verifykit/internal/observe"
	"github.com/verifykit/verifykit/ports"
)

// observeFlow is the engine's ports.Operation.Flow.
const observeFlow = "otp"

// failureLimitName names the failure budget in ports.EventRateLimited.
const failureLimitName = "otp:failures"

// observed defaults d.Observer and wraps the ports of d for it: a no-op Observer leaves
// them as they are.
func (d Deps) observed() Deps {
	d.Observer = observe.Or(d.Observer)
	d.Store = observe.OTPStore(d.Observer, observeFlow, d.Store)
	d.Limiter = observe.RateLimiter(d.Observer, observeFlow, d.Limiter)
	d.SMS = observe.Sender(d.Observer, observeFlow, "sms", d.SMS)
	return d
}

// start starts the use case name of the engine.
func (s *Service) start(ctx context.Context, name string) (context.Context, ports.End) {
	return s.obs.Start(ctx, ports.Operation{Flow: observeFlow, Name: name})
}

// issued reports a code of purpose handed to delivery (or to the caller), unless err is
// not nil.
func (s *Service) issued(ctx context.Context, purpose string, err error) {
	if err != nil {
		return
	}
	s.obs.Event(ctx, ports.Event{Kind: ports.EventCodeIssued, Purpose: purpose})
}

// checkedPurpose reports the outcome of a stored check of a code of purpose: verified, or
// failed with the reason of err. An error that is not about the code (a malformed code)
// reports nothing.
func (s *Service) checkedPurpose(purpose string, err error) {
	if !observe.Enabled(s.obs) {
		return
	}
	ctx := context.Background()
	if err == nil {
		s.obs.Event(ctx, ports.Event{Kind: ports.EventCodeVerified, Purpose: purpose})
		return
	}
	reason := FailureReason(err)
	if reason == "" {
		return
	}
	s.obs.Event(ctx, ports.Event{Kind: ports.EventCodeFailed, Purpose: purpose, Reason: reason})
	if reason == ports.ReasonTooManyFailures {
		s.obs.Event(ctx, ports.Event{Kind: ports.EventRateLimited, Limit: failureLimitName})
	}
}

// refusedByRecipientBudget reports an attempt of purpose that err, the used-up failure
// budget of the code's recipient, refused before it ran (the limiter reports the refusal
// of its limit itself). Other errors report nothing.
func (s *Service) refusedByRecipientBudget(ctx context.Context, purpose string, err error) {
	if observe.Enabled(s.obs) && errors.Is(err, ErrTooManyFailures) {
		s.obs.Event(ctx, ports.Event{Kind: ports.EventCodeFailed, Purpose: purpose, Reason: ports.ReasonTooManyFailures})
	}
}

// FailureReason is the ports.Event reason of a failed verification: ports.ReasonWrongCode
// for ErrWrongCode, ReasonExpired, ReasonAttemptsExceeded, ReasonAlreadyUsed,
// ReasonNoActiveCode and ReasonTooManyFailures for the other causes of Verify; "" for an
// error that is not one of them (a malformed code, a store failure) or nil.
func FailureReason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrWrongCode):
		return ports.ReasonWrongCode
	case errors.Is(err, ErrExpired):
		return ports.ReasonExpired
	case errors.Is(err, ErrAttemptsExceeded):
		return ports.ReasonAttemptsExceeded
	case errors.Is(err, ErrAlreadyUsed):
		return ports.ReasonAlreadyUsed
	case errors.Is(err, ErrNoActiveCode):
		return ports.ReasonNoActiveCode
	case errors.Is(err, ErrTooManyFailures):
		return ports.ReasonTooManyFailures
	}
	return ""
}
