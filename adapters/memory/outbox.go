package memory

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verifykit/verifykit/ports"
)

// Outbox is a transactional outbox in memory: a ports.OutboxStore and a ports.EventLog.
// The memory stores write the events of a record's Outbox field into it while they hold
// the record's lock, before they release it, so an event is in the outbox exactly when its
// change is in the store. Attach it to each store with the store's PublishTo method; a
// store with no outbox attached drops the events.
//
// It keeps every event, delivered ones included (Events lists them), until Purge deletes
// delivered ones: it is for tests and single-instance hosts. It is safe for concurrent use;
// the zero value is not usable: call NewOutbox.
type Outbox struct {
	mu      sync.Mutex
	entries []*ports.OutboxEntry // in the order stored
	byID    map[string]*ports.OutboxEntry
}

// NewOutbox returns an empty Outbox.
func NewOutbox() *Outbox { return &Outbox{byID: make(map[string]*ports.OutboxEntry)} }

// publish stores copies of evs as pending entries, due at their own time.
func (o *Outbox) publish(evs []ports.LifecycleEvent) {
	if o == nil || len(evs) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, ev := range evs {
		e := &ports.OutboxEntry{Event: ev.Clone(), State: ports.OutboxPending, NextAttemptAt: ev.Time}
		o.entries = append(o.entries, e)
		o.byID[ev.ID] = e
	}
}

// Append implements ports.EventLog.
func (o *Outbox) Append(ctx context.Context, evs ...ports.LifecycleEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.publish(evs)
	return nil
}

// Events returns copies of every event stored, whatever its delivery state, in the order
// stored.
func (o *Outbox) Events() []ports.LifecycleEvent {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]ports.LifecycleEvent, len(o.entries))
	for i, e := range o.entries {
		out[i] = e.Event.Clone()
	}
	return out
}

func cloneEntry(e *ports.OutboxEntry) ports.OutboxEntry {
	c := *e
	c.Event = e.Event.Clone()
	c.DeliveredTo = slices.Clone(e.DeliveredTo)
	return c
}

// Claim implements ports.OutboxStore.
func (o *Outbox) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]ports.OutboxEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var due []*ports.OutboxEntry
	for _, e := range o.entries {
		if e.State == ports.OutboxPending && !e.NextAttemptAt.After(now) && !e.LockedUntil.After(now) {
			due = append(due, e)
		}
	}
	slices.SortStableFunc(due, func(a, b *ports.OutboxEntry) int {
		return cmp.Compare(a.Event.Time.UnixNano(), b.Event.Time.UnixNano())
	})
	out := []ports.OutboxEntry{}
	for _, e := range due[:min(max(limit, 0), len(due))] {
		e.LockedUntil = now.Add(lease)
		out = append(out, cloneEntry(e))
	}
	return out, nil
}

// change runs f on the entry id under the lock; ErrOutboxEntryNotFound when there is none or
// ok says f does not apply.
func (o *Outbox) change(ctx context.Context, id string, f func(e *ports.OutboxEntry) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	e, ok := o.byID[id]
	if !ok || !f(e) {
		return ports.ErrOutboxEntryNotFound
	}
	return nil
}

// leased runs f on the claimed entry e while it is pending under its lease, and answers
// ports.ErrOutboxLeaseLost otherwise.
func (o *Outbox) leased(ctx context.Context, e ports.OutboxEntry, f func(cur *ports.OutboxEntry)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	cur, ok := o.byID[e.Event.ID]
	if !ok || cur.State != ports.OutboxPending || !cur.LockedUntil.Equal(e.LockedUntil) {
		return ports.ErrOutboxLeaseLost
	}
	f(cur)
	return nil
}

// MarkDelivered implements ports.OutboxStore.
func (o *Outbox) MarkDelivered(ctx context.Context, e ports.OutboxEntry, target string) error {
	return o.leased(ctx, e, func(cur *ports.OutboxEntry) {
		if !slices.Contains(cur.DeliveredTo, target) {
			cur.DeliveredTo = append(cur.DeliveredTo, target)
		}
	})
}

// Ack implements ports.OutboxStore.
func (o *Outbox) Ack(ctx context.Context, e ports.OutboxEntry, now time.Time) error {
	return o.leased(ctx, e, func(cur *ports.OutboxEntry) {
		cur.State, cur.LockedUntil, cur.NextAttemptAt, cur.DeliveredAt = ports.OutboxDelivered, time.Time{}, now, now
	})
}

