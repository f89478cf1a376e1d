package memory

import (
	"context"
	"errors"
	"hash/maphash"
	"sync"
	"time"

	"github.com/verifykit/verifykit/ports"
)

// RateLimiter is a ports.RateLimiter that keeps, per key, the times of recent events and
// checks sliding windows exactly: "5 per 10 minutes" never lets a 6th event into any
// 10-minute window. (A token bucket such as golang.org/x/time/rate would: it refills
// continuously.) Keys with no event inside their longest window are swept away.
type RateLimiter struct {
	seed   maphash.Seed
	shards [shardCount]limiterShard
}

type limiterShard struct {
	mu     sync.Mutex
	keys   map[string]*eventLog
	writes int

	_ cacheLinePad
}

type eventLog struct {
	times  []time.Time // ascending
	keepTo time.Time   // the log is stale once now passes this
}

// NewRateLimiter returns an empty RateLimiter.
func NewRateLimiter() *RateLimiter {
	l := &RateLimiter{seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].keys = make(map[string]*eventLog)
	}
	return l
}

// errBadLimit is returned for a limit with a non-positive Max or Per.
var errBadLimit = errors.New("rate limit needs a positive Max and Per")

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
	log := sh.keys[key]
	if log == nil {
		return nil
	}
	for i := len(log.times) - 1; i >= 0; i-- {
		if log.times[i].Equal(at) {
			log.times = append(log.times[:i], log.times[i+1:]...)
			if len(log.times) == 0 {
				delete(sh.keys, key) // nothing left to count: keep no empty entry
			}
			return nil
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
	var longest time.Duration
	maxEvents := 0
	for _, lim := range limits {
		if lim.Max <= 0 || lim.Per <= 0 {
			return ports.RateDecision{}, errBadLimit
		}
		longest = max(longest, lim.Per)
		maxEvents = max(maxEvents, lim.Max)
	}
	sh := &l.shards[shardIndex(l.seed, key)]
	sh.mu.Lock()
	defer sh.mu.Unlock()

	log := sh.keys[key]
	var times []time.Time
	if log != nil {
		times = log.times
	}
	d := ports.DecideRate(times, now, limits)
	if !d.Allowed || !record {
		return d, nil
	}
	if log == nil {
		log = &eventLog{}
		sh.keys[key] = log
	}
	// Keep only what any limit can still see, and no more than the largest Max.
	cut := 0
	for cut < len(log.times) && !log.times[cut].After(now.Add(-longest)) {
		cut++
	}
	if keep := len(log.times) - cut; keep >= maxEvents {
		cut = len(log.times) - maxEvents + 1
	}
	log.times = append(log.times[:0], log.times[cut:]...)
	log.times = append(log.times, now)
	if end := now.Add(longest); end.After(log.keepTo) {
		log.keepTo = end
	}
	sh.writes++
	if sh.writes%sweepEvery == 0 {
		for k, lg := range sh.keys {
			if now.After(lg.keepTo) {
				delete(sh.keys, k)
			}
		}
	}
	return d, nil
}
