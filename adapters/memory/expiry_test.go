package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/ports"
)

var expiryBase = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// putKeepUntil stores a Verification for subject that matters until keep.
func putKeepUntil(t *testing.T, s *OTPStore, subject string, keep time.Time) {
	t.Helper()
	_, err := s.Update(context.Background(), "p", subject, func(v *ports.Verification) error {
		v.Code = ports.OTPRecord{ID: "c-" + subject, Purpose: "p", Subject: subject, Hash: []byte{1, 2, 3},
			State: ports.CodeActive, MaxAttempts: 5, CreatedAt: expiryBase.Add(-48 * time.Hour), ExpiresAt: keep}
		v.KeepUntil = keep
		return nil
	})
	require.NoError(t, err)
}

func TestOTPStoreExpiry(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		keep    []time.Duration // KeepUntil of s0, s1, ... from expiryBase
		moved   map[int]time.Duration
		before  time.Duration
		limit   int
		deleted int
		left    int
		rest    int // what a second purge at the same time deletes
	}{
		{name: "nothing due deletes nothing", keep: []time.Duration{time.Hour, 2 * time.Hour}, before: 0, limit: -1, deleted: 0, left: 2},
		{name: "due ones go", keep: []time.Duration{-time.Hour, 0, time.Hour}, before: 0, limit: -1, deleted: 2, left: 1},
		{name: "a batch is bounded", keep: []time.Duration{-3 * time.Hour, -2 * time.Hour, -time.Hour}, before: 0, limit: 2, deleted: 2, left: 1, rest: 1},
		{name: "a KeepUntil moved later is kept", keep: []time.Duration{-time.Hour, -time.Hour},
			moved: map[int]time.Duration{0: time.Hour}, before: 0, limit: -1, deleted: 1, left: 1},
		{name: "a KeepUntil moved earlier goes", keep: []time.Duration{time.Hour, time.Hour},
			moved: map[int]time.Duration{1: -time.Hour}, before: 0, limit: -1, deleted: 1, left: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewOTPStore()
			for i, d := range tc.keep {
				putKeepUntil(t, s, fmt.Sprintf("s%d", i), expiryBase.Add(d))
			}
			for i, d := range tc.moved {
				putKeepUntil(t, s, fmt.Sprintf("s%d", i), expiryBase.Add(d))
			}
			n, err := s.PurgeExpired(ctx, expiryBase.Add(tc.before), tc.limit)
			require.NoError(t, err)
			require.Equal(t, tc.deleted, n)
			left := 0
			for i := range tc.keep {
				if _, err := s.Get(ctx, "p", fmt.Sprintf("s%d", i)); err == nil {
					left++
				}
			}
			require.Equal(t, tc.left, left)
			n, err = s.PurgeExpired(ctx, expiryBase.Add(tc.before), -1)
			require.NoError(t, err)
			require.Equal(t, tc.rest, n, "a second purge at the same time finds only what the first left")
		})
	}
}

func TestOTPStoreGivesMemoryBack(t *testing.T) {
	ctx := context.Background()
	s := NewOTPStore()
	const n = 64 * 2 * minShrink
	for i := range n {
		putKeepUntil(t, s, fmt.Sprintf("s%d", i), expiryBase)
	}
	deleted, err := s.PurgeExpired(ctx, expiryBase, -1)
	require.NoError(t, err)
	require.Equal(t, n, deleted)
	for i := range s.shards {
		sh := &s.shards[i]
		require.Empty(t, sh.vs)
		require.Zero(t, sh.peak, "shard %d: the map was reallocated", i)
		require.LessOrEqual(t, cap(sh.expiry.items), minShrink, "shard %d: the heap gave its room back", i)
	}
}

func TestOTPStorePurgesOnWrites(t *testing.T) {
	ctx := context.Background()
	s := NewOTPStore()
	const n = 1000
	for i := range n {
		putKeepUntil(t, s, fmt.Sprintf("old%d", i), expiryBase.Add(-time.Hour))
	}
	// Writes naming a later time delete what was due then, a few per write.
	for i := range n {
		_, err := s.Update(ctx, "p", fmt.Sprintf("new%d", i), func(v *ports.Verification) error {
			v.Code = ports.OTPRecord{ID: "c", Purpose: "p", CreatedAt: expiryBase, ExpiresAt: expiryBase.Add(time.Hour)}
			v.KeepUntil = v.Code.ExpiresAt
			return nil
		})
		require.NoError(t, err)
	}
	left, err := s.PurgeExpired(ctx, expiryBase, -1)
	require.NoError(t, err)
	require.Less(t, left, n/2, "most due verifications went with the writes")
}

