package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/adapters/webhook"
	"github.com/verifykit/verifykit/ports"
)

// TestARedirectIsNotADelivery: an endpoint answering 302 has not got the event, however
// the redirected location answers; the signed request is not sent on.
func TestARedirectIsNotADelivery(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL, http.StatusFound)
	}))
	t.Cleanup(hook.Close)
	clock := memory.NewClock(dispatchStart)
	o := memory.NewOutbox()
	require.NoError(t, o.Append(context.Background(), ports.NewLifecycleEvent("t.a", "test", "1", dispatchStart)))
	d := newDispatcher(t, o, clock, hook.URL+"/hooks/secret-path-token", 5)
	n, err := d.DispatchOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Zero(t, elsewhere.Load(), "the redirect is not followed")
	es, err := o.Claim(context.Background(), dispatchStart.Add(time.Hour), time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, es, 1, "still pending")
	require.Equal(t, 1, es[0].Attempts)
	require.NotContains(t, es[0].LastError, "secret-path-token", "the endpoint is named by scheme and host")
}

// TestDispatchStopsWhenItsContextEnds: once ctx is done no further entry is delivered,
// and what the delivery in progress did is still recorded.
func TestDispatchStopsWhenItsContextEnds(t *testing.T) {
	clock := memory.NewClock(dispatchStart)
	o := memory.NewOutbox()
	for i := range 5 {
		require.NoError(t, o.Append(context.Background(), ports.NewLifecycleEvent("t.a", "test", fmt.Sprint(i), dispatchStart)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	d, err := webhook.NewDispatcher(webhook.DispatcherConfig{Outbox: o, Clock: clock, Subscribers: []webhook.Subscriber{{
		Name: "sub", Handle: func(context.Context, ports.LifecycleEvent) error { calls.Add(1); cancel(); return nil },
	}}})
	require.NoError(t, err)
	_, err = d.DispatchOnce(ctx)
	require.NoError(t, err, "the delivery that happened was recorded")
	require.EqualValues(t, 1, calls.Load(), "nothing after the context ended")
	es, err := o.Claim(context.Background(), dispatchStart.Add(time.Hour), time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, es, 4, "the delivered one is acknowledged; the others wait for their lease")
}

// TestDispatchStopsBeforeItsLeaseEnds: a batch whose lease is nearly over is left for the
// next claim instead of being delivered by a dispatcher that may no longer hold it.
func TestDispatchStopsBeforeItsLeaseEnds(t *testing.T) {
	clock := memory.NewClock(dispatchStart)
	o := memory.NewOutbox()
	for i := range 3 {
		require.NoError(t, o.Append(context.Background(), ports.NewLifecycleEvent("t.a", "test", fmt.Sprint(i), dispatchStart)))
	}
	var calls atomic.Int32
	d, err := webhook.NewDispatcher(webhook.DispatcherConfig{Outbox: o, Clock: clock, Lease: time.Minute, Subscribers: []webhook.Subscriber{{
		Name: "slow", Handle: func(context.Context, ports.LifecycleEvent) error {
			calls.Add(1)
			clock.Advance(55 * time.Second)
			return nil
		},
	}}})
	require.NoError(t, err)
	_, err = d.DispatchOnce(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 1, calls.Load(), "55 s of a 60 s lease gone: the rest waits")
}
