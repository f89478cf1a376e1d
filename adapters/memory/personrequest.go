package memory

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/verifykit/verifykit/ports"
)

// PersonRequestStore is a ports.PersonRequestStore in memory, sharded by request id so
// that changes to different requests do not wait for each other.
type PersonRequestStore struct {
	requests *shardedRecords[ports.PersonRequest] // id -> request
	pub      publisher
}

// PublishTo makes s write the events of each request's Outbox to o, under the request's
// lock; without an outbox (or with nil) s drops them. Call it before s is used.
func (s *PersonRequestStore) PublishTo(o *Outbox) { s.pub.attach(o) }

// KeepsEvents implements ports.EventKeeper: s keeps the events of its writes only while an
// outbox is attached (PublishTo).
func (s *PersonRequestStore) KeepsEvents() bool { return s.pub.keeps() }

// NewPersonRequestStore returns an empty PersonRequestStore.
func NewPersonRequestStore() *PersonRequestStore {
	return &PersonRequestStore{requests: newShardedRecords(ports.PersonRequest.Clone)}
}

// Create implements ports.PersonRequestStore.
func (s *PersonRequestStore) Create(ctx context.Context, req ports.PersonRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if req.ID == "" {
		return errors.New("memory: person request without an id")
	}
	return s.requests.locked(ctx, req.ID, func(recs map[string]ports.PersonRequest) error {
		if _, ok := recs[req.ID]; ok {
			return ports.ErrPersonRequestExists
		}
		stored := req.Clone()
		stored.Version = 1
		ports.StampVersion(stored.Outbox, stored.ID, stored.Version)
		s.pub.publish(stored.Outbox)
		stored.Outbox = nil
		recs[req.ID] = stored
		return nil
	})
}

// Get implements ports.PersonRequestStore.
func (s *PersonRequestStore) Get(ctx context.Context, id string) (ports.PersonRequest, error) {
	return s.requests.get(ctx, id, ports.ErrPersonRequestNotFound)
}

// Update implements ports.PersonRequestStore.
func (s *PersonRequestStore) Update(ctx context.Context, id string, fn func(*ports.PersonRequest) error) (ports.PersonRequest, error) {
	var version int64
	return s.requests.update(ctx, id, ports.ErrPersonRequestNotFound, func(req *ports.PersonRequest) error {
		version = req.Version + 1
		return fn(req)
	}, func(req *ports.PersonRequest) {
		req.ID, req.Version = id, version
		ports.StampVersion(req.Outbox, id, version)
		s.pub.publish(req.Outbox) // fix runs under the lock, once fn succeeded: the write follows
		req.Outbox = nil
	})
}

// ListCreatedBefore implements ports.PersonRequestStore.
func (s *PersonRequestStore) ListCreatedBefore(ctx context.Context, statuses []ports.PersonRequestStatus, before time.Time, limit int) ([]string, error) {
	if limit < 1 {
		return nil, nil
	}
	type hit struct {
		id      string
		created time.Time
	}
	var hits []hit
	err := s.requests.each(ctx, func(requests map[string]ports.PersonRequest) {
		for id, r := range requests {
			if r.CreatedAt.Before(before) && slices.Contains(statuses, r.Status) {
				hits = append(hits, hit{id, r.CreatedAt})
			}
		}
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(hits, func(a, b hit) int {
		return cmp.Or(a.created.Compare(b.created), strings.Compare(a.id, b.id))
	})
	ids := make([]string, 0, min(limit, len(hits)))
	for _, h := range hits[:min(limit, len(hits))] {
		ids = append(ids, h.id)
	}
	return ids, nil
}
