package memory

import (
	"bytes"
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/verifykit/verifykit/ports"
)

// OTPStore is a ports.OTPStore in memory. Verifications are sharded by purpose and subject,
// so verifications of different subjects do not wait for each other. Verifications past
// their KeepUntil are purged as the store is written, so memory does not grow without
// bound.
type OTPStore struct {
	seed   maphash.Seed
	shards [shardCount]otpShard

	pub publisher
}

// PublishTo makes s write the events of each Verification's Outbox to o, under the lock of
// its purpose and subject; without an outbox (or with nil) s drops them. Call it before s
// is used.
func (s *OTPStore) PublishTo(o *Outbox) { s.pub.attach(o) }

// KeepsEvents implements ports.EventKeeper: s keeps the events of its writes only while an
// outbox is attached (PublishTo).
func (s *OTPStore) KeepsEvents() bool { return s.pub.keeps() }

type otpShard struct {
	mu     sync.Mutex
	vs     map[otpKey]otpEntry
	writes int
	// latest is the latest time any written verification names: the purge on writes
	// uses it as "now", since the store has no clock of its own.
	latest time.Time
	// expiry queues the keys by KeepUntil (expiry.go); peak is the most entries vs held
	// since it was last reallocated.
	expiry expiryHeap[otpKey]
	peak   int

	_ cacheLinePad
}

// otpEntry is a stored Verification and the time its key is queued at in the shard's
// expiry heap. The store never hands out the slices of v: callers get copies.
type otpEntry struct {
	v      ports.Verification
	queued int64
}

// NewOTPStore returns an empty OTPStore.
func NewOTPStore() *OTPStore {
	s := &OTPStore{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].vs = make(map[otpKey]otpEntry)
	}
	return s
}

// otpKey is the key of one Verification. A struct, not a joined string: purposes and
// subjects may hold any byte, a separator too.
type otpKey struct{ purpose, subject string }

// shard is the shard of key. Keys whose joined form collide merely share a shard.
func (s *OTPStore) shard(key otpKey) *otpShard {
	return &s.shards[shardIndex(s.seed, key.purpose+"\x00"+key.subject)]
}

// Get implements ports.OTPStore.
func (s *OTPStore) Get(ctx context.Context, purpose, subject string) (ports.Verification, error) {
	if err := ctx.Err(); err != nil {
		return ports.Verification{}, err
	}
	key := otpKey{purpose, subject}
	sh := s.shard(key)
	sh.mu.Lock()
	e, ok := sh.vs[key]
	sh.mu.Unlock()
	if !ok {
		return ports.Verification{}, ports.ErrNoCode
	}
	return e.v.Clone(), nil
}

// Update implements ports.OTPStore: fn runs under the lock of the shard of the purpose and
// subject.
func (s *OTPStore) Update(ctx context.Context, purpose, subject string, fn func(*ports.Verification) error) (ports.Verification, error) {
	if err := ctx.Err(); err != nil {
		return ports.Verification{}, err
	}
	key := otpKey{purpose, subject}
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old, found := sh.vs[key]
	v := old.v.Clone()
	if err := fn(&v); err != nil {
		return ports.Verification{}, err
	}
	v.Version = old.v.Version + 1 // 1 when none was stored
	ports.StampVersion(v.Outbox, v.Code.ID, v.Version)
	s.pub.publish(v.Outbox) // under the shard's lock, with the write
	v.Outbox = nil
	// v is the caller's copy: it goes back as it is. What is stored shares no memory with
	// it, reusing the store's own slices where fn left them as they were.
	e := otpEntry{v: v, queued: old.queued}
	e.v.Code.Hash = keepOrClone(old.v.Code.Hash, v.Code.Hash, bytes.Equal)
	e.v.Failures = keepOrClone(old.v.Failures, v.Failures, slices.Equal)
	if k := unixNanos(v.KeepUntil); !found || k < old.queued {
		sh.expiry.push(k, key)
		e.queued = k
	}
	sh.vs[key] = e
	sh.peak = max(sh.peak, len(sh.vs))
	for _, t := range []time.Time{v.Code.CreatedAt, v.Code.UsedAt} {
		if t.After(sh.latest) {
			sh.latest = t
		}
	}
	if n := len(v.Failures); n > 0 && v.Failures[n-1].After(sh.latest) {
		sh.latest = v.Failures[n-1]
	}
	sh.purge(unixNanos(sh.latest), purgePerWrite)
	sh.writes++
	if sh.writes%sweepEvery == 0 {
		sh.compact()
	}
	return v, nil
}

// keepOrClone returns old when cur holds the same as old (and is nil exactly when old is),
// else a copy of cur.
func keepOrClone[S ~[]E, E any](old, cur S, equal func(S, S) bool) S {
	if (old == nil) == (cur == nil) && equal(old, cur) {
		return old
	}
	return slices.Clone(cur)
}

// purge deletes up to limit (all when negative) verifications whose KeepUntil is at or
// before the unixNanos time before, taking them from the top of the expiry heap. The
// caller holds sh.mu.
func (sh *otpShard) purge(before int64, limit int) int {
	n := 0
	for limit < 0 || n < limit {
		it, ok := sh.expiry.top()
		if !ok || it.at > before {
			break
		}
		sh.expiry.pop()
		e, ok := sh.vs[it.key]
		if !ok || e.queued != it.at {
			continue // deleted, or queued again at an earlier time
		}
		if k := unixNanos(e.v.KeepUntil); k > before {
			e.queued = k // its time moved on: queue it once more, at that time
			sh.vs[it.key] = e
			sh.expiry.push(k, it.key)
			continue
		}
		delete(sh.vs, it.key)
		n++
	}
	return n
}

// compact rebuilds the expiry heap when it holds mostly entries of keys deleted or queued
// again, and gives back the room of a map or heap that purges emptied. The caller holds
// sh.mu.
func (sh *otpShard) compact() {
	if tooStale(len(sh.expiry.items), len(sh.vs)) {
		items := make([]expiryItem[otpKey], 0, len(sh.vs))
		for key, e := range sh.vs {
			if k := unixNanos(e.v.KeepUntil); k != e.queued {
				e.queued = k
				sh.vs[key] = e
			}
			items = append(items, expiryItem[otpKey]{e.queued, key})
		}
		sh.expiry.rebuild(items)
	}
	if sparse(len(sh.vs), sh.peak) {
		sh.vs = shrunk(sh.vs)
		sh.peak = len(sh.vs)
	}
	sh.expiry.shrink()
}

// PurgeExpired implements ports.OTPStore.
func (s *OTPStore) PurgeExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	total := 0
	for i := range s.shards {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		if limit >= 0 && total >= limit {
			break
		}
		sh := &s.shards[i]
		sh.mu.Lock()
		left := -1
		if limit >= 0 {
			left = limit - total
		}
		n := sh.purge(unixNanos(before), left)
		if n > 0 {
			sh.compact()
		}
		total += n
		sh.mu.Unlock()
	}
	return total, nil
}
