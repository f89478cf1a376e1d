package memory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports"
	"github.com/verifykit/verifykit/ports/porttest"
)

func TestRateLimiterRetention(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	minute := ports.RateLimit{Max: 1, Per: time.Minute}
	cases := []struct {
		name      string
		retention time.Duration // 0: the default
		longest   time.Duration // a window asked about before, 0 for none
		gap       time.Duration
		kept      bool
	}{
		{name: "default keeps a day", gap: 23 * time.Hour, kept: true},
		{name: "default keeps no more", gap: 24*time.Hour + time.Nanosecond, kept: false},
		{name: "a shorter retention", retention: time.Hour, gap: 2 * time.Hour, kept: false},
		{name: "within a shorter retention", retention: time.Hour, gap: 30 * time.Minute, kept: true},
		{name: "a longer retention", retention: 72 * time.Hour, gap: 50 * time.Hour, kept: true},
		{name: "a longer window asked about", longest: 48 * time.Hour, gap: 47 * time.Hour, kept: true},
		{name: "a retention below a window asked about", retention: time.Hour, longest: 3 * time.Hour, gap: 2 * time.Hour, kept: true},
		{name: "negative is the default", retention: -time.Hour, gap: 23 * time.Hour, kept: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := memory.NewRateLimiter()
			l.SetRetention(tc.retention)
			if tc.longest > 0 {
				_, err := l.Peek(ctx, "other", now, ports.RateLimit{Max: 1, Per: tc.longest})
				require.NoError(t, err)
			}
			for _, at := range []time.Time{now, now.Add(tc.gap)} { // the second drops what the retention does not cover
				d, err := l.Allow(ctx, "k", at, minute)
				require.NoError(t, err)
				require.True(t, d.Allowed)
			}
			// A window that holds both events denies a third if the first was kept.
			d, err := l.Peek(ctx, "k", now.Add(tc.gap), ports.RateLimit{Max: 2, Per: tc.gap + time.Minute})
			require.NoError(t, err)
			require.Equal(t, !tc.kept, d.Allowed)
		})
	}
}

func TestRateLimiterIgnoresMonotonicReadings(t *testing.T) {
	ctx := context.Background()
	l := memory.NewRateLimiter()
	now := time.Now() // with a monotonic reading
	lim := ports.RateLimit{Max: 1, Per: time.Minute}
	d, err := l.Allow(ctx, "k", now, lim)
	require.NoError(t, err)
	require.True(t, d.Allowed)
	// The same instant without a monotonic reading, as another process would pass it.
	d, err = l.Peek(ctx, "k", now.Round(0).Add(time.Second), lim)
	require.NoError(t, err)
	require.Equal(t, ports.RateDecision{RetryAfter: 59 * time.Second}, d)
	require.NoError(t, l.Undo(ctx, "k", now.Round(0)))
	require.Zero(t, l.Len(), "the event is undone by its wall-clock time")
}

func TestRateLimiterConformance(t *testing.T) {
	// Memory is fast: compare it with the model over many more sequences than the default.
	porttest.RunRateLimiter(t, porttest.Features{ModelSequences: 5_000}, func(*testing.T) ports.RateLimiter { return memory.NewRateLimiter() })
}

func TestRateLimiterUndoLeavesNoEmptyKeys(t *testing.T) {
	ctx := context.Background()
	l := memory.NewRateLimiter()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := ports.RateLimit{Max: 100, Per: 24 * time.Hour}
	for i := range 10_000 {
		key := fmt.Sprint("k", i)
		_, err := l.Allow(ctx, key, now, day)
		require.NoError(t, err)
		require.NoError(t, l.Undo(ctx, key, now))
	}
	require.Zero(t, l.Len(), "given-back reservations leave nothing behind")
}
