package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/webhook"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// TestServerDispatchesTheCodesEventsFromRedis: with -redis and -webhook, the standalone
// codes keep their events in the Redis outbox, and the server's dispatcher posts them,
// signed, with the version their write stored.
func TestServerDispatchesTheCodesEventsFromRedis(t *testing.T) {
	addr := os.Getenv("VERIFYKIT_REDIS_ADDR")
	if addr == "" {
		t.Skip("set VERIFYKIT_REDIS_ADDR to run this test against Redis")
	}
	ctx := context.Background()
	prefix := fmt.Sprintf("vktest:server:%d:", time.Now().UnixNano())
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() {
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			_ = rdb.Del(ctx, iter.Val()).Err()
		}
		_ = rdb.Close()
	})

	const secret = "whsec_c2VjcmV0LWtleS1vZi10aGUtdGVzdC1nYXRld2F5"
	got := make(chan ports.LifecycleEvent, 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || webhook.Verify(secret, r.Header, body, time.Now()) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p struct {
			Data ports.LifecycleEvent `json:"data"`
		}
		if json.Unmarshal(body, &p) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got <- p.Data
	}))
	t.Cleanup(srv.Close)

	cfg, err := parseFlags([]string{"-redis", addr, "-redis-prefix", prefix, "-webhook", srv.URL, "-webhook-secret", secret}, io.Discard)
	require.NoError(t, err)
	a, err := newApp(t.Context(), cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(a.close) // after t.Context ends the dispatchers
	require.Contains(t, a.storage, "from the Redis outbox")

	ocfg := otp.DefaultConfig()
	ocfg.Secrets = [][]byte{[]byte("0123456789abcdef0123456789abcdef")}
	codes, err := otp.NewService(otp.Deps{Store: a.codeStore, Limiter: a.limiter}, ocfg)
	require.NoError(t, err)
	issued, err := codes.IssueExternal(ctx, otp.IssueRequest{Purpose: "login", Subject: "user-1"})
	require.NoError(t, err)
	_, err = codes.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-1", Code: issued.Code})
	require.NoError(t, err)

	want := map[string]int64{otp.EventCodeIssued: 1, otp.EventCodeVerified: 2}
	for len(want) > 0 {
		ev := <-got // the demo data's events come too, from the memory outbox
		if ev.AggregateID != issued.ID {
			continue
		}
		version, ok := want[ev.Type]
		require.True(t, ok, "an event %s of the code, once", ev.Type)
		require.Equal(t, version, ev.AggregateVersion, ev.Type)
		require.Equal(t, "otp_code", ev.AggregateType)
		delete(want, ev.Type)
	}
}