// Retry implements ports.OutboxStore.
func (o *Outbox) Retry(ctx context.Context, e ports.OutboxEntry, nextAttemptAt time.Time, lastErr string) error {
	return o.leased(ctx, e, func(cur *ports.OutboxEntry) {
		cur.Attempts++
		cur.LockedUntil, cur.NextAttemptAt, cur.LastError = time.Time{}, nextAttemptAt, lastErr
	})
}

// Dead implements ports.OutboxStore.
func (o *Outbox) Dead(ctx context.Context, e ports.OutboxEntry, lastErr string) error {
	return o.leased(ctx, e, func(cur *ports.OutboxEntry) {
		cur.Attempts++
		cur.State, cur.LockedUntil, cur.LastError = ports.OutboxDead, time.Time{}, lastErr
	})
}

// DeadLetters implements ports.OutboxStore.
func (o *Outbox) DeadLetters(ctx context.Context, limit int) ([]ports.OutboxEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var dead []*ports.OutboxEntry
	for _, e := range o.entries {
		if e.State == ports.OutboxDead {
			dead = append(dead, e)
		}
	}
	slices.SortStableFunc(dead, func(a, b *ports.OutboxEntry) int {
		return cmp.Compare(a.Event.Time.UnixNano(), b.Event.Time.UnixNano())
	})
	out := []ports.OutboxEntry{}
	for _, e := range dead[:min(max(limit, 0), len(dead))] {
		out = append(out, cloneEntry(e))
	}
	return out, nil
}

// Redrive implements ports.OutboxStore.
func (o *Outbox) Redrive(ctx context.Context, id string, now time.Time) error {
	return o.change(ctx, id, func(e *ports.OutboxEntry) bool {
		if e.State != ports.OutboxDead {
			return false
		}
		e.State, e.Attempts, e.LockedUntil, e.NextAttemptAt = ports.OutboxPending, 0, time.Time{}, now
		return true
	})
}

// Purge implements ports.OutboxStore: it deletes the delivered entries req selects, oldest
// delivery first, under the lock, in one pass over the entries.
func (o *Outbox) Purge(ctx context.Context, req ports.PurgeRequest) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := req.Validate(); err != nil {
		return 0, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var doomed []*ports.OutboxEntry
	for _, e := range o.entries {
		if e.State == ports.OutboxDelivered && e.DeliveredAt.Before(req.DeliveredBefore) && !slices.Contains(req.KeepAggregateTypes, e.Event.AggregateType) {
			doomed = append(doomed, e)
		}
	}
	if req.Limit > 0 && len(doomed) > req.Limit {
		slices.SortStableFunc(doomed, func(a, b *ports.OutboxEntry) int { return a.DeliveredAt.Compare(b.DeliveredAt) })
		doomed = doomed[:req.Limit]
	}
	if len(doomed) == 0 {
		return 0, nil
	}
	gone := make(map[*ports.OutboxEntry]bool, len(doomed))
	for _, e := range doomed {
		gone[e] = true
		if o.byID[e.Event.ID] == e {
			delete(o.byID, e.Event.ID)
		}
	}
	o.entries = slices.DeleteFunc(o.entries, func(e *ports.OutboxEntry) bool { return gone[e] })
	return len(doomed), nil
}

// aggregateEvents returns copies of the events about the aggregate typ and id ("": every
// one of typ), in the order stored.
func (o *Outbox) aggregateEvents(typ, id string) []ports.LifecycleEvent {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []ports.LifecycleEvent
	for _, e := range o.entries {
		if e.Event.AggregateType == typ && (id == "" || e.Event.AggregateID == id) {
			out = append(out, e.Event.Clone())
		}
	}
	return out
}

// publisher is the outbox a memory store writes to: none until PublishTo attaches one.
type publisher struct{ out atomic.Pointer[Outbox] }

// attach makes the store write its events to o (nil: drop them).
func (p *publisher) attach(o *Outbox) { p.out.Store(o) }

// keeps reports whether an outbox is attached: what the stores' KeepsEvents answer.
func (p *publisher) keeps() bool { return p.out.Load() != nil }

// publish writes evs to the attached outbox, or drops them. Stores call it while they hold
// the lock of the record the events report, after the write can no longer fail.
func (p *publisher) publish(evs []ports.LifecycleEvent) { p.out.Load().publish(evs) }
