// Package observe wraps the ports a service is given so that every call reaches the
// service's ports.Observer: a Start before it and the End after it, with Operation.Port
// set. The services wrap their dependencies with it at construction, only when the
// Observer is not the no-op one, so a service without an Observer calls its ports
// directly and pays nothing.
package observe

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/verifykit/verifykit/ports"
)

// Or returns o, or ports.NopObserver when o is nil.
func Or(o ports.Observer) ports.Observer {
	if o == nil {
		return ports.NopObserver{}
	}
	return o
}

// Enabled reports whether o does something: it is neither nil nor ports.NopObserver.
func Enabled(o ports.Observer) bool {
	if o == nil {
		return false
	}
	_, nop := o.(ports.NopObserver)
	return !nop
}

// The port names of ports.Operation.Port.
const (
	PortStore   = "store"
	PortLimiter = "limiter"
	PortSender  = "sender"
	PortTokens  = "tokens"
	PortUploads = "uploads"
)

// port is what every decorator holds: the observer and the flow whose service calls.
type port struct {
	obs  ports.Observer
	flow string
}

func (p port) start(ctx context.Context, kind, name, resource string) (context.Context, ports.End) {
	return p.obs.Start(ctx, ports.Operation{Flow: p.flow, Name: name, Port: kind, Resource: resource})
}

// run calls f as the port call kind.name on resource.
func run[T any](ctx context.Context, p port, kind, resource, name string, f func(context.Context) (T, error)) (T, error) {
	ctx, end := p.start(ctx, kind, name, resource)
	v, err := f(ctx)
	end(err)
	return v, err
}

// run0 is run for calls that return an error only.
func run0(ctx context.Context, p port, kind, resource, name string, f func(context.Context) error) error {
	ctx, end := p.start(ctx, kind, name, resource)
	err := f(ctx)
	end(err)
	return err
}

// fnErr remembers the error a store's callback returned: the store returns it as it is,
// and it is the use case's answer, not a failure of the store.
type fnErr struct{ err error }

func (f *fnErr) keep(err error) error {
	f.err = err
	return err
}

// of returns the store's own failure in err: nil when err is the callback's error.
func (f *fnErr) of(err error) error {
	if err != nil && f.err != nil && errors.Is(err, f.err) {
		return nil
	}
	return err
}

// update calls f, a store method that runs a callback, as the port call store.name on
// resource; f wraps its callback's result with keep.
func update[T any](ctx context.Context, p port, resource, name string, f func(ctx context.Context, keep func(error) error) (T, error)) (T, error) {
	ctx, end := p.start(ctx, PortStore, name, resource)
	var fe fnErr
	v, err := f(ctx, fe.keep)
	end(fe.of(err))
	return v, err
}

// RateLimiter wraps l for obs; Allow (and DecideRates, for the requests that record and are
// not optional) also reports each refusal as an EventRateLimited named by the key's prefix
// (LimitName). The wrapper is a ports.BatchRateLimiter whatever l is: its batches go to l's
// own when l has them, and are decided key by key otherwise.
func RateLimiter(obs ports.Observer, flow string, l ports.RateLimiter) ports.RateLimiter {
	if !Enabled(obs) || l == nil {
		return l
	}
	return &limiter{port{obs, flow}, l}
}

type limiter struct {
	p     port
	inner ports.RateLimiter
}

var _ ports.BatchRateLimiter = (*limiter)(nil)

func (l *limiter) Allow(ctx context.Context, key string, now time.Time, limits ...ports.RateLimit) (ports.RateDecision, error) {
	ctx, end := l.p.start(ctx, PortLimiter, "Allow", "")
	d, err := l.inner.Allow(ctx, key, now, limits...)
	if err == nil && !d.Allowed {
		l.p.obs.Event(ctx, ports.Event{Kind: ports.EventRateLimited, Limit: LimitName(key)})
	}
	end(err)
	return d, err
}

