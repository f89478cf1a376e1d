package webhook_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/adapters/webhook"
	"github.com/verifykit/verifykit/ports"
)

// purgeEnv is an outbox with a profile store writing to it, a person-request event and a
// profile audit event in it, both delivered at dispatchStart by a dispatcher of retention.
type purgeEnv struct {
	outbox *memory.Outbox
	audit  *memory.ProfileAuditLog
	d      *webhook.Dispatcher
}

func newPurgeEnv(t *testing.T, retention time.Duration, wrap func(*memory.Outbox) ports.OutboxStore) purgeEnv {
	t.Helper()
	ctx := context.Background()
	o := memory.NewOutbox()
	profiles := memory.NewProfileStore()
	profiles.PublishTo(o)
	audit := profiles.AuditLog()
	require.NoError(t, o.Append(ctx, ports.NewLifecycleEvent("personrequest.created", "person_request", "pr-1", dispatchStart)))
	require.NoError(t, audit.Append(ctx, ports.ProfileAuditEvent{Action: ports.AuditIdentificationSubmitted, ActorID: "u1", UserID: "u1", At: dispatchStart}))
	var store ports.OutboxStore = o
	if wrap != nil {
		store = wrap(o)
	}
	d, err := webhook.NewDispatcher(webhook.DispatcherConfig{
		Outbox: store, Clock: memory.NewClock(dispatchStart), Retention: retention,
		Subscribers: []webhook.Subscriber{{Name: "sink", Handle: func(context.Context, ports.LifecycleEvent) error { return nil }}},
	})
	require.NoError(t, err)
	n, err := d.DispatchOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	return purgeEnv{outbox: o, audit: audit, d: d}
}

func eventTypes(o *memory.Outbox) []string {
	var out []string
	for _, ev := range o.Events() {
		out = append(out, ev.Type)
	}
	return out
}

func TestPurgeDropsOldDeliveriesAndKeepsTheAuditTrail(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		retention time.Duration
		at        time.Duration // after the delivery
		purged    int
	}{
		{"default retention, within it", 0, webhook.DefaultRetention - time.Second, 0},
		{"default retention, past it", 0, webhook.DefaultRetention + time.Second, 1},
		{"one hour, past it", time.Hour, time.Hour + time.Second, 1},
		{"one hour, exactly", time.Hour, time.Hour, 0},
		{"never", -1, 1000 * webhook.DefaultRetention, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newPurgeEnv(t, tc.retention, nil)
			n, err := env.d.Purge(ctx, dispatchStart.Add(tc.at))
			require.NoError(t, err)
			require.Equal(t, tc.purged, n)
			want := []string{"personrequest.created", "profile.submitted"}
			if tc.purged == 1 {
				want = want[1:]
			}
			require.Equal(t, want, eventTypes(env.outbox))
			evs, err := env.audit.Events(ctx, "u1")
			require.NoError(t, err)
			require.Len(t, evs, 1, "the audit trail is kept")
			require.Equal(t, ports.AuditIdentificationSubmitted, evs[0].Action)
		})
	}
}

// countingOutbox counts the Purges of Run and ends its context after the first.
type countingOutbox struct {
	*memory.Outbox
	cancel context.CancelFunc
	purges []ports.PurgeRequest
}

func (c *countingOutbox) Purge(ctx context.Context, req ports.PurgeRequest) (int, error) {
	c.purges = append(c.purges, req)
	c.cancel()
	return c.Outbox.Purge(ctx, req)
}

func TestRunPurgesEachInterval(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var counted *countingOutbox
	env := newPurgeEnv(t, time.Hour, func(o *memory.Outbox) ports.OutboxStore {
		counted = &countingOutbox{Outbox: o, cancel: cancel}
		return counted
	})
	// The dispatcher's clock still reads dispatchStart: nothing is old enough yet.
	require.ErrorIs(t, env.d.Run(ctx, time.Millisecond), context.Canceled)
	require.Len(t, counted.purges, 1)
	require.Equal(t, ports.PurgeRequest{DeliveredBefore: dispatchStart.Add(-time.Hour), KeepAggregateTypes: ports.AuditAggregateTypes, Limit: 1000}, counted.purges[0])
	require.Equal(t, []string{"personrequest.created", "profile.submitted"}, eventTypes(env.outbox))
}

func TestPurgeGoesOnPastOneBatch(t *testing.T) {
	ctx := context.Background()
	o := memory.NewOutbox()
	const n = 2500 // more than one OutboxStore.Purge of the dispatcher deletes
	evs := make([]ports.LifecycleEvent, n)
	for i := range evs {
		evs[i] = ports.NewLifecycleEvent("code.issued", "otp_code", "c", dispatchStart)
	}
	require.NoError(t, o.Append(ctx, evs...))
	d, err := webhook.NewDispatcher(webhook.DispatcherConfig{
		Outbox: o, Clock: memory.NewClock(dispatchStart), Batch: n,
		Subscribers: []webhook.Subscriber{{Name: "sink", Handle: func(context.Context, ports.LifecycleEvent) error { return nil }}},
	})
	require.NoError(t, err)
	claimed, err := d.DispatchOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, n, claimed)
	purged, err := d.Purge(ctx, dispatchStart.Add(webhook.DefaultRetention+time.Second))
	require.NoError(t, err)
	require.Equal(t, n, purged)
	require.Empty(t, o.Events())
}
