package memory

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/verifykit/verifykit/ports"
)

// ErrInjectedFailure is the cause of the failures SMSOutbox.FailNext injects.
var ErrInjectedFailure = errors.New("injected delivery failure")

// SMSOutbox is a ports.SMSSender that delivers into memory. Tests read what was sent, and
// inject failures. A message whose idempotency key was already delivered is not delivered
// again.
type SMSOutbox struct{ *outbox }

// NewSMSOutbox returns an empty outbox.
func NewSMSOutbox() *SMSOutbox { return &SMSOutbox{newOutbox("sms", ports.MaskPhone)} }

// SendSMS records the attempt, fails if a failure was injected, else delivers msg unless a
// message with the same idempotency key was delivered before.
func (o *SMSOutbox) SendSMS(ctx context.Context, msg ports.Message) error { return o.send(ctx, msg) }

// outbox is the delivery machinery the outboxes of every channel share: failure injection,
// idempotency, and reading what was sent.
type outbox struct {
	channel       string              // named in injected errors, e.g. "sms"
	mask          func(string) string // hides the recipient in injected errors
	mu            sync.Mutex
	delivered     []ports.Message
	deliveredKeys map[string]bool
	attempts      []ports.Message
	failNext      int
	failPermanent bool
}

func newOutbox(channel string, mask func(string) string) *outbox {
	return &outbox{channel: channel, mask: mask, deliveredKeys: make(map[string]bool)}
}

func (o *outbox) send(ctx context.Context, msg ports.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.attempts = append(o.attempts, msg)
	if o.failNext > 0 {
		o.failNext--
		if o.failPermanent {
			return fmt.Errorf("%s to %s: %w: %w", o.channel, o.mask(msg.To), ErrInjectedFailure, ports.ErrPermanent)
		}
		return fmt.Errorf("%s to %s: %w", o.channel, o.mask(msg.To), ErrInjectedFailure)
	}
	if msg.IdempotencyKey != "" {
		if o.deliveredKeys[msg.IdempotencyKey] {
			return nil
		}
		o.deliveredKeys[msg.IdempotencyKey] = true
	}
	o.delivered = append(o.delivered, msg)
	return nil
}

// FailNext makes the next n sends fail: permanently (wrapping ports.ErrPermanent) or
// transiently.
func (o *outbox) FailNext(n int, permanent bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failNext = n
	o.failPermanent = permanent
}

// Last returns the last message delivered to the address to.
func (o *outbox) Last(to string) (ports.Message, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.delivered) - 1; i >= 0; i-- {
		if o.delivered[i].To == to {
			return o.delivered[i], true
		}
	}
	return ports.Message{}, false
}

// Messages returns every delivered message, oldest first.
func (o *outbox) Messages() []ports.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]ports.Message(nil), o.delivered...)
}

// Attempts returns every send attempt, failed ones included, oldest first.
func (o *outbox) Attempts() []ports.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]ports.Message(nil), o.attempts...)
}

// Reset forgets every message and injected failure.
func (o *outbox) Reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.delivered, o.attempts, o.failNext = nil, nil, 0
	clear(o.deliveredKeys)
}
