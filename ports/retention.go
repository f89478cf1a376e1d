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
