package ports_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/ports"
)

func TestDecideRate(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(ds ...time.Duration) []time.Time {
		times := make([]time.Time, len(ds))
		for i, d := range ds {
			times[i] = base.Add(d)
		}
		return times
	}
	const s = time.Second
	lim := func(max int, per time.Duration) ports.RateLimit { return ports.RateLimit{Max: max, Per: per} }
	cases := []struct {
		name   string
		times  []time.Time
		now    time.Duration
		limits []ports.RateLimit
		want   ports.RateDecision
	}{
		{name: "no events", now: 0, limits: []ports.RateLimit{lim(1, s)}, want: ports.RateDecision{Allowed: true}},
		{name: "no limits", times: at(0, 0, 0), now: 0, want: ports.RateDecision{Allowed: true}},
		{name: "counted by time, not by order", times: at(-1*s, -2*s, 0), now: 0, limits: []ports.RateLimit{lim(2, 2*s)},
			want: ports.RateDecision{RetryAfter: s}},
		{name: "the window is open on the left", times: at(-2 * s), now: 0, limits: []ports.RateLimit{lim(1, 2*s)},
			want: ports.RateDecision{Allowed: true}},
		{name: "and closed on the right", times: at(0), now: 0, limits: []ports.RateLimit{lim(1, 2*s)},
			want: ports.RateDecision{RetryAfter: 2 * s}},
		{name: "events later than now do not count", times: at(s, 10*s), now: 0, limits: []ports.RateLimit{lim(1, 20*s)},
			want: ports.RateDecision{Allowed: true}},
		{name: "the wait is until the event that must leave", times: at(5*s, 9*s, 1*s, 7*s, 3*s), now: 9 * s,
			limits: []ports.RateLimit{lim(3, 10*s)}, want: ports.RateDecision{RetryAfter: 6 * s}}, // 5 s leaves at 15 s
		{name: "the longest wait among denying limits", times: at(0, 4*s), now: 5 * s,
			limits: []ports.RateLimit{lim(1, 2*s), lim(2, 10*s), lim(5, 10*s)}, want: ports.RateDecision{RetryAfter: 5 * s}},
		{name: "equal times", times: at(s, s, s), now: s, limits: []ports.RateLimit{lim(2, s)},
			want: ports.RateDecision{RetryAfter: s}},
		{name: "a limit that allows nothing waits its window", now: 0, limits: []ports.RateLimit{lim(0, time.Minute)},
			want: ports.RateDecision{RetryAfter: time.Minute}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, ports.DecideRate(tc.times, base.Add(tc.now), tc.limits))
		})
	}
}

func TestDecideRateIgnoresMonotonicReadings(t *testing.T) {
	now := time.Now() // with a monotonic reading
	times := []time.Time{now.Add(-time.Second), now.Round(0).Add(-2 * time.Second)}
	d := ports.DecideRate(times, now, []ports.RateLimit{{Max: 2, Per: 3 * time.Second}})
	require.Equal(t, ports.RateDecision{RetryAfter: time.Second}, d)
}
