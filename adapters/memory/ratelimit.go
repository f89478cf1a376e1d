package memory

import (
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

// RateLimiter is a ports.RateLimiter that keeps, per key, the times of recent events in time
// order and checks sliding windows exactly, with ports.DecideRate: "5 per 10 minutes" never
// lets a 6th event into a 10-minute window. (A token bucket such as golang.org/x/time/rate
// would: it refills continuously.) An event is put in its place by its time, whatever the
// order in which events arrive, and kept for the limiter's retention (SetRetention; at least
// the longest window the limiter has been asked about), not just for the windows of the
// call that records it. Keys with no event inside the retention are forgotten: each recorded
// event deletes up to two of them on its own, and PurgeStale deletes them in batches. Event
// times are kept as Unix nanoseconds: the limiter counts events of the years 1678 to 2262.
type RateLimiter struct {
	seed      maphash.Seed
	retention ports.RateRetention // how long events are kept
	shards    [shardCount]limiterShard
}

type limiterShard struct {
	mu     sync.Mutex
	keys   map[string]eventLog
	writes int
	// expiry queues the keys by keepTo (expiry.go); peak is the most keys held since keys
	// was last reallocated.
	expiry expiryHeap[string]
	peak   int

	_ cacheLinePad
}

// eventLog is one key's events. It is held in the map by value, with its times as Unix
// nanoseconds: a key costs the garbage collector one object to mark (its times, which hold
// no pointer), not three, and a lookup one memory access fewer.
type eventLog struct {
	times  []int64 // ascending Unix nanoseconds (wall clock)
	keepTo int64   // the unixNanos time after which the log is stale
	queued int64   // the unixNanos time the key is queued at in the shard's expiry heap
}

// NewRateLimiter returns an empty RateLimiter that keeps events for
// ports.DefaultRateRetention.
func NewRateLimiter() *RateLimiter {
	l := &RateLimiter{seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].keys = make(map[string]eventLog)
	}
	return l
}

// SetRetention sets how long the limiter keeps an event (see ports.RateLimiter); zero or
// less restores ports.DefaultRateRetention. It never keeps events for less than the longest
// Per it has been asked about. A shorter retention saves memory; it must be at least the
// longest window any caller of the limiter uses. It is safe to call at any time; the events
// already dropped stay dropped.
func (l *RateLimiter) SetRetention(d time.Duration) { l.retention.Set(d) }

// errBadLimit is returned for a limit with a non-positive Max or Per.
var errBadLimit = verifykit.New(verifykit.KindInternal, "A rate limit needs a positive Max and Per.")

// Allow implements ports.RateLimiter.
func (l *RateLimiter) Allow(ctx context.Context, key string, now time.Time, limits ...ports.RateLimit) (ports.RateDecision, error) {
	return l.decide(ctx, key, now, true, limits)
}

// Peek implements ports.RateLimiter.
func (l *RateLimiter) Peek(ctx context.Context, key string, now time.Time, limits ...ports.RateLimit) (ports.RateDecision, error) {
	return l.decide(ctx, key, now, false, limits)
}

// Len returns how many keys the limiter holds: a measure of its memory, for tests and
// metrics.
func (l *RateLimiter) Len() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.keys)
		sh.mu.Unlock()
	}
	return n
}

