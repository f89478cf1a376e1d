package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/adapters/webhook"
	"github.com/verifykit/verifykit/ports"
)

// The signatures themselves are checked against the Standard Webhooks specification's
// published example in TestSignMatchesTheSpecExample (webhook_test.go); the dispatcher
// signs with the same Sign.

var dispatchStart = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// receiver answers the statuses of answers in turn (then 200), verifying every request.
type receiver struct {
	t       *testing.T
	clock   *memory.Clock
	secret  string
	mu      sync.Mutex
	answers []int
	ids     []string // webhook-id of every request
	ok      map[string]int
}

func newReceiver(t *testing.T, clock *memory.Clock, answers ...int) (*receiver, *httptest.Server) {
	r := &receiver{t: t, clock: clock, secret: testSecret, answers: answers, ok: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := webhook.Verify(r.secret, req.Header, body, r.clock.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var p struct {
			Type string               `json:"type"`
			Data ports.LifecycleEvent `json:"data"`
		}
		if err := json.Unmarshal(body, &p); err != nil || p.Data.ID != req.Header.Get(webhook.HeaderID) {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.ids = append(r.ids, req.Header.Get(webhook.HeaderID))
		status := http.StatusOK
		if len(r.answers) > 0 {
			status, r.answers = r.answers[0], r.answers[1:]
		}
		if status == http.StatusOK {
			r.ok[p.Data.ID]++
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return r, srv
}

func newDispatcher(t *testing.T, o *memory.Outbox, clock *memory.Clock, url string, maxAttempts int) *webhook.Dispatcher {
	d, err := webhook.NewDispatcher(webhook.DispatcherConfig{
		Outbox: o, Clock: clock, MaxAttempts: maxAttempts, BaseDelay: time.Second, MaxDelay: time.Second,
		Endpoints: []webhook.Endpoint{{URL: url, Secret: testSecret}},
	})
	require.NoError(t, err)
	return d
}

func TestReceiverFailingThreeTimesGetsTheEventOnceWithOneID(t *testing.T) {
	ctx := context.Background()
	clock := memory.NewClock(dispatchStart)
	rcv, srv := newReceiver(t, clock, 500, 503, 502)
	o := memory.NewOutbox()
	ev := ports.NewLifecycleEvent("personrequest.approved", "person_request", "pr-1", dispatchStart)
	require.NoError(t, o.Append(ctx, ev))
	d := newDispatcher(t, o, clock, srv.URL, 10)
	for range 4 {
		n, err := d.DispatchOnce(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = d.DispatchOnce(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "not due before its next attempt")
		clock.Advance(2 * time.Second) // past the capped, jittered backoff: no sleeping
	}
	n, err := d.DispatchOnce(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "delivered: never again")
	require.Equal(t, []string{ev.ID, ev.ID, ev.ID, ev.ID}, rcv.ids, "four tries, one webhook-id")
	require.Equal(t, map[string]int{ev.ID: 1}, rcv.ok, "accepted once")
}

func TestDeadLettersAfterTheLastTryThenRedriven(t *testing.T) {
	ctx := context.Background()
	clock := memory.NewClock(dispatchStart)
	rcv, srv := newReceiver(t, clock, 500, 500, 500)
	o := memory.NewOutbox()
	ev := ports.NewLifecycleEvent("authmethod.deactivated", "auth_method", "am-1", dispatchStart)
	require.NoError(t, o.Append(ctx, ev))
	d := newDispatcher(t, o, clock, srv.URL, 3)
	for range 3 {
		_, err := d.DispatchOnce(ctx)
		require.NoError(t, err)
		clock.Advance(2 * time.Second)
	}
	dead, err := d.DeadLetters(ctx, 10)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	require.Equal(t, ev.ID, dead[0].Event.ID)
	require.Equal(t, 3, dead[0].Attempts)
	require.Equal(t, "status 500", dead[0].LastError[len(dead[0].LastError)-len("status 500"):])
	n, err := d.DispatchOnce(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "a dead event waits for a re-drive")

	require.NoError(t, d.Redrive(ctx, ev.ID))
	n, err = d.DispatchOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, map[string]int{ev.ID: 1}, rcv.ok)
	dead, err = d.DeadLetters(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, dead)
}

func TestSubscribersFiltersAndDeliveredTargetsAreSkipped(t *testing.T) {
	ctx := context.Background()
	clock := memory.NewClock(dispatchStart)
	rcv, srv := newReceiver(t, clock, 500)
	o := memory.NewOutbox()
	var got []string
	d, err := webhook.NewDispatcher(webhook.DispatcherConfig{
		Outbox: o, Clock: clock, BaseDelay: time.Second, MaxDelay: time.Second,
		Endpoints: []webhook.Endpoint{{URL: srv.URL, Secret: testSecret, Types: []string{"code.*"}}},
		Subscribers: []webhook.Subscriber{{Name: "audit", Types: []string{"personrequest."}, Handle: func(_ context.Context, ev ports.LifecycleEvent) error {
			got = append(got, ev.Type)
			return nil
		}}},
	})
	require.NoError(t, err)
	require.NoError(t, o.Append(ctx,
		ports.NewLifecycleEvent("personrequest.created", "person_request", "pr-1", dispatchStart),
		ports.NewLifecycleEvent("code.issued", "person_request", "pr-1", dispatchStart),
		ports.NewLifecycleEvent("profile.submitted", "profile", "u-1", dispatchStart)))
	for range 2 {
		_, err := d.DispatchOnce(ctx)
		require.NoError(t, err)
		clock.Advance(2 * time.Second)
	}
	require.Equal(t, []string{"personrequest.created"}, got, "the subscriber gets its types, once")
	require.Len(t, rcv.ids, 2, "the endpoint gets code.issued, retried once")
	for _, ev := range o.Events() {
		require.Contains(t, []string{"personrequest.created", "code.issued", "profile.submitted"}, ev.Type)
	}
}

func TestNewDispatcherRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  webhook.DispatcherConfig
	}{
		{"no outbox", webhook.DispatcherConfig{}},
		{"bad url", webhook.DispatcherConfig{Outbox: memory.NewOutbox(), Endpoints: []webhook.Endpoint{{URL: "ftp://x", Secret: testSecret}}}},
		{"bad secret", webhook.DispatcherConfig{Outbox: memory.NewOutbox(), Endpoints: []webhook.Endpoint{{URL: "https://x.example", Secret: "nope"}}}},
		{"nameless subscriber", webhook.DispatcherConfig{Outbox: memory.NewOutbox(), Subscribers: []webhook.Subscriber{{Handle: func(context.Context, ports.LifecycleEvent) error { return nil }}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := webhook.NewDispatcher(tc.cfg)
			require.Error(t, err)
		})
	}
}
