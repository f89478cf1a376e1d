package memory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/verifykit/verifykit/ports"
)

// ErrInjectedFailure is the cause of the failures SMSOutbox.FailNext injects.
var ErrInjectedFailure = errors.New("injected delivery failure")

// SMSOutbox is the ports.Sender of SMS messages that delivers into memory. Tests read what was sent, and
// inject failures. A message whose idempotency key was already delivered is not delivered
// again. It keeps every message unless SetLimit bounds it.
type SMSOutbox struct{ *outbox }

// NewSMSOutbox returns an empty outbox.
func NewSMSOutbox() *SMSOutbox { return &SMSOutbox{newOutbox("sms", ports.MaskPhone)} }

// Send records the attempt, fails if a failure was injected, else delivers msg unless a
// message with the same idempotency key was delivered before.
func (o *SMSOutbox) Send(ctx context.Context, msg ports.Message) error { return o.send(ctx, msg) }

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
	// limit, when positive, is how many messages (and attempts) to each recipient are
	// kept: the latest ones, in byTo, instead of delivered and attempts (SetLimit).
	limit int
	byTo  map[string]*kept
	seq   uint64 // orders the messages of byTo across recipients
}

// kept are the latest messages and attempts to one recipient of a bounded outbox, oldest
// first.
type kept struct{ delivered, attempts []numbered }

// numbered is a message with its place in the order of sending.
type numbered struct {
	seq uint64
	msg ports.Message
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
	o.keep(msg, false)
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
	o.keep(msg, true)
	return nil
}

// keep records msg as delivered or as an attempt: in order, or, when the outbox is
// bounded, among the latest messages to its recipient, forgetting the oldest (and its
// idempotency key, so that memory stays bounded). The caller holds o.mu.
func (o *outbox) keep(msg ports.Message, delivered bool) {
	if o.limit <= 0 {
		if delivered {
			o.delivered = append(o.delivered, msg)
		} else {
			o.attempts = append(o.attempts, msg)
		}
		return
	}
	k := o.byTo[msg.To]
	if k == nil {
		k = &kept{}
		o.byTo[msg.To] = k
	}
	list := &k.attempts
	if delivered {
		list = &k.delivered
	}
	o.seq++
	*list = append(*list, numbered{o.seq, msg})
	if n := len(*list) - o.limit; n > 0 {
		if delivered {
			for _, old := range (*list)[:n] {
				delete(o.deliveredKeys, old.msg.IdempotencyKey)
			}
		}
		*list = append((*list)[:0], (*list)[n:]...)
	}
}

// SetLimit bounds the outbox to the latest n messages, and the latest n attempts, to each
// recipient (older ones are forgotten as new ones arrive, with their idempotency keys);
// n of 0 or less keeps everything again, the default. Messages kept so far are trimmed to
// the bound. A server that shows its outbox (a development mode) sets one, so that its
// memory does not grow with every message sent.
func (o *outbox) SetLimit(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delivered, attempts := o.messages(), o.tries()
	o.limit, o.delivered, o.attempts, o.byTo, o.seq = max(n, 0), nil, nil, nil, 0
	if o.limit > 0 {
		o.byTo = make(map[string]*kept)
	}
	clear(o.deliveredKeys)
	// Attempts and deliveries keep their own order; a message delivered is also an attempt.
	for _, m := range attempts {
		o.keep(m, false)
	}
	for _, m := range delivered {
		if m.IdempotencyKey != "" {
			o.deliveredKeys[m.IdempotencyKey] = true
		}
		o.keep(m, true)
	}
}

// messages returns the delivered messages, oldest first. The caller holds o.mu.
func (o *outbox) messages() []ports.Message {
	if o.limit <= 0 {
		return append([]ports.Message(nil), o.delivered...)
	}
	return o.merged(func(k *kept) []numbered { return k.delivered })
}

// tries returns the attempts, oldest first. The caller holds o.mu.
func (o *outbox) tries() []ports.Message {
	if o.limit <= 0 {
		return append([]ports.Message(nil), o.attempts...)
	}
	return o.merged(func(k *kept) []numbered { return k.attempts })
}

// merged returns the messages list picks from every recipient of a bounded outbox, in the
// order they were sent.
func (o *outbox) merged(list func(*kept) []numbered) []ports.Message {
	var all []numbered
	for _, k := range o.byTo {
		all = append(all, list(k)...)
	}
	slices.SortFunc(all, func(a, b numbered) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]ports.Message, 0, len(all))
	for _, n := range all {
		out = append(out, n.msg)
	}
	return out
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
	if o.limit > 0 {
		if k := o.byTo[to]; k != nil && len(k.delivered) > 0 {
			return k.delivered[len(k.delivered)-1].msg, true
		}
		return ports.Message{}, false
	}
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
	return o.messages()
}

// Attempts returns every send attempt, failed ones included, oldest first.
func (o *outbox) Attempts() []ports.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.tries()
}

// Reset forgets every message and injected failure.
func (o *outbox) Reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.delivered, o.attempts, o.failNext = nil, nil, 0
	if o.limit > 0 {
		o.byTo, o.seq = make(map[string]*kept), 0
	}
	clear(o.deliveredKeys)
}

// EmailOutbox is the ports.Sender of e-mail messages that delivers into memory, with the test helpers of
// SMSOutbox: Last, Messages, Attempts, FailNext and Reset. A message whose idempotency key
// was already delivered is not delivered again.
type EmailOutbox struct{ *outbox }

// NewEmailOutbox returns an empty e-mail outbox.
func NewEmailOutbox() *EmailOutbox { return &EmailOutbox{newOutbox("e-mail", ports.MaskEmail)} }

// Send records the attempt, fails if a failure was injected, else delivers msg unless a
// message with the same idempotency key was delivered before.
func (o *EmailOutbox) Send(ctx context.Context, msg ports.Message) error { return o.send(ctx, msg) }

// WhatsAppOutbox is the ports.Sender of WhatsApp messages that delivers into memory, with the test
// helpers of SMSOutbox: Last, Messages, Attempts, FailNext and Reset.
type WhatsAppOutbox struct{ *outbox }

// NewWhatsAppOutbox returns an empty WhatsApp outbox.
func NewWhatsAppOutbox() *WhatsAppOutbox {
	return &WhatsAppOutbox{newOutbox("whatsapp", ports.MaskPhone)}
}

// Send records the attempt, fails if a failure was injected, else delivers msg unless a
// message with the same idempotency key was delivered before.
func (o *WhatsAppOutbox) Send(ctx context.Context, msg ports.Message) error { return o.send(ctx, msg) }