// Undo implements ports.RateLimiter.
func (l *RateLimiter) Undo(ctx context.Context, key string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := &l.shards[shardIndex(l.seed, key)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	log, ok := sh.keys[key]
	if !ok {
		return nil
	}
	if i, found := slices.BinarySearch(log.times, unixNanos(at)); found {
		log.times = slices.Delete(log.times, i, i+1)
		if len(log.times) == 0 {
			delete(sh.keys, key) // nothing left to count: keep no empty entry
		} else {
			sh.keys[key] = log
		}
	}
	return nil
}

func (l *RateLimiter) decide(ctx context.Context, key string, now time.Time, record bool, limits []ports.RateLimit) (ports.RateDecision, error) {
	if err := ctx.Err(); err != nil {
		return ports.RateDecision{}, err
	}
	if len(limits) == 0 {
		return ports.RateDecision{Allowed: true}, nil // nothing to count against
	}
	longest, ok := ports.LongestPer(limits)
	if !ok {
		return ports.RateDecision{}, errBadLimit
	}
	keep := l.retention.Keep(longest)
	now = now.Round(0) // wall clock only: times of every caller compare alike
	sh := &l.shards[shardIndex(l.seed, key)]
	sh.mu.Lock()
	defer sh.mu.Unlock()

	log, found := sh.keys[key]
	d := ports.DecideRateSortedUnixNano(log.times, now, limits) // a key's times are kept in order
	if !d.Allowed || !record {
		return d, nil
	}
	// Drop what the retention no longer covers, and put now in its place by time (after the
	// events at the same time), whatever the order in which the events arrive.
	// Dropping from the front reslices (the array's room comes back when append next
	// grows it), and an event at or after the newest is appended: the usual case costs no
	// copy of the key's events, however many the window holds.
	at := unixNanos(now)
	log.times = log.times[firstAfter(log.times, unixNanos(now.Add(-keep))):]
	if i := firstAfter(log.times, at); i == len(log.times) {
		log.times = append(log.times, at)
	} else {
		log.times = slices.Insert(log.times, i, at)
	}
	log.keepTo = max(log.keepTo, unixNanos(now.Add(keep)))
	if !found { // queued once, at its first keepTo: a later keepTo moves it on when it is due
		log.queued = log.keepTo
		sh.expiry.push(log.queued, key)
	}
	sh.keys[key] = log
	if !found {
		sh.peak = max(sh.peak, len(sh.keys))
	}
	sh.purgeStale(now, purgePerWrite)
	sh.writes++
	if sh.writes%sweepEvery == 0 {
		sh.compact()
	}
	return d, nil
}

// PurgeStale deletes up to limit keys whose events the retention no longer covers at now
// (their newest event is older than the retention it was recorded with), and returns how
// many it deleted; a limit of 0 or less deletes nothing. Recording an event already
// deletes up to two such keys of its shard; hosts call PurgeStale periodically, like
// otp.Service.Sweep, so that keys nobody writes near are forgotten too. It costs in
// proportion to what it deletes.
func (l *RateLimiter) PurgeStale(ctx context.Context, now time.Time, limit int) (int, error) {
	total := 0
	for i := range l.shards {
		if total >= limit {
			break
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
		sh := &l.shards[i]
		sh.mu.Lock()
		n := sh.purgeStale(now.Round(0), limit-total)
		if n > 0 {
			sh.compact()
		}
		sh.mu.Unlock()
		total += n
	}
	return total, nil
}

// purgeStale deletes up to limit keys stale at now, from the top of the expiry heap. The
// caller holds sh.mu.
func (sh *limiterShard) purgeStale(now time.Time, limit int) int {
	at, n := unixNanos(now), 0
	for n < limit {
		it, ok := sh.expiry.top()
		if !ok || it.at >= at { // stale once now is after keepTo
			break
		}
		sh.expiry.pop()
		log, ok := sh.keys[it.key]
		if !ok || log.queued != it.at {
			continue // deleted (undone), or queued again
		}
		if k := log.keepTo; k >= at {
			log.queued = k // recorded since: queue it once more, at its keepTo now
			sh.keys[it.key] = log
			sh.expiry.push(k, it.key)
			continue
		}
		delete(sh.keys, it.key)
		n++
	}
	return n
}

// compact rebuilds the expiry heap when it holds mostly entries of keys deleted or queued
// again, and gives back the room of a map or heap that purges emptied. The caller holds
// sh.mu.
func (sh *limiterShard) compact() {
	if tooStale(len(sh.expiry.items), len(sh.keys)) {
		items := make([]expiryItem[string], 0, len(sh.keys))
		for key, log := range sh.keys {
			if log.queued != log.keepTo {
				log.queued = log.keepTo
				sh.keys[key] = log
			}
			items = append(items, expiryItem[string]{log.queued, key})
		}
		sh.expiry.rebuild(items)
	}
	if sparse(len(sh.keys), sh.peak) {
		sh.keys = shrunk(sh.keys)
		sh.peak = len(sh.keys)
	}
	sh.expiry.shrink()
}

// firstAfter returns the index of the first of the ascending times that is after t, or
// len(times).
func firstAfter(times []int64, t int64) int {
	i, _ := slices.BinarySearchFunc(times, t, func(e, t int64) int {
		if e > t {
			return 1
		}
		return -1
	})
	return i
}
