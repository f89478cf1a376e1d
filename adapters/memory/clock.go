package memory

import (
	"sync/atomic"
	"time"
)

// Clock is a ports.Clock whose time only moves when told to. It is safe for concurrent use,
// and reading it takes no lock.
type Clock struct {
	now atomic.Pointer[time.Time]
}

// NewClock returns a Clock that reads start until moved.
func NewClock(start time.Time) *Clock {
	c := &Clock{}
	c.now.Store(&start)
	return c
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time { return *c.now.Load() }

// Advance moves the clock forward by d (backward when d is negative) and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	for {
		old := c.now.Load()
		next := old.Add(d)
		if c.now.CompareAndSwap(old, &next) {
			return next
		}
	}
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) { c.now.Store(&t) }
