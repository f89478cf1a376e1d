package memory

import (
	"maps"
	"math"
	"time"
)

// Incremental expiry for the sharded stores that forget on their own (OTPStore,
// RateLimiter). Each shard keeps a min-heap of (time, key): the time from which the key's
// entry may be deleted. Purging pops from the top while the top is due, so a purge costs in
// proportion to what it deletes, never a pass over the shard, and finds nothing to do in
// one comparison when nothing is due.
//
// Entries are queued lazily. A key is queued once, when it is stored, at its deletion time
// then; the entry remembers the time it is queued at (queued). When that time comes, the
// purge looks at the key again: deleted (the key is gone), stale (queued no longer names
// this heap entry: the key was queued again, earlier) or due later (its time moved on:
// queued again at the new time, once). A write that moves a key's time later queues
// nothing; only a write that moves it earlier than its queued time queues it again.

// expiryItem is one heap entry: key may be deleted from at on, if its entry still says so.
type expiryItem[K comparable] struct {
	at  int64 // unixNanos of the deletion time
	key K
}

// expiryHeap is a binary min-heap of expiryItems by at. It is not safe for concurrent use;
// the shard's lock guards it.
type expiryHeap[K comparable] struct {
	items []expiryItem[K]
}

// push adds key at at.
func (h *expiryHeap[K]) push(at int64, key K) {
	h.items = append(h.items, expiryItem[K]{at, key})
	h.up(len(h.items) - 1)
}

// top returns the earliest entry; ok is false when the heap is empty.
func (h *expiryHeap[K]) top() (it expiryItem[K], ok bool) {
	if len(h.items) == 0 {
		return it, false
	}
	return h.items[0], true
}

// pop removes the earliest entry. The heap must not be empty.
func (h *expiryHeap[K]) pop() {
	n := len(h.items) - 1
	h.items[0] = h.items[n]
	h.items[n] = expiryItem[K]{} // let the key's memory go
	h.items = h.items[:n]
	if n > 0 {
		h.down(0)
	}
}

func (h *expiryHeap[K]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h.items[p].at <= h.items[i].at {
			return
		}
		h.items[p], h.items[i] = h.items[i], h.items[p]
		i = p
	}
}

func (h *expiryHeap[K]) down(i int) {
	n := len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.items[r].at < h.items[l].at {
			m = r
		}
		if h.items[i].at <= h.items[m].at {
			return
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
}

// rebuild replaces the heap's entries with items (which it takes over) in O(len(items)).
func (h *expiryHeap[K]) rebuild(items []expiryItem[K]) {
	h.items = items
	for i := len(items)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// minShrink is the size under which a shard's map and heap are never reallocated: small
// ones cost little, and reallocating them would only churn.
const minShrink = 256

// shrink gives the heap's spare capacity back once it holds less than a quarter of it.
func (h *expiryHeap[K]) shrink() {
	if c := cap(h.items); c > minShrink && len(h.items) < c/4 {
		h.items = append(make([]expiryItem[K], 0, 2*len(h.items)), h.items...)
	}
}

// sparse reports whether a map that held peak entries at most and now holds n should be
// copied into a smaller one: Go maps never give back the room of deleted entries.
func sparse(n, peak int) bool { return peak > minShrink && n < peak/4 }

// shrunk returns a copy of m sized for what it holds.
func shrunk[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	maps.Copy(out, m)
	return out
}

// tooStale reports whether a heap of n entries for live keys holds so many entries of keys
// deleted or queued again that it should be rebuilt from the live keys.
func tooStale(n, live int) bool { return n > 2*live+minShrink }

// Bounds of the times unixNanos can tell apart; times outside them are clamped.
var (
	minNanosTime = time.Unix(0, math.MinInt64+1)
	maxNanosTime = time.Unix(0, math.MaxInt64)
)

// unixNanos orders times on one int64 axis: nanoseconds since the Unix epoch, the zero
// time (and anything before 1678) as math.MinInt64, anything after 2262 as math.MaxInt64.
func unixNanos(t time.Time) int64 {
	switch {
	case t.IsZero() || t.Before(minNanosTime):
		return math.MinInt64
	case t.After(maxNanosTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// purgePerWrite is how many due entries a write deletes on its own, beside what it
// stores: more than one, so that the automatic purge keeps up with a store that every
// write grows by at most one entry.
const purgePerWrite = 2
