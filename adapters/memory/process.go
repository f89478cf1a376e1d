package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/verifykit/verifykit/ports"
)

// ProcessStore is a ports.ProcessStore in memory. Processes are sharded by id, so changes
// to different processes do not wait for each other; List and ExpireDue visit every shard.
type ProcessStore struct {
	procs *shardedRecords[ports.ProcessRecord] // id -> process
	pub   publisher
}

// PublishTo makes s write the events of each process's Outbox to o, under the process's
// lock; without an outbox (or with nil) s drops them. Call it before s is used.
func (s *ProcessStore) PublishTo(o *Outbox) { s.pub.attach(o) }

// KeepsEvents implements ports.EventKeeper: s keeps the events of its writes only while an
// outbox is attached (PublishTo).
func (s *ProcessStore) KeepsEvents() bool { return s.pub.keeps() }

// NewProcessStore returns an empty ProcessStore.
func NewProcessStore() *ProcessStore {
	// Records go in and out as deep copies (ProcessRecord.Clone): Verification holds slices.
	return &ProcessStore{procs: newShardedRecords(ports.ProcessRecord.Clone)}
}

// Create implements ports.ProcessStore.
func (s *ProcessStore) Create(ctx context.Context, rec ports.ProcessRecord) error {
	return s.procs.locked(ctx, rec.ID, func(recs map[string]ports.ProcessRecord) error {
		if _, ok := recs[rec.ID]; ok {
			return ports.ErrProcessExists
		}
		// The events are not kept with the process: a copy of the slice is stamped (the
		// caller's stays as it was) and the outbox copies what it keeps of each.
		evs := rec.Outbox
		rec.Outbox = nil
		stored := rec.Clone()
		stored.Version, stored.Deleted = 1, false
		if len(evs) > 0 && s.pub.keeps() {
			evs = slices.Clone(evs)
			ports.StampVersion(evs, stored.ID, stored.Version)
			s.pub.publish(evs)
		}
		recs[rec.ID] = stored
		return nil
	})
}

// Get implements ports.ProcessStore.
func (s *ProcessStore) Get(ctx context.Context, orgID, id string) (ports.ProcessRecord, error) {
	rec, err := s.procs.get(ctx, id, ports.ErrProcessNotFound)
	if err == nil && rec.OrgID != orgID { // another organisation's process is not found
		return ports.ProcessRecord{}, ports.ErrProcessNotFound
	}
	return rec, err
}

// Update implements ports.ProcessStore. A record fn marks Deleted is deleted, under the
// same lock as the write of its Outbox.
func (s *ProcessStore) Update(ctx context.Context, orgID, id string, fn func(*ports.ProcessRecord) error) (ports.ProcessRecord, error) {
	var out ports.ProcessRecord
	err := s.procs.locked(ctx, id, func(procs map[string]ports.ProcessRecord) error {
		rec, ok := procs[id]
		if !ok || rec.OrgID != orgID {
			return ports.ErrProcessNotFound
		}
		work := rec.Clone()
		if err := fn(&work); err != nil {
			return err
		}
		work.ID, work.OrgID, work.Version = id, orgID, rec.Version+1
		ports.StampVersion(work.Outbox, id, work.Version)
		s.pub.publish(work.Outbox) // under the lock, with the write
		work.Outbox = nil
		if work.Deleted {
			delete(procs, id)
			out = work
			return nil
		}
		procs[id] = work.Clone()
		out = work
		return nil
	})
	return out, err
}

// Delete locks the process id of orgID, calls check with it (nil: no check) and deletes it
// when check returns nil; check's error deletes nothing and comes back as is. It returns
// ports.ErrProcessNotFound, without calling check, when there is no such process. It
// writes no event: the flows delete with Update and ProcessRecord.Deleted, and never call
// it.
func (s *ProcessStore) Delete(ctx context.Context, orgID, id string, check func(ports.ProcessRecord) error) error {
	return s.procs.locked(ctx, id, func(procs map[string]ports.ProcessRecord) error {
		rec, ok := procs[id]
		if !ok || rec.OrgID != orgID {
			return ports.ErrProcessNotFound
		}
		if check != nil {
			if err := check(rec.Clone()); err != nil {
				return err
			}
		}
		delete(procs, id)
		return nil
	})
}

// List implements ports.ProcessStore.
func (s *ProcessStore) List(ctx context.Context, f ports.ProcessFilter) (ports.ProcessPage, error) {
	var all []ports.ProcessRecord
	err := s.procs.each(ctx, func(procs map[string]ports.ProcessRecord) {
		for _, rec := range procs {
			if rec.OrgID == f.OrgID && (len(f.States) == 0 || slices.Contains(f.States, ports.EffectiveProcessState(rec, f.Now))) {
				all = append(all, rec.Clone())
			}
		}
	})
	if err != nil {
		return ports.ProcessPage{}, err
	}
	slices.SortFunc(all, func(a, b ports.ProcessRecord) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	page := ports.ProcessPage{Total: len(all)}
	from := min(max(f.Offset, 0), len(all))
	to := len(all)
	if f.Limit > 0 {
		to = min(from+f.Limit, to)
	}
	page.Processes = slices.Clip(all[from:to])
	return page, nil
}

// ExpireDue implements ports.ProcessStore.
func (s *ProcessStore) ExpireDue(ctx context.Context, now time.Time, limit int) (int, error) {
	n := 0
	err := s.procs.each(ctx, func(procs map[string]ports.ProcessRecord) {
		for id, rec := range procs {
			if n >= limit {
				break
			}
			if rec.State == ports.ProcessStateCreated && !now.Before(rec.ExpiresAt) {
				rec.State, rec.UpdatedAt = ports.ProcessStateExpired, now
				rec.Version++
				procs[id] = rec
				s.pub.publish([]ports.LifecycleEvent{ports.ProcessExpiredEvent(rec, now)}) // under the shard's lock
				n++
			}
		}
	})
	return n, err
}
