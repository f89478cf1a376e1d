package memory

import (
	"context"
	"sync"

	"github.com/verifykit/verifykit/ports"
)

// ConfidantStore is a ports.ConfidantStore in memory, safe for concurrent use.
type ConfidantStore struct {
	mu       sync.RWMutex
	byID     map[string]ports.ConfidantRelationship
	byPerson map[string][]string // person id -> relationship ids, in the order added
}

// NewConfidantStore returns an empty ConfidantStore.
func NewConfidantStore() *ConfidantStore {
	return &ConfidantStore{
		byID:     make(map[string]ports.ConfidantRelationship),
		byPerson: make(map[string][]string),
	}
}

// AddConfidantRelationship stores r, for tests and demos (the domain never writes
// relationships). It returns ports.ErrConfidantRelationshipExists, writing nothing, when
// r.ID is stored.
func (s *ConfidantStore) AddConfidantRelationship(ctx context.Context, r ports.ConfidantRelationship) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[r.ID]; ok {
		return ports.ErrConfidantRelationshipExists
	}
	s.byID[r.ID] = r
	s.byPerson[r.PersonID] = append(s.byPerson[r.PersonID], r.ID)
	return nil
}

// ConfidantRelationships implements ports.ConfidantStore.
func (s *ConfidantStore) ConfidantRelationships(ctx context.Context, personID string) ([]ports.ConfidantRelationship, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := s.byPerson[personID]
	out := make([]ports.ConfidantRelationship, 0, len(ids))
	for _, id := range ids {
		out = append(out, s.byID[id])
	}
	return out, nil
}

// UpdateConfidantRelationship atomically reads the relationship id, calls fn with it and
// stores what fn left (its ID and PersonID kept), then returns the stored record; fn's error
// writes nothing and comes back as is. It returns ports.ErrConfidantRelationshipNotFound,
// without calling fn, when there is no such relationship. The domain never calls it.
func (s *ConfidantStore) UpdateConfidantRelationship(ctx context.Context, id string, fn func(*ports.ConfidantRelationship) error) (ports.ConfidantRelationship, error) {
	if err := ctx.Err(); err != nil {
		return ports.ConfidantRelationship{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[id]
	if !ok {
		return ports.ConfidantRelationship{}, ports.ErrConfidantRelationshipNotFound
	}
	personID := r.PersonID
	if err := fn(&r); err != nil {
		return ports.ConfidantRelationship{}, err
	}
	r.ID, r.PersonID = id, personID
	s.byID[id] = r
	return r, nil
}
