package memory

import (
	"context"
	"hash/maphash"
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
}

type otpShard struct {
	mu     sync.Mutex
	vs     map[otpKey]ports.Verification
	writes int
	// latest is the latest time any written verification names: the purge on writes
	// uses it as "now", since the store has no clock of its own.
	latest time.Time

	_ cacheLinePad
}

// NewOTPStore returns an empty OTPStore.
func NewOTPStore() *OTPStore {
	s := &OTPStore{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].vs = make(map[otpKey]ports.Verification)
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
	v, ok := sh.vs[key]
	sh.mu.Unlock()
	if !ok {
		return ports.Verification{}, ports.ErrNoCode
	}
	return v.Clone(), nil
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
	v := sh.vs[key].Clone()
	if err := fn(&v); err != nil {
		return ports.Verification{}, err
	}
	sh.vs[key] = v.Clone()
	sh.writes++
	for _, t := range []time.Time{v.Code.CreatedAt, v.Code.UsedAt} {
		if t.After(sh.latest) {
			sh.latest = t
		}
	}
	if n := len(v.Failures); n > 0 && v.Failures[n-1].After(sh.latest) {
		sh.latest = v.Failures[n-1]
	}
	if sh.writes%sweepEvery == 0 {
		sh.purge(sh.latest, -1)
	}
	return v, nil
}

// purge deletes up to limit (all when negative) verifications whose KeepUntil is at or
// before before. The caller holds sh.mu.
func (sh *otpShard) purge(before time.Time, limit int) int {
	n := 0
	for key, v := range sh.vs {
		if limit >= 0 && n >= limit {
			break
		}
		if !v.KeepUntil.After(before) {
			delete(sh.vs, key)
			n++
		}
	}
	return n
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
		total += sh.purge(before, left)
		sh.mu.Unlock()
	}
	return total, nil
}
