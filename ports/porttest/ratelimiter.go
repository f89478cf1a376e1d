package porttest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/ports"
)

// RunRateLimiter runs the conformance suite of ports.RateLimiter. newLimiter must return
// an empty limiter; it is called once per sub-test.
func RunRateLimiter(t *testing.T, newLimiter func(t *testing.T) ports.RateLimiter) {
	ctx := context.Background()
	perWindow := ports.RateLimit{Max: 5, Per: 10 * time.Minute}
	apart := ports.RateLimit{Max: 1, Per: 30 * time.Second}

	t.Run("SlidingWindow", func(t *testing.T) {
		l := newLimiter(t)
		now := base
		for i := range 5 {
			d, err := l.Allow(ctx, "k", now, perWindow, apart)
			require.NoError(t, err)
			require.True(t, d.Allowed, "send %d", i+1)
			now = now.Add(31 * time.Second)
		}
		// The 6th within 10 minutes of the first is refused until the first leaves.
		d, err := l.Allow(ctx, "k", now, perWindow, apart)
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.Equal(t, base.Add(10*time.Minute).Sub(now), d.RetryAfter)
		d, err = l.Allow(ctx, "k", base.Add(10*time.Minute), perWindow, apart)
		require.NoError(t, err)
		require.True(t, d.Allowed, "once the first send leaves the window")
	})

	t.Run("MinimumInterval", func(t *testing.T) {
		l := newLimiter(t)
		d, err := l.Allow(ctx, "k", base, perWindow, apart)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		d, err = l.Allow(ctx, "k", base.Add(10*time.Second), perWindow, apart)
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.Equal(t, 20*time.Second, d.RetryAfter)
		d, err = l.Allow(ctx, "k", base.Add(30*time.Second), perWindow, apart)
		require.NoError(t, err)
		require.True(t, d.Allowed)
	})

	t.Run("DeniedRecordsNothingAndPeekRecordsNothing", func(t *testing.T) {
		l := newLimiter(t)
		one := ports.RateLimit{Max: 2, Per: time.Minute}
		for range 5 {
			d, err := l.Peek(ctx, "k", base, one)
			require.NoError(t, err)
			require.True(t, d.Allowed)
		}
		for range 2 {
			d, err := l.Allow(ctx, "k", base, one)
			require.NoError(t, err)
			require.True(t, d.Allowed)
		}
		for range 3 {
			d, err := l.Allow(ctx, "k", base.Add(30*time.Second), one)
			require.NoError(t, err)
			require.False(t, d.Allowed)
		}
		// Had the denied events been recorded, this would still be denied.
		d, err := l.Allow(ctx, "k", base.Add(time.Minute), one)
		require.NoError(t, err)
		require.True(t, d.Allowed)
	})

	t.Run("NoLimitsAllowsAndRecordsNothing", func(t *testing.T) {
		l := newLimiter(t)
		for range 3 {
			d, err := l.Allow(ctx, "k", base)
			require.NoError(t, err)
			require.True(t, d.Allowed)
		}
		d, err := l.Allow(ctx, "k", base, apart)
		require.NoError(t, err)
		require.True(t, d.Allowed, "the calls without limits recorded no event")
	})

	t.Run("UndoRemovesOneEvent", func(t *testing.T) {
		l := newLimiter(t)
		two := ports.RateLimit{Max: 2, Per: time.Minute}
		for _, at := range []time.Time{base, base.Add(time.Second)} {
			d, err := l.Allow(ctx, "k", at, two)
			require.NoError(t, err)
			require.True(t, d.Allowed)
		}
		d, err := l.Peek(ctx, "k", base.Add(2*time.Second), two)
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.NoError(t, l.Undo(ctx, "k", base.Add(time.Second)))
		require.NoError(t, l.Undo(ctx, "k", base.Add(time.Hour)), "no such event: nothing to undo")
		require.NoError(t, l.Undo(ctx, "other", base), "no such key: nothing to undo")
		d, err = l.Allow(ctx, "k", base.Add(2*time.Second), two)
		require.NoError(t, err)
		require.True(t, d.Allowed, "the undone event no longer counts")
		d, err = l.Allow(ctx, "k", base.Add(3*time.Second), two)
		require.NoError(t, err)
		require.False(t, d.Allowed, "only one event was undone")
		require.Equal(t, time.Minute-3*time.Second, d.RetryAfter, "the first event still counts")
	})

	t.Run("ConcurrentAllowAndUndoKeepTheCount", func(t *testing.T) {
		l := newLimiter(t)
		roomy := ports.RateLimit{Max: 1000, Per: time.Hour}
		// 55 events are recorded at once and 50 of them given back concurrently:
		// afterwards exactly 5 count, whatever the interleaving.
		var errs atomic.Int32
		parallel(55, func(i int) {
			at := base.Add(time.Duration(i) * time.Millisecond)
			d, err := l.Allow(ctx, "k", at, roomy)
			if err != nil || !d.Allowed {
				errs.Add(1)
				return
			}
			if i >= 5 {
				if err := l.Undo(ctx, "k", at); err != nil {
					errs.Add(1)
				}
			}
		})
		require.Zero(t, errs.Load())
		six := ports.RateLimit{Max: 6, Per: time.Hour}
		d, err := l.Allow(ctx, "k", base.Add(time.Second), six)
		require.NoError(t, err)
		require.True(t, d.Allowed, "no more than 5 events stayed")
		d, err = l.Allow(ctx, "k", base.Add(2*time.Second), six)
		require.NoError(t, err)
		require.False(t, d.Allowed, "no fewer than 5 events stayed")
	})

	t.Run("KeysAreIndependent", func(t *testing.T) {
		l := newLimiter(t)
		d, err := l.Allow(ctx, "a", base, apart)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		d, err = l.Allow(ctx, "b", base, apart)
		require.NoError(t, err)
		require.True(t, d.Allowed)
	})

	t.Run("ConcurrentAllowNeverPassesLimit", func(t *testing.T) {
		l := newLimiter(t)
		var allowed, errs atomic.Int32
		parallel(100, func(int) {
			d, err := l.Allow(ctx, "k", base, perWindow)
			if err != nil {
				errs.Add(1)
			} else if d.Allowed {
				allowed.Add(1)
			}
		})
		require.Zero(t, errs.Load())
		require.EqualValues(t, 5, allowed.Load())
	})
}
