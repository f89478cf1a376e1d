package memory

import (
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/verifykit/verifykit/ports"
)

// OTPStore is a ports.OTPStore in memory. Codes are sharded by purpose and subject, so
// verifications of different subjects do not wait for each other. Codes past their expiry
// are purged as the store is written, so memory does not grow without bound.
type OTPStore struct {
	seed   maphash.Seed
	shards [shardCount]otpShard
}

type otpShard struct {
	mu     sync.Mutex
	codes  map[string][]ports.OTPRecord // purpose+"\x00"+subject -> codes, oldest first
	writes int

	_ cacheLinePad
}

// NewOTPStore returns an empty OTPStore.
func NewOTPStore() *OTPStore {
	s := &OTPStore{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].codes = make(map[string][]ports.OTPRecord)
	}
	return s
}

func otpKey(purpose, subject string) string { return purpose + "\x00" + subject }

func (s *OTPStore) shard(key string) *otpShard { return &s.shards[shardIndex(s.seed, key)] }

// CreateCode implements ports.OTPStore.
func (s *OTPStore) CreateCode(ctx context.Context, rec ports.OTPRecord) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	key := otpKey(rec.Purpose, rec.Subject)
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	codes := sh.codes[key]
	superseded := 0
	kept := codes[:0]
	for _, c := range codes {
		if c.State == ports.CodeActive {
			c.State = ports.CodeSuperseded
			superseded++
		}
		// Codes past their expiry can never be used again: drop them.
		if c.ExpiresAt.After(rec.CreatedAt) {
			kept = append(kept, c)
		}
	}
	rec.Hash = slices.Clone(rec.Hash)
	sh.codes[key] = append(kept, rec)
	sh.writes++
	if sh.writes%sweepEvery == 0 {
		sh.purge(rec.CreatedAt, -1)
	}
	return superseded, nil
}

// purge deletes up to limit (all when negative) codes whose ExpiresAt is at or before
// before. The caller holds sh.mu.
func (sh *otpShard) purge(before time.Time, limit int) int {
	n := 0
	for key, codes := range sh.codes {
		kept := codes[:0]
		for _, c := range codes {
			if (limit < 0 || n < limit) && !c.ExpiresAt.After(before) {
				n++
				continue
			}
			kept = append(kept, c)
		}
		if len(kept) == 0 {
			delete(sh.codes, key)
		} else {
			clear(codes[len(kept):])
			sh.codes[key] = kept
		}
	}
	return n
}

// VerifyLatest implements ports.OTPStore.
func (s *OTPStore) VerifyLatest(ctx context.Context, purpose, subject string, now time.Time, match func(ports.OTPRecord) bool) (ports.OTPRecord, ports.VerifyOutcome, error) {
	if err := ctx.Err(); err != nil {
		return ports.OTPRecord{}, "", err
	}
	key := otpKey(purpose, subject)
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	codes := sh.codes[key]
	if len(codes) == 0 {
		return ports.OTPRecord{}, "", ports.ErrNoCode
	}
	c := &codes[len(codes)-1]
	outcome := ports.ApplyVerify(c, now, match)
	out := *c
	out.Hash = slices.Clone(c.Hash)
	return out, outcome, nil
}

// Invalidate implements ports.OTPStore.
func (s *OTPStore) Invalidate(ctx context.Context, purpose, subject string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	key := otpKey(purpose, subject)
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := 0
	for i := range sh.codes[key] {
		if c := &sh.codes[key][i]; c.State == ports.CodeActive {
			c.State = ports.CodeSuperseded
			n++
		}
	}
	return n, nil
}

// MarkUndeliverable implements ports.OTPStore.
func (s *OTPStore) MarkUndeliverable(ctx context.Context, purpose, subject, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key := otpKey(purpose, subject)
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for i := range sh.codes[key] {
		if c := &sh.codes[key][i]; c.ID == id {
			if c.State == ports.CodeActive {
				c.State = ports.CodeUndeliverable
			}
			return nil
		}
	}
	return ports.ErrNoCode
}

// Codes implements ports.OTPStore.
func (s *OTPStore) Codes(ctx context.Context, purpose, subject string) ([]ports.OTPRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := otpKey(purpose, subject)
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	out := slices.Clone(sh.codes[key])
	for i := range out {
		out[i].Hash = slices.Clone(out[i].Hash)
	}
	return out, nil
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
