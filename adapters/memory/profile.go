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
// different profiles do not wait for each other. It owns the reset requests of its
// profiles and writes their events to an outbox: ResetRequests and AuditLog return read
// views of them.
//
// Create and Update of a user hold the lock of that user's shard while fn runs and while
// they store the profile, the open reset request and the events, so one lock covers the
// whole aggregate; Get reads the profile and its open request under the same lock. The
// requests of all users are kept together under one more lock, which a write takes only
// briefly, after its shard lock and never the other way round.
type ProfileStore struct {
	profiles *shardedRecords[ports.ProfileRecord] // user id -> profile, without OpenResetRequest or Outbox
	side     *profileSide
	pub      publisher
}

// PublishTo makes s write the events of each profile's Outbox to o, under the user's lock,
// instead of the outbox of its own that NewProfileStore gives it (nil: a new one of its
// own). The events are the profiles' audit trail, so s always writes them somewhere, and
// AuditLog reads the outbox s writes to. Call it before s is used: the events written
// before stay in the outbox they went to.
func (s *ProfileStore) PublishTo(o *Outbox) {
	if o == nil {
		o = NewOutbox()
	}
	s.pub.attach(o)
}

// profileSide holds the reset requests of every profile of a ProfileStore, under one lock:
// listing needs every request.
type profileSide struct {
	mu       sync.Mutex
	requests map[string]ports.ResetRequest // by id
	open     map[string]string             // user id -> id of the PENDING request
}

// NewProfileStore returns an empty ProfileStore that writes its events to an outbox of its
// own (see PublishTo).
func NewProfileStore() *ProfileStore {
	s := &ProfileStore{
		profiles: newShardedRecords(ports.ProfileRecord.Clone),
		side:     &profileSide{requests: make(map[string]ports.ResetRequest), open: make(map[string]string)},
	}
	s.pub.attach(NewOutbox())
	return s
}

// ResetRequests returns the ports.ResetRequestStore that reads the reset requests of s.
func (s *ProfileStore) ResetRequests() *ResetRequestStore { return &ResetRequestStore{side: s.side} }

// AuditLog returns the ports.ProfileAuditLog that reads the profile events of s from the
// outbox s writes to.
func (s *ProfileStore) AuditLog() *ProfileAuditLog { return &ProfileAuditLog{pub: &s.pub} }

// Create stores rec under rec.UserID with its open reset request and its events, all or
// nothing, for tests and demos (the domain never creates profiles;
// porttest.SeedableProfileStore): ports.ErrProfileExists when the user has a profile,
// ports.ErrResetRequestExists when the request's ID is taken, ports.ErrResetRequestOpen
// when the request is PENDING and the user has a PENDING request.
func (s *ProfileStore) Create(ctx context.Context, rec ports.ProfileRecord) error {
	return s.profiles.locked(ctx, rec.UserID, func(recs map[string]ports.ProfileRecord) error {
		if _, ok := recs[rec.UserID]; ok {
			return ports.ErrProfileExists
		}
		if _, err := s.side.write(rec.UserID, nil, rec.OpenResetRequest); err != nil {
			return err
		}
		stored := rec.Clone()
		stored.Version = 1
		ports.StampVersion(stored.Outbox, stored.UserID, stored.Version)
		s.pub.publish(stored.Outbox)
		stored.OpenResetRequest, stored.Outbox = nil, nil
		recs[rec.UserID] = stored
		return nil
	})
}

// Get implements ports.ProfileStore: the profile and its open request are read under the
// lock of the user's shard, so they always belong to the same write.
func (s *ProfileStore) Get(ctx context.Context, userID string) (ports.ProfileRecord, error) {
	var out ports.ProfileRecord
	err := s.profiles.locked(ctx, userID, func(recs map[string]ports.ProfileRecord) error {
		rec, ok := recs[userID]
		if !ok {
			return ports.ErrProfileNotFound
		}
		out = rec.Clone()
		out.OpenResetRequest = s.side.openOf(userID)
		return nil
	})
	return out, err
}

// Update implements ports.ProfileStore. fn runs with the user's shard locked; then the open
// request and the events are checked and stored, and the profile with them, all under that
// lock. A check that fails (ErrResetRequestOpen, ErrResetRequestExists) stores nothing.
func (s *ProfileStore) Update(ctx context.Context, userID string, fn func(*ports.ProfileRecord) error) (ports.ProfileRecord, error) {
	var open *ports.ResetRequest // the user's open request once written
	rec, err := s.profiles.update(ctx, userID, ports.ErrProfileNotFound, func(r *ports.ProfileRecord) error {
		loaded := s.side.openOf(userID)
		r.OpenResetRequest = loaded
		if loaded != nil {
			copied := *loaded
			r.OpenResetRequest = &copied
		}
		version := r.Version + 1
		if err := fn(r); err != nil {
			return err
		}
		r.Version = version
		ports.StampVersion(r.Outbox, userID, version)
		var err error
		open, err = s.side.write(userID, loaded, r.OpenResetRequest)
		r.OpenResetRequest = nil // the shard keeps the profile only
		if err == nil {
			s.pub.publish(r.Outbox) // under the user's lock, with the write
		}
		r.Outbox = nil
		return err
	}, func(r *ports.ProfileRecord) { r.UserID = userID })
	if err != nil {
		return ports.ProfileRecord{}, err
	}
	rec.OpenResetRequest = open
	return rec, nil
}