func TestRateLimiterPurgeStale(t *testing.T) {
	ctx := context.Background()
	lim := ports.RateLimit{Max: 5, Per: time.Minute}
	cases := []struct {
		name    string
		at      []time.Duration // the event of key k<i> at expiryBase + at[i]
		later   map[int]time.Duration
		now     time.Duration
		limit   int
		deleted int
	}{
		{name: "within the retention", at: []time.Duration{0, time.Hour}, now: time.Hour, limit: 10, deleted: 0},
		{name: "past the retention", at: []time.Duration{0, time.Hour}, now: ports.DefaultRateRetention + time.Minute, limit: 10, deleted: 1},
		{name: "at the end of the retention it is kept", at: []time.Duration{0}, now: ports.DefaultRateRetention, limit: 10, deleted: 0},
		{name: "a batch is bounded", at: []time.Duration{0, 0, 0}, now: 48 * time.Hour, limit: 2, deleted: 2},
		{name: "a limit of zero deletes nothing", at: []time.Duration{0}, now: 48 * time.Hour, limit: 0, deleted: 0},
		{name: "an event recorded later keeps its key", at: []time.Duration{0, 0}, later: map[int]time.Duration{0: 20 * time.Hour},
			now: ports.DefaultRateRetention + time.Hour, limit: 10, deleted: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := NewRateLimiter()
			for i, d := range tc.at {
				_, err := l.Allow(ctx, fmt.Sprintf("k%d", i), expiryBase.Add(d), lim)
				require.NoError(t, err)
			}
			for i, d := range tc.later {
				_, err := l.Allow(ctx, fmt.Sprintf("k%d", i), expiryBase.Add(d), lim)
				require.NoError(t, err)
			}
			n, err := l.PurgeStale(ctx, expiryBase.Add(tc.now), tc.limit)
			require.NoError(t, err)
			require.Equal(t, tc.deleted, n)
			require.Equal(t, len(tc.at)-tc.deleted, l.Len())
		})
	}
}

func TestRateLimiterGivesMemoryBack(t *testing.T) {
	ctx := context.Background()
	l := NewRateLimiter()
	const n = 64 * 2 * minShrink
	for i := range n {
		_, err := l.Allow(ctx, fmt.Sprintf("k%d", i), expiryBase, ports.RateLimit{Max: 1, Per: time.Minute})
		require.NoError(t, err)
	}
	deleted, err := l.PurgeStale(ctx, expiryBase.Add(48*time.Hour), n+1)
	require.NoError(t, err)
	require.Equal(t, n, deleted)
	require.Zero(t, l.Len())
	for i := range l.shards {
		require.Zero(t, l.shards[i].peak, "shard %d: the map was reallocated", i)
		require.LessOrEqual(t, cap(l.shards[i].expiry.items), minShrink, "shard %d: the heap gave its room back", i)
	}
}

func TestRateLimiterUndoneKeysLeaveNoEntry(t *testing.T) {
	ctx := context.Background()
	l := NewRateLimiter()
	lim := ports.RateLimit{Max: 1, Per: time.Minute}
	for range 3 { // recorded, undone (the key goes), recorded again: queued again
		_, err := l.Allow(ctx, "k", expiryBase, lim)
		require.NoError(t, err)
		require.NoError(t, l.Undo(ctx, "k", expiryBase))
	}
	_, err := l.Allow(ctx, "k", expiryBase, lim)
	require.NoError(t, err)
	n, err := l.PurgeStale(ctx, expiryBase.Add(48*time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, 1, n, "one key, counted once")
	require.Zero(t, l.Len())
}

func TestExpiryHeapOrder(t *testing.T) {
	var h expiryHeap[int]
	in := []int64{5, 3, 9, 1, 1, 7, -4, 0}
	for i, at := range in {
		h.push(at, i)
	}
	var got []int64
	for {
		it, ok := h.top()
		if !ok {
			break
		}
		got = append(got, it.at)
		h.pop()
	}
	require.Equal(t, []int64{-4, 0, 1, 1, 3, 5, 7, 9}, got)
	require.Equal(t, int64(-1<<63), unixNanos(time.Time{}), "the zero time is the earliest")
}
