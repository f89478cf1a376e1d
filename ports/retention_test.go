package ports_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/ports"
)

func TestRateRetention(t *testing.T) {
	var r ports.RateRetention
	require.Equal(t, ports.DefaultRateRetention, r.Keep(time.Minute), "the default while none is set")
	r.Set(time.Hour)
	require.Equal(t, time.Hour, r.Keep(time.Minute))
	require.Equal(t, 2*time.Hour, r.Keep(2*time.Hour), "never less than a window asked about")
	require.Equal(t, 2*time.Hour, r.Keep(time.Second), "nor than the longest one asked about before")
	r.Set(0)
	require.Equal(t, ports.DefaultRateRetention, r.Keep(0))
	r.Set(-time.Hour)
	require.Equal(t, ports.DefaultRateRetention, r.Keep(0), "a negative retention restores the default")
}

// TestDecideRateSortedAgreesWithDecideRate: on sorted times, the fast paths (times as they
// are, and as Unix nanoseconds) answer what the rule answers, over random events, limits
// and clocks.
func TestDecideRateSortedAgreesWithDecideRate(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 11))
	base := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for range 20_000 {
		times := make([]time.Time, rnd.IntN(12))
		for i := range times {
			times[i] = base.Add(time.Duration(rnd.IntN(20)) * 500 * time.Millisecond)
		}
		slices.SortFunc(times, time.Time.Compare)
		limits := make([]ports.RateLimit, 1+rnd.IntN(3))
		for i := range limits {
			limits[i] = ports.RateLimit{Max: rnd.IntN(5), Per: time.Duration(1+rnd.IntN(8)) * time.Second}
		}
		now := base.Add(time.Duration(rnd.IntN(24)) * 500 * time.Millisecond)
		want := ports.DecideRate(times, now, limits)
		require.Equal(t, want, ports.DecideRateSorted(times, now, limits), "%v at %v with %v", times, now, limits)
		nanos := make([]int64, len(times))
		for i, tm := range times {
			nanos[i] = tm.UnixNano()
		}
		require.Equal(t, want, ports.DecideRateSortedUnixNano(nanos, now, limits), "%v at %v with %v", times, now, limits)
	}
}

func TestLongestPer(t *testing.T) {
	got, ok := ports.LongestPer([]ports.RateLimit{{Max: 1, Per: time.Minute}, {Max: 5, Per: time.Hour}})
	require.True(t, ok)
	require.Equal(t, time.Hour, got)
	_, ok = ports.LongestPer([]ports.RateLimit{{Max: 1, Per: time.Minute}, {Max: 0, Per: time.Hour}})
	require.False(t, ok, "a limit that allows nothing is refused")
	_, ok = ports.LongestPer([]ports.RateLimit{{Max: 1}})
	require.False(t, ok)
	got, ok = ports.LongestPer(nil)
	require.True(t, ok)
	require.Zero(t, got)
}