// openOf returns a copy of the PENDING request of userID, or nil.
func (x *profileSide) openOf(userID string) *ports.ResetRequest {
	x.mu.Lock()
	defer x.mu.Unlock()
	id, ok := x.open[userID]
	if !ok {
		return nil
	}
	req := x.requests[id]
	return &req
}

// write stores what a Create or Update of userID left besides the profile and its events:
// left, the open request as the update function left it (loaded is the one it was given,
// nil when none was open). It checks everything before it changes anything, so a refused
// write stores nothing; it returns a copy of the user's open request afterwards, nil when
// none. The caller holds the lock of userID's shard.
func (x *profileSide) write(userID string, loaded, left *ports.ResetRequest) (*ports.ResetRequest, error) {
	if loaded == nil && left == nil {
		return nil, nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	var put *ports.ResetRequest
	switch {
	case loaded != nil && (left == nil || left.ID != loaded.ID):
		return nil, ports.ErrResetRequestOpen // an open request is decided, never dropped or replaced
	case left != nil:
		req := *left
		req.UserID = userID
		if loaded == nil {
			if _, taken := x.requests[req.ID]; taken {
				return nil, ports.ErrResetRequestExists
			}
			if _, busy := x.open[userID]; busy && req.Status == ports.ResetRequestPending {
				return nil, ports.ErrResetRequestOpen
			}
		}
		put = &req
	}
	if put == nil {
		return nil, nil
	}
	x.requests[put.ID] = *put
	if put.Status == ports.ResetRequestPending {
		x.open[userID] = put.ID
		open := *put
		return &open, nil
	}
	if x.open[userID] == put.ID {
		delete(x.open, userID)
	}
	return nil, nil
}

// ResetRequestStore is a ports.ResetRequestStore in memory: a read view of the reset
// requests of one ProfileStore (ProfileStore.ResetRequests), which writes them. Use the
// ones ProfileStore.ResetRequests returns; the zero value is not usable.
type ResetRequestStore struct {
	side *profileSide
}

// Get implements ports.ResetRequestStore.
func (s *ResetRequestStore) Get(ctx context.Context, id string) (ports.ResetRequest, error) {
	if err := ctx.Err(); err != nil {
		return ports.ResetRequest{}, err
	}
	s.side.mu.Lock()
	defer s.side.mu.Unlock()
	req, ok := s.side.requests[id]
	if !ok {
		return ports.ResetRequest{}, ports.ErrResetRequestNotFound
	}
	return req, nil
}

// Open returns the PENDING request of userID, or ports.ErrResetRequestNotFound. The domain
// reads it from the profile (ports.ProfileRecord.OpenResetRequest) and never calls it.
func (s *ResetRequestStore) Open(ctx context.Context, userID string) (ports.ResetRequest, error) {
	if err := ctx.Err(); err != nil {
		return ports.ResetRequest{}, err
	}
	if req := s.side.openOf(userID); req != nil {
		return *req, nil
	}
	return ports.ResetRequest{}, ports.ErrResetRequestNotFound
}

// List implements ports.ResetRequestStore.
func (s *ResetRequestStore) List(ctx context.Context, q ports.ResetRequestQuery) ([]ports.ResetRequest, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	s.side.mu.Lock()
	matched := make([]ports.ResetRequest, 0, len(s.side.requests))
	for _, r := range s.side.requests {
		if (q.Status == "" || r.Status == q.Status) && (q.OrganizationID == "" || r.OrganizationID == q.OrganizationID) {
			matched = append(matched, r)
		}
	}
	s.side.mu.Unlock()
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

// ProfileAuditLog is a ports.ProfileAuditLog in memory: a reader over the profile events
// (aggregate type ports.AggregateProfile) of the outbox one ProfileStore writes to
// (ProfileStore.AuditLog). Use the ones ProfileStore.AuditLog returns; the zero value is
// not usable.
type ProfileAuditLog struct {
	pub *publisher
}

// Append implements ports.ProfileAuditLog: ports.ProfileEvent(ev, "") goes to the outbox.
func (l *ProfileAuditLog) Append(ctx context.Context, ev ports.ProfileAuditEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := ports.ValidateProfileAuditEvent(ev); err != nil {
		return err
	}
	l.pub.publish([]ports.LifecycleEvent{ports.ProfileEvent(ev, "")})
	return nil
}

// Events implements ports.ProfileAuditLog.
func (l *ProfileAuditLog) Events(ctx context.Context, userID string) ([]ports.ProfileAuditEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := []ports.ProfileAuditEvent{}
	for _, ev := range l.pub.out.Load().aggregateEvents(ports.AggregateProfile, userID) {
		a, _ := ports.ProfileAuditEventOf(ev)
		out = append(out, a)
	}
	return out, nil
}
