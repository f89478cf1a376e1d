package ports

import (
	"math"
	"sync/atomic"
	"time"
)

// RateRetention is how long a RateLimiter keeps events: the retention set with Set
// (DefaultRateRetention while none is set), and never less than the longest window the
// limiter has been asked about, so that a call with a longer limit than the earlier ones on
// a key still finds their events. The memory, PostgreSQL and Redis limiters share it. The
// zero value is ready to use and safe for concurrent use.
type RateRetention struct {
	set     atomic.Int64 // nanoseconds; 0: DefaultRateRetention
	longest atomic.Int64 // the longest window asked about, in nanoseconds
}

// Set sets the retention; zero or less restores DefaultRateRetention.
func (r *RateRetention) Set(d time.Duration) { r.set.Store(max(int64(d), 0)) }

// Keep records that a call asked about a window of longest and returns how long to keep
// events from now on.
func (r *RateRetention) Keep(longest time.Duration) time.Duration {
	for {
		seen := r.longest.Load()
		if int64(longest) <= seen || r.longest.CompareAndSwap(seen, int64(longest)) {
			break
		}
	}
	d := time.Duration(r.set.Load())
	if d == 0 {
		d = DefaultRateRetention
	}
	return max(d, time.Duration(r.longest.Load()))
}

// DecideRateNanos is DecideRate for event times given as ascending nanoseconds since the
// Unix epoch (time.Time.UnixNano, the wall clock), as a limiter that keeps each key's events
// sorted holds them, and now in the same unit: it gives the same answer in O(log n) per
// limit instead of a pass over every event.
func DecideRateNanos(times []int64, now int64, limits []RateLimit) RateDecision {
	d := RateDecision{Allowed: true}
	// Events after now do not count yet: the window ends at the last event not after now.
	end := firstAfterNanos(times, now)
	for _, lim := range limits {
		lo := now - int64(lim.Per)
		if lo > now { // before the earliest time an int64 holds
			lo = math.MinInt64
		}
		from := firstAfterNanos(times[:end], lo)
		n := end - from
		if n < lim.Max {
			continue
		}
		d.Allowed = false
		if lim.Max <= 0 {
			d.RetryAfter = max(d.RetryAfter, lim.Per)
			continue
		}
		// Once the (n-Max+1)-th oldest event of the window has left, one more fits.
		if wait := time.Duration(times[from+n-lim.Max] + int64(lim.Per) - now); wait > d.RetryAfter {
			d.RetryAfter = wait
		}
	}
	return d
}

// firstAfterNanos is the index of the first of the ascending times that is after t, or
// len(times).
func firstAfterNanos(times []int64, t int64) int {
	lo, hi := 0, len(times)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if times[mid] > t {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// FirstAfterNanos is the index of the first of the ascending times (nanoseconds, as
// DecideRateNanos takes them) that is after t, or len(times): where a limiter that keeps
// them sorted puts a new event at t, after those at the same time.
func FirstAfterNanos(times []int64, t int64) int { return firstAfterNanos(times, t) }

// LongestPer returns the longest Per of limits, and false when a limit has a Max or Per
// that is not positive (a limiter refuses such limits).
func LongestPer(limits []RateLimit) (time.Duration, bool) {
	var longest time.Duration
	for _, lim := range limits {
		if lim.Max <= 0 || lim.Per <= 0 {
			return 0, false
		}
		longest = max(longest, lim.Per)
	}
	return longest, true
}