// DecideRates decides a batch with the inner limiter (ports.DecideRates: its own batches,
// or key by key), and reports each refusal of a request that records and is not optional,
// as Allow reports its refusals.
func (l *limiter) DecideRates(ctx context.Context, now time.Time, reqs []ports.RateRequest) ([]ports.RateDecision, error) {
	ctx, end := l.p.start(ctx, PortLimiter, "DecideRates", "")
	ds, err := ports.DecideRates(ctx, l.inner, now, reqs)
	if err == nil {
		for i, r := range reqs {
			if r.Record && !r.Optional && !ds[i].Allowed {
				l.p.obs.Event(ctx, ports.Event{Kind: ports.EventRateLimited, Limit: LimitName(r.Key)})
			}
		}
	}
	end(err)
	return ds, err
}

func (l *limiter) Peek(ctx context.Context, key string, now time.Time, limits ...ports.RateLimit) (ports.RateDecision, error) {
	return run(ctx, l.p, PortLimiter, "", "Peek", func(ctx context.Context) (ports.RateDecision, error) {
		return l.inner.Peek(ctx, key, now, limits...)
	})
}

func (l *limiter) Undo(ctx context.Context, key string, at time.Time) error {
	return run0(ctx, l.p, PortLimiter, "", "Undo", func(ctx context.Context) error { return l.inner.Undo(ctx, key, at) })
}

// LimitName is the name of the limit a limiter key counts: the key up to its last colon
// ("otp:send" of "otp:send:3fa9..."), whose rest is a keyed hash or an id. A key without
// a colon is "other": its whole text could name a person.
func LimitName(key string) string {
	i := strings.LastIndexByte(key, ':')
	if i <= 0 {
		return "other"
	}
	return key[:i]
}

// SendOutcome classifies a sender's answer: ports.OutcomeSent, OutcomeInterrupted (the
// context ended), OutcomePermanent (it wraps ports.ErrPermanent) or OutcomeTransient.
func SendOutcome(err error) string {
	switch {
	case err == nil:
		return ports.OutcomeSent
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ports.OutcomeInterrupted
	case errors.Is(err, ports.ErrPermanent):
		return ports.OutcomePermanent
	}
	return ports.OutcomeTransient
}

// send runs one try of a delivery on channel as the port call sender.name, and reports it
// as an EventMessageSent.
func send(ctx context.Context, p port, channel, name string, f func(context.Context) error) error {
	ctx, end := p.start(ctx, PortSender, name, channel)
	started := time.Now()
	err := f(ctx)
	p.obs.Event(ctx, ports.Event{Kind: ports.EventMessageSent, Channel: channel, Outcome: SendOutcome(err), Duration: time.Since(started)})
	end(err)
	return err
}

// Sender wraps s, the sender of channel ("sms", "email", "whatsapp"), for obs (nil stays
// nil).
func Sender(obs ports.Observer, flow, channel string, s ports.Sender) ports.Sender {
	if !Enabled(obs) || s == nil {
		return s
	}
	return &sender{port{obs, flow}, channel, s}
}

type sender struct {
	p       port
	channel string
	inner   ports.Sender
}

func (s *sender) Send(ctx context.Context, msg ports.Message) error {
	return send(ctx, s.p, s.channel, "Send", func(ctx context.Context) error { return s.inner.Send(ctx, msg) })
}

// TokenVerifier wraps v for obs.
func TokenVerifier(obs ports.Observer, flow string, v ports.TokenVerifier) ports.TokenVerifier {
	if !Enabled(obs) || v == nil {
		return v
	}
	return &tokens{port{obs, flow}, v}
}

type tokens struct {
	p     port
	inner ports.TokenVerifier
}

func (t *tokens) VerifyToken(ctx context.Context, token string) (ports.Claims, error) {
	return run(ctx, t.p, PortTokens, "", "VerifyToken", func(ctx context.Context) (ports.Claims, error) {
		return t.inner.VerifyToken(ctx, token)
	})
}

// UploadSigner wraps u for obs.
func UploadSigner(obs ports.Observer, flow string, u ports.UploadSigner) ports.UploadSigner {
	if !Enabled(obs) || u == nil {
		return u
	}
	return &uploads{port{obs, flow}, u}
}

type uploads struct {
	p     port
	inner ports.UploadSigner
}

func (u *uploads) SignUploadURL(ctx context.Context, target ports.UploadTarget, expiresAt time.Time) (string, error) {
	return run(ctx, u.p, PortUploads, "", "SignUploadURL", func(ctx context.Context) (string, error) {
		return u.inner.SignUploadURL(ctx, target, expiresAt)
	})
}
