package ports

import (
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

// DecideRateSorted is DecideRate for times already in ascending order and without
// monotonic clock readings, as a limiter that keeps each key's events sorted holds them: it
// gives the same answer in O(log n) per limit instead of a pass over every event.
func DecideRateSorted(times []time.Time, now time.Time, limits []RateLimit) RateDecision {
	return decideSorted(times, now, limits, func(t time.Time) time.Time { return t })
}

// DecideRateSortedUnixNano is DecideRateSorted for ascending times kept as Unix
// nanoseconds (time.Time.UnixNano), as a limiter that stores its events compactly holds
// them.
func DecideRateSortedUnixNano(times []int64, now time.Time, limits []RateLimit) RateDecision {
	return decideSorted(times, now, limits, func(n int64) time.Time { return time.Unix(0, n) })
}

// decideSorted is DecideRateSorted for ascending times of any form, read with at.
func decideSorted[T any](times []T, now time.Time, limits []RateLimit, at func(T) time.Time) RateDecision {
	d := RateDecision{Allowed: true}
	now = now.Round(0)
	// Events after now do not count yet: the window ends at the last event not after now.
	end := firstAfterTime(times, now, at)
	for _, lim := range limits {
		from := firstAfterTime(times[:end], now.Add(-lim.Per), at)
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
		if wait := at(times[from+n-lim.Max]).Add(lim.Per).Sub(now); wait > d.RetryAfter {
			d.RetryAfter = wait
		}
	}
	return d
}

// firstAfterTime is the index of the first of the sorted times after t.
func firstAfterTime[T any](times []T, t time.Time, at func(T) time.Time) int {
	lo, hi := 0, len(times)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if at(times[mid]).After(t) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

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
