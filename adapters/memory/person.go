package memory

import (
	"context"
	"slices"
	"time"

	"github.com/verifykit/verifykit/ports"
)

// PersonStore is a ports.PersonStore in memory, safe for concurrent use.
type PersonStore struct {
	persons *shardedRecords[ports.PersonRecord] // id -> person
}

// NewPersonStore returns an empty PersonStore.
func NewPersonStore() *PersonStore {
	return &PersonStore{persons: newShardedRecords(clonePerson)}
}

// clonePerson returns p with its own copy of the documents and its birth date as midnight
// UTC of the date, as a SQL DATE column would give it back.
func clonePerson(p ports.PersonRecord) ports.PersonRecord {
	p.Documents = slices.Clone(p.Documents)
	if !p.BirthDate.IsZero() {
		y, m, d := p.BirthDate.Date()
		p.BirthDate = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return p
}

// CreatePerson stores p, for tests and demos (the domain only reads persons;
// porttest.SeedablePersonStore). It returns ports.ErrPersonExists, writing nothing, when
// p.ID is stored.
func (s *PersonStore) CreatePerson(ctx context.Context, p ports.PersonRecord) error {
	return s.persons.create(ctx, p.ID, p, ports.ErrPersonExists)
}

// Person implements ports.PersonStore.
func (s *PersonStore) Person(ctx context.Context, id string) (ports.PersonRecord, error) {
	return s.persons.get(ctx, id, ports.ErrPersonNotFound)
}

// UpdatePerson atomically reads the person id, calls fn with it and stores what fn left
// (its ID kept), then returns the stored record; fn's error writes nothing and comes back
// as is. It returns ports.ErrPersonNotFound, without calling fn, when there is no such
// person. The domain never calls it.
func (s *PersonStore) UpdatePerson(ctx context.Context, id string, fn func(*ports.PersonRecord) error) (ports.PersonRecord, error) {
	return s.persons.update(ctx, id, ports.ErrPersonNotFound, fn, func(p *ports.PersonRecord) {
		p.ID = id
		*p = clonePerson(*p) // give the birth date back as it is stored
	})
}
