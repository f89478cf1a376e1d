package memory

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/verifykit/verifykit/ports"
)

// ProfileStore is a ports.ProfileStore in memory, sharded by user so that writes to
// different profiles do not wait for each other.
type ProfileStore struct {
	profiles *shardedRecords[ports.ProfileRecord] // user id -> profile
}

// NewProfileStore returns an empty ProfileStore.
func NewProfileStore() *ProfileStore {
	return &ProfileStore{profiles: newShardedRecords(ports.ProfileRecord.Clone)}
}

// Create implements ports.ProfileStore.
func (s *ProfileStore) Create(ctx context.Context, rec ports.ProfileRecord) error {
	return s.profiles.create(ctx, rec.UserID, rec, ports.ErrProfileExists)
}

// Get implements ports.ProfileStore.
func (s *ProfileStore) Get(ctx context.Context, userID string) (ports.ProfileRecord, error) {
	return s.profiles.get(ctx, userID, ports.ErrProfileNotFound)
}

// Update implements ports.ProfileStore.
func (s *ProfileStore) Update(ctx context.Context, userID string, fn func(*ports.ProfileRecord) error) (ports.ProfileRecord, error) {
	return s.profiles.update(ctx, userID, ports.ErrProfileNotFound, fn, func(rec *ports.ProfileRecord) { rec.UserID = userID })
}

// ResetRequestStore is a ports.ResetRequestStore in memory. One lock guards it all: reset
// requests are rare, and listing needs every one of them.
type ResetRequestStore struct {
	mu       sync.Mutex
	requests map[string]ports.ResetRequest // by id
	open     map[string]string             // user id -> id of the PENDING request
}

// NewResetRequestStore returns an empty ResetRequestStore.
func NewResetRequestStore() *ResetRequestStore {
	return &ResetRequestStore{requests: make(map[string]ports.ResetRequest), open: make(map[string]string)}
}

// Create implements ports.ResetRequestStore.
func (s *ResetRequestStore) Create(ctx context.Context, req ports.ResetRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.requests[req.ID]; ok {
		return ports.ErrResetRequestExists
	}
	if req.Status == ports.ResetRequestPending {
		if _, ok := s.open[req.UserID]; ok {
			return ports.ErrResetRequestOpen
		}
		s.open[req.UserID] = req.ID
	}
	s.requests[req.ID] = req
	return nil
}

// Get implements ports.ResetRequestStore.
func (s *ResetRequestStore) Get(ctx context.Context, id string) (ports.ResetRequest, error) {
	if err := ctx.Err(); err != nil {
		return ports.ResetRequest{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.requests[id]
	if !ok {
		return ports.ResetRequest{}, ports.ErrResetRequestNotFound
	}
	return req, nil
}

// Open implements ports.ResetRequestStore.
func (s *ResetRequestStore) Open(ctx context.Context, userID string) (ports.ResetRequest, error) {
	if err := ctx.Err(); err != nil {
		return ports.ResetRequest{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.open[userID]
	if !ok {
		return ports.ResetRequest{}, ports.ErrResetRequestNotFound
	}
	return s.requests[id], nil
}

// Update implements ports.ResetRequestStore.
func (s *ResetRequestStore) Update(ctx context.Context, id string, fn func(*ports.ResetRequest) error) (ports.ResetRequest, error) {
	if err := ctx.Err(); err != nil {
		return ports.ResetRequest{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.requests[id]
	if !ok {
		return ports.ResetRequest{}, ports.ErrResetRequestNotFound
	}
	work := req
	if err := fn(&work); err != nil {
		return ports.ResetRequest{}, err
	}
	work.ID, work.UserID = req.ID, req.UserID
	openID, hasOpen := s.open[req.UserID]
	switch {
	case work.Status == ports.ResetRequestPending && hasOpen && openID != id:
		return ports.ResetRequest{}, ports.ErrResetRequestOpen
	case work.Status == ports.ResetRequestPending:
		s.open[req.UserID] = id
	case hasOpen && openID == id:
		delete(s.open, req.UserID)
	}
	s.requests[id] = work
	return work, nil
}

// List implements ports.ResetRequestStore.
func (s *ResetRequestStore) List(ctx context.Context, q ports.ResetRequestQuery) ([]ports.ResetRequest, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	matched := make([]ports.ResetRequest, 0, len(s.requests))
	for _, r := range s.requests {
		if (q.Status == "" || r.Status == q.Status) && (q.OrganizationID == "" || r.OrganizationID == q.OrganizationID) {
			matched = append(matched, r)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(matched, func(a, b ports.ResetRequest) int { return compareResetRequests(a, b, q.Order) })
	total := len(matched)
	if q.Offset < 0 || q.Offset >= total || q.Limit <= 0 {
		return []ports.ResetRequest{}, total, nil
	}
	end := total
	if q.Limit < total-q.Offset {
		end = q.Offset + q.Limit
	}
	return slices.Clone(matched[q.Offset:end]), total, nil
}

// compareResetRequests orders a and b by the keys of order, then by CreatedAt and ID.
func compareResetRequests(a, b ports.ResetRequest, order []ports.ResetRequestOrder) int {
	for _, o := range order {
		var c int
		switch o.Field {
		case ports.SortResetByOrganization:
			c = strings.Compare(a.OrganizationID, b.OrganizationID)
		case ports.SortResetByStatus:
			c = strings.Compare(string(a.Status), string(b.Status))
		case ports.SortResetByCreatedAt:
			c = a.CreatedAt.Compare(b.CreatedAt)
		case ports.SortResetByUserID:
			c = strings.Compare(a.UserID, b.UserID)
		}
		if o.Descending {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
}

// ProfileAuditLog is a ports.ProfileAuditLog in memory. It keeps every event: hosts that
// run for long should use a durable log.
type ProfileAuditLog struct {
	mu     sync.Mutex
	events []ports.ProfileAuditEvent
}

// NewProfileAuditLog returns an empty ProfileAuditLog.
func NewProfileAuditLog() *ProfileAuditLog { return &ProfileAuditLog{} }

// Append implements ports.ProfileAuditLog.
func (l *ProfileAuditLog) Append(ctx context.Context, ev ports.ProfileAuditEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ev.Fields = slices.Clone(ev.Fields)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
	return nil
}

// Events implements ports.ProfileAuditLog.
func (l *ProfileAuditLog) Events(ctx context.Context, userID string) ([]ports.ProfileAuditEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []ports.ProfileAuditEvent{}
	for _, ev := range l.events {
		if userID == "" || ev.UserID == userID {
			ev.Fields = slices.Clone(ev.Fields)
			out = append(out, ev)
		}
	}
	return out, nil
}
