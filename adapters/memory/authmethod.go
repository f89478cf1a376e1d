package memory

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"

	"github.com/verifykit/verifykit/ports"
)

// AuthMethodStore is a ports.AuthMethodStore in memory. Methods are sharded by person, so
// updates of different persons' methods do not wait for each other.
type AuthMethodStore struct {
	seed   maphash.Seed
	shards [shardCount]authMethodShard

	idsMu sync.Mutex
	ids   map[string]string // every stored method id, across persons -> its person

	pub publisher
}

// PublishTo makes s write the events of each method's Outbox (UpdateAuthMethods) to o,
// under the person's lock; without an outbox (or with nil) s drops them. Call it before s
// is used.
func (s *AuthMethodStore) PublishTo(o *Outbox) { s.pub.attach(o) }

type authMethodShard struct {
	mu      sync.Mutex
	methods map[string][]ports.AuthMethodRecord // person id -> methods, in the order added

	_ cacheLinePad
}

// NewAuthMethodStore returns an empty AuthMethodStore.
func NewAuthMethodStore() *AuthMethodStore {
	s := &AuthMethodStore{seed: maphash.MakeSeed(), ids: make(map[string]string)}
	for i := range s.shards {
		s.shards[i].methods = make(map[string][]ports.AuthMethodRecord)
	}
	return s
}

func (s *AuthMethodStore) shard(personID string) *authMethodShard {
	return &s.shards[shardIndex(s.seed, personID)]
}

// AddAuthMethod stores m as a method of m.PersonID, after the person's other methods, for
// tests and demos (the domain never adds methods; porttest.SeedableAuthMethodStore). It
// returns ports.ErrAuthMethodExists, writing nothing, when m.ID is stored for any person.
// It checks neither the person nor any rule about primaries.
func (s *AuthMethodStore) AddAuthMethod(ctx context.Context, m ports.AuthMethodRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := s.shard(m.PersonID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s.idsMu.Lock()
	_, taken := s.ids[m.ID]
	if !taken {
		s.ids[m.ID] = m.PersonID
	}
	s.idsMu.Unlock()
	if taken {
		return ports.ErrAuthMethodExists
	}
	m.Outbox, m.Version = nil, 1 // AddAuthMethod publishes nothing; a new method is version 1
	sh.methods[m.PersonID] = append(sh.methods[m.PersonID], m)
	return nil
}

// AuthMethod implements ports.AuthMethodStore.
func (s *AuthMethodStore) AuthMethod(ctx context.Context, id string) (ports.AuthMethodRecord, error) {
	if err := ctx.Err(); err != nil {
		return ports.AuthMethodRecord{}, err
	}
	s.idsMu.Lock()
	personID, ok := s.ids[id]
	s.idsMu.Unlock()
	if !ok {
		return ports.AuthMethodRecord{}, ports.ErrAuthMethodNotFound
	}
	sh := s.shard(personID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for _, m := range sh.methods[personID] {
		if m.ID == id {
			return m, nil
		}
	}
	return ports.AuthMethodRecord{}, ports.ErrAuthMethodNotFound
}

// AuthMethods implements ports.AuthMethodStore.
func (s *AuthMethodStore) AuthMethods(ctx context.Context, personID string) ([]ports.AuthMethodRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sh := s.shard(personID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return append([]ports.AuthMethodRecord{}, sh.methods[personID]...), nil
}

// UpdateAuthMethods implements ports.AuthMethodStore.
func (s *AuthMethodStore) UpdateAuthMethods(ctx context.Context, personID string, fn func([]ports.AuthMethodRecord) error) ([]ports.AuthMethodRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sh := s.shard(personID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	stored := sh.methods[personID]
	work := append([]ports.AuthMethodRecord{}, stored...)
	if err := fn(work); err != nil {
		return nil, err
	}
	for i := range work {
		if work[i].ID != stored[i].ID || work[i].PersonID != stored[i].PersonID {
			return nil, fmt.Errorf("method %d of person %q: %w", i, personID, ports.ErrAuthMethodImmutable)
		}
	}
	for i := range work {
		version := stored[i].Version
		if !ports.SameAuthMethod(work[i], stored[i]) {
			version++
		}
		work[i].Version = version
		ports.StampVersion(work[i].Outbox, work[i].ID, version)
		s.pub.publish(work[i].Outbox) // under the person's lock, with the write
		work[i].Outbox = nil
	}
	if len(work) > 0 {
		// fn may keep work: store a copy of it.
		sh.methods[personID] = append(stored[:0:0], work...)
	}
	return work, nil
}
