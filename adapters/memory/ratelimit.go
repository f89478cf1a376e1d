package memory

import (
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/verifykit/verifykit/ports"
)

// RateLimiter is a ports.RateLimiter that keeps, per key, the times of recent events in time
// order and checks sliding windows exactly, with ports.DecideRate: "5 per 10 minutes" never
// lets a 6th event into a 10-minute window. (A token bucket such as golang.org/x/time/rate
// would: it refills continuously.) An event is put in its place by its time, whatever the
// order in which events arrive, and kept for the limiter's retention (SetRetention; at least
// the longest window the limiter has been asked about), not just for the windows of the
// call that records it. Keys with no event inside the retention are forgotten: each recorded
// event deletes up to two of them on its own, and PurgeStale deletes them in batches.
type RateLimiter struct {
	seed      maphash.Seed
	retention ports.RateRetention // how long events are kept
	shards    [shardCount]limiterShard
}

type limiterShard struct {
	mu     sync.Mutex
	keys   map[string]*eventLog
	writes int
	// expiry queues the keys by keepTo (expiry.go); peak is the most keys held since keys
	// was last reallocated.
	expiry expiryHeap[string]
	peak   int

	_ cacheLinePad
}

type eventLog struct {
	times  []int64   // ascending, in unixNanos: no pointer for the collector to scan
	keepTo time.Time // the log is stale once now passes this
	queued int64     // the unixNanos time the key is queued at in the shard's expiry heap
}

var _ ports.BatchRateLimiter = (*RateLimiter)(nil)

// NewRateLimiter returns an empty RateLimiter that keeps events for
// ports.DefaultRateRetention.
func NewRateLimiter() *RateLimiter {
	l := &RateLimiter{seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].keys = make(map[string]*eventLog)
	}
	return l
}

// SetRetention sets how long the limiter keeps an event (see ports.RateLimiter); zero or
// less restores ports.DefaultRateRetention. It never keeps events for less than the longest
// Per it has been asked about. A shorter retention saves memory; it must be at least the
// longest window any caller of the limiter uses. It is safe to call at any time; the events
// already dropped stay dropped.
func (l *RateLimiter) SetRetention(d time.Duration) { l.retention.Set(d) }

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
	ns := unixNanos(at)
	sh := &l.shards[shardIndex(l.seed, key)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	log := sh.keys[key]
	if log == nil {
		return nil
	}
	if i, found := slices.BinarySearch(log.times, ns); found {
		log.times = slices.Delete(log.times, i, i+1)
		if len(log.times) == 0 {
			delete(sh.keys, key) // nothing left to count: keep no empty entry
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
		return ports.RateDecision{}, ports.ErrBadRateLimit
	}
	keep := l.retention.Keep(longest)
	now = now.Round(0) // wall clock only: times of every caller compare alike
	sh := &l.shards[shardIndex(l.seed, key)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	log, d := sh.decide(key, now, limits)
	if d.Allowed && record {
		sh.record(key, log, now, keep)
	}
	return d, nil
}

// DecideRates implements ports.BatchRateLimiter: under the locks of the shards of every
// key of reqs at once, it decides each request and, when the batch goes through, records
// its events; no other call sees a part of it.
func (l *RateLimiter) DecideRates(ctx context.Context, now time.Time, reqs []ports.RateRequest) ([]ports.RateDecision, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := ports.CheckRateBatch(reqs); err != nil {
		return nil, err
	}
	longest, ok := ports.BatchLongestPer(reqs)
	if !ok {
		return nil, ports.ErrBadRateLimit
	}
	keep := l.retention.Keep(longest)
	now = now.Round(0)
	// Lock each shard once, in index order, so that batches never wait for each other in
	// a cycle.
	var buf [8]int
	shards := buf[:0]
	for _, r := range reqs {
		shards = append(shards, shardIndex(l.seed, r.Key))
	}
	var orderBuf [8]int
	order := append(orderBuf[:0], shards...)
	slices.Sort(order)
	order = slices.Compact(order)
	for _, i := range order {
		l.shards[i].mu.Lock()
	}
	defer func() {
		for _, i := range order {
			l.shards[i].mu.Unlock()
		}
	}()
	ds := make([]ports.RateDecision, len(reqs))
	var logBuf [8]*eventLog
	logs := logBuf[:0]
	for i, r := range reqs {
		ds[i] = ports.RateDecision{Allowed: true}
		var log *eventLog
		if len(r.Limits) > 0 {
			log, ds[i] = l.shards[shards[i]].decide(r.Key, now, r.Limits)
		}
		logs = append(logs, log)
	}
	if !ports.RateBatchGoesThrough(reqs, ds) {
		return ds, nil
	}
	for i, r := range reqs {
		if r.Record && ds[i].Allowed && len(r.Limits) > 0 {
			l.shards[shards[i]].record(r.Key, logs[i], now, keep)
		}
	}
	return ds, nil
}

// decide decides limits for key at now, and returns the key's events (nil when it has
// none). The caller holds sh.mu.
func (sh *limiterShard) decide(key string, now time.Time, limits []ports.RateLimit) (*eventLog, ports.RateDecision) {
	var times []int64
	log := sh.keys[key]
	if log != nil {
		times = log.times
	}
	return log, ports.DecideRateNanos(times, unixNanos(now), limits) // a key's times are kept in order
}

// record records an event of key, whose events are log (nil when it has none), at now, kept
// for keep. The caller holds sh.mu, since it had key's events from decide.
func (sh *limiterShard) record(key string, log *eventLog, now time.Time, keep time.Duration) {
	fresh := log == nil
	if fresh {
		log = &eventLog{}
		sh.keys[key] = log
		sh.peak = max(sh.peak, len(sh.keys))
	}
	// Drop what the retention no longer covers, and put now in its place by time (after the
	// events at the same time), whatever the order in which the events arrive.
	// Dropping from the front reslices (the array's room comes back when append next
	// grows it), and an event at or after the newest is appended: the usual case costs no
	// copy of the key's events, however many the window holds.
	ns := unixNanos(now)
	log.times = log.times[ports.FirstAfterNanos(log.times, unixNanos(now.Add(-keep))):]
	if at := ports.FirstAfterNanos(log.times, ns); at == len(log.times) {
		log.times = append(log.times, ns)
	} else {
		log.times = slices.Insert(log.times, at, ns)
	}
	if end := now.Add(keep); end.After(log.keepTo) {
		log.keepTo = end
	}
	if fresh { // queued once, at its first keepTo: a later keepTo moves it on when it is due
		log.queued = unixNanos(log.keepTo)
		sh.expiry.push(log.queued, key)
	}
	sh.purgeStale(now, purgePerWrite)
	sh.writes++
	if sh.writes%sweepEvery == 0 {
		sh.compact()
	}
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
		log := sh.keys[it.key]
		if log == nil || log.queued != it.at {
			continue // deleted (undone), or queued again
		}
		if k := unixNanos(log.keepTo); k >= at {
			log.queued = k // recorded since: queue it once more, at its keepTo now
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
			log.queued = unixNanos(log.keepTo)
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
