package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/postgres/pgtest"
	"github.com/verifykit/verifykit/ports"
)

// TestRateLimiterRowsInArrivalOrder: rows written before events were kept in time order hold
// them in the order they arrived; they are decided by time, and sorted on their next write.
func TestRateLimiterRowsInArrivalOrder(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	l := db.RateLimiter()
	ns := func(d time.Duration) int64 { return start.Add(d).UnixNano() }
	_, err := db.Pool().Exec(ctx, "insert into "+pgx.Identifier{db.Schema(), "rate_limits"}.Sanitize()+
		" (key, events_ns, keep_until_ns) values ($1, $2, $3)",
		[]byte("k"), []int64{ns(3 * time.Second), ns(time.Second), ns(2 * time.Second)}, ns(time.Hour))
	require.NoError(t, err)

	four := ports.RateLimit{Max: 4, Per: 10 * time.Second}
	cases := []struct {
		name string
		op   string
		at   time.Duration
		want ports.RateDecision
	}{
		{name: "the three events count", op: "peek", at: 4 * time.Second, want: ports.RateDecision{Allowed: true}},
		{name: "a fourth is recorded in its place", op: "allow", at: 2500 * time.Millisecond, want: ports.RateDecision{Allowed: true}},
		{name: "the oldest leaves first", op: "allow", at: 5 * time.Second, want: ports.RateDecision{RetryAfter: 6 * time.Second}},
		{name: "undo by time", op: "undo", at: time.Second},
		{name: "one less counts", op: "allow", at: 5 * time.Second, want: ports.RateDecision{Allowed: true}},
		{name: "then the next oldest", op: "peek", at: 6 * time.Second, want: ports.RateDecision{RetryAfter: 6 * time.Second}},
	}
	for _, tc := range cases {
		var (
			d   ports.RateDecision
			err error
		)
		switch tc.op {
		case "peek":
			d, err = l.Peek(ctx, "k", start.Add(tc.at), four)
		case "allow":
			d, err = l.Allow(ctx, "k", start.Add(tc.at), four)
		case "undo":
			require.NoError(t, l.Undo(ctx, "k", start.Add(tc.at)), tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, d, tc.name)
	}
	var events []int64
	require.NoError(t, db.Pool().QueryRow(ctx, "select events_ns from "+pgx.Identifier{db.Schema(), "rate_limits"}.Sanitize()+
		" where key = $1", []byte("k")).Scan(&events))
	require.Equal(t, []int64{ns(2 * time.Second), ns(2500 * time.Millisecond), ns(3 * time.Second), ns(5 * time.Second)}, events,
		"the row is in time order after a write")
}

// TestRateLimiterRetentionAcrossInstances: an instance keeps the events of a key for its own
// retention, so instances set alike keep what the longest window of any of them needs.
func TestRateLimiterRetentionAcrossInstances(t *testing.T) {
	ctx := context.Background()
	dbs := instances(t, 2)
	a, b := dbs[0].RateLimiter(), dbs[1].RateLimiter()
	a.SetRetention(72 * time.Hour)
	b.SetRetention(72 * time.Hour)
	minute := ports.RateLimit{Max: 1, Per: time.Minute}
	long := ports.RateLimit{Max: 2, Per: 72 * time.Hour}

	d, err := a.Allow(ctx, "k", start, minute)
	require.NoError(t, err)
	require.True(t, d.Allowed)
	d, err = b.Allow(ctx, "k", start.Add(48*time.Hour), minute) // b has never been asked about 72 hours
	require.NoError(t, err)
	require.True(t, d.Allowed)
	d, err = a.Peek(ctx, "k", start.Add(49*time.Hour), long)
	require.NoError(t, err)
	require.Equal(t, ports.RateDecision{RetryAfter: 23 * time.Hour}, d, "b kept the first event for the retention it was set to")
}
