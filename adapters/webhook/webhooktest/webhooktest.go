// Package webhooktest checks an outbox the way several host instances use it: dispatchers
// (webhook.Dispatcher), each on an outbox value of its own over one store, posting to one
// signed-webhook receiver (an httptest server speaking the real wire format).
//
//	webhooktest.DeliverOnceEach(t, clock, n, dbA.Outbox(), dbB.Outbox())
package webhooktest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/webhook"
	"github.com/verifykit/verifykit/ports"
)

// Secret is the signing secret of the endpoint DeliverOnceEach dispatches to.
const Secret = "whsec_c2VjcmV0LWtleS1vZi10aGUtdGVzdC1nYXRld2F5"

// DeliverOnceEach runs one dispatcher per outbox (all over one store, each typically on a
// client or pool of its own), each claiming batches of 7 until it finds nothing due at
// clock's time (nil: the system clock), side by side, to one receiver that checks every
// signature (webhook.Verify, at clock's time). It fails t unless the receiver got want events, each exactly
// once, every request was signed, and no dispatcher failed.
func DeliverOnceEach(t *testing.T, clock ports.Clock, want int, outboxes ...ports.OutboxStore) {
	t.Helper()
	ctx := context.Background()
	if clock == nil {
		clock = ports.SystemClock{}
	}
	var mu sync.Mutex
	got, unsigned := map[string]int{}, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err != nil || webhook.Verify(Secret, r.Header, body, clock.Now()) != nil { // signed at the dispatchers' time
			unsigned++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		got[r.Header.Get(webhook.HeaderID)]++
	}))
	t.Cleanup(srv.Close)
	var wg sync.WaitGroup
	errs := make(chan error, len(outboxes))
	for _, o := range outboxes {
		d, err := webhook.NewDispatcher(webhook.DispatcherConfig{
			Outbox: o, Batch: 7, Lease: time.Hour, Clock: clock,
			Endpoints: []webhook.Endpoint{{URL: srv.URL, Secret: Secret}},
		})
		require.NoError(t, err)
		wg.Go(func() {
			for {
				k, err := d.DispatchOnce(ctx)
				if err != nil {
					errs <- err
					return
				}
				if k == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Zero(t, unsigned, "every delivery is signed")
	require.Len(t, got, want, "every event is delivered")
	for id, k := range got {
		require.Equal(t, 1, k, "event %s delivered once", id)
	}
}
