package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports"
	"github.com/verifykit/verifykit/ports/porttest"
)

func TestOTPStoreConformance(t *testing.T) {
	porttest.RunOTPStore(t, features, func(*testing.T) ports.OTPStore { return memory.NewOTPStore() })
}

func TestOTPStoreOutbox(t *testing.T) {
	porttest.RunOTPStoreOutbox(t, features, func(*testing.T) porttest.OTPOutboxStores {
		s, o := memory.NewOTPStore(), memory.NewOutbox()
		s.PublishTo(o)
		return porttest.OTPOutboxStores{Store: s, Outbox: o, Limiter: memory.NewRateLimiter()}
	})
}

func TestOTPStorePurgesOnWrite(t *testing.T) {
	ctx := context.Background()
	s := memory.NewOTPStore()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Many subjects, each written once, all expired long before the later writes: the
	// store must not keep them all.
	const n = 70_000
	live := ports.Verification{
		Code:      ports.OTPRecord{ID: "live", Purpose: "p", Subject: "live", State: ports.CodeActive, MaxAttempts: 1, CreatedAt: base, ExpiresAt: base.Add(time.Minute)},
		Failures:  []time.Time{base},
		KeepUntil: base.Add(2 * n * time.Second), // still matters after every later write
	}
	_, err := s.Update(ctx, "p", "live", func(v *ports.Verification) error { *v = live; return nil })
	require.NoError(t, err)
	for i := range n {
		created := base.Add(time.Duration(i) * time.Second)
		_, err := s.Update(ctx, "p", string(rune(i+0x100)), func(v *ports.Verification) error {
			v.Code = ports.OTPRecord{
				ID: "id", Purpose: "p", Subject: string(rune(i + 0x100)), State: ports.CodeActive,
				MaxAttempts: 1, CreatedAt: created, ExpiresAt: created.Add(time.Minute),
			}
			v.KeepUntil = v.Code.ExpiresAt
			return nil
		})
		require.NoError(t, err)
	}
	got, err := s.Get(ctx, "p", "live")
	require.NoError(t, err, "the purges on write keep what still matters")
	live.Version = 1 // written once
	require.Equal(t, live, got)
	// Purging everything expired reports how many were still stored.
	left, err := s.PurgeExpired(ctx, base.Add(n*time.Second+time.Hour), -1)
	require.NoError(t, err)
	require.Less(t, left, n/2, "expired codes were purged as the store was written")
	_, err = s.Get(ctx, "p", "live")
	require.NoError(t, err, "PurgeExpired keeps what still matters")
}
