package memory

import (
	"cmp"
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/verifykit/verifykit/ports"
)

// ProcessStore is a ports.ProcessStore in memory. Processes are sharded by id, so changes
// to different processes do not wait for each other; List and ExpireDue visit every shard.
type ProcessStore struct {
	seed   maphash.Seed
	shards [shardCount]processShard
}

type processShard struct {
	mu    sync.Mutex
	procs map[string]ports.ProcessRecord // id -> process

	_ cacheLinePad
}

// NewProcessStore returns an empty ProcessStore.
func NewProcessStore() *ProcessStore {
	s := &ProcessStore{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].procs = make(map[string]ports.ProcessRecord)
	}
	return s
}

func (s *ProcessStore) shard(id string) *processShard { return &s.shards[shardIndex(s.seed, id)] }

// locked runs f on the shard of id, locked, after checking ctx.
func (s *ProcessStore) locked(ctx context.Context, id string, f func(sh *processShard) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return f(sh)
}

// find returns the process id of orgID. The caller holds sh.mu.
func (sh *processShard) find(orgID, id string) (ports.ProcessRecord, error) {
	rec, ok := sh.procs[id]
	if !ok || rec.OrgID != orgID {
		return ports.ProcessRecord{}, ports.ErrProcessNotFound
	}
	return rec, nil
}

// Create implements ports.ProcessStore.
func (s *ProcessStore) Create(ctx context.Context, rec ports.ProcessRecord) error {
	return s.locked(ctx, rec.ID, func(sh *processShard) error {
		if _, ok := sh.procs[rec.ID]; ok {
			return ports.ErrProcessExists
		}
		sh.procs[rec.ID] = rec
		return nil
	})
}

// Get implements ports.ProcessStore.
func (s *ProcessStore) Get(ctx context.Context, orgID, id string) (ports.ProcessRecord, error) {
	var out ports.ProcessRecord
	err := s.locked(ctx, id, func(sh *processShard) (err error) {
		out, err = sh.find(orgID, id)
		return err
	})
	return out, err
}

// Update implements ports.ProcessStore.
func (s *ProcessStore) Update(ctx context.Context, orgID, id string, fn func(*ports.ProcessRecord) error) (ports.ProcessRecord, error) {
	var out ports.ProcessRecord
	err := s.locked(ctx, id, func(sh *processShard) error {
		rec, err := sh.find(orgID, id)
		if err != nil {
			return err
		}
		if err := fn(&rec); err != nil {
			return err
		}
		rec.ID, rec.OrgID = id, orgID
		sh.procs[id] = rec
		out = rec
		return nil
	})
	return out, err
}

// Delete implements ports.ProcessStore.
func (s *ProcessStore) Delete(ctx context.Context, orgID, id string, check func(ports.ProcessRecord) error) error {
	return s.locked(ctx, id, func(sh *processShard) error {
		rec, err := sh.find(orgID, id)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(rec); err != nil {
				return err
			}
		}
		delete(sh.procs, id)
		return nil
	})
}

// List implements ports.ProcessStore.
func (s *ProcessStore) List(ctx context.Context, f ports.ProcessFilter) (ports.ProcessPage, error) {
	var all []ports.ProcessRecord
	for i := range s.shards {
		if err := ctx.Err(); err != nil {
			return ports.ProcessPage{}, err
		}
		sh := &s.shards[i]
		sh.mu.Lock()
		for _, rec := range sh.procs {
			if rec.OrgID == f.OrgID && (len(f.States) == 0 || slices.Contains(f.States, ports.EffectiveProcessState(rec, f.Now))) {
				all = append(all, rec)
			}
		}
		sh.mu.Unlock()
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
	for i := range s.shards {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		sh := &s.shards[i]
		sh.mu.Lock()
		for id, rec := range sh.procs {
			if n >= limit {
				break
			}
			if rec.State == ports.ProcessStateCreated && !now.Before(rec.ExpiresAt) {
				rec.State, rec.UpdatedAt = ports.ProcessStateExpired, now
				sh.procs[id] = rec
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n, nil
}

// EmailOutbox is a ports.EmailSender that delivers into memory, with the test helpers of
// SMSOutbox: Last, Messages, Attempts, FailNext and Reset. A message whose idempotency key
// was already delivered is not delivered again.
type EmailOutbox struct{ *outbox }

// NewEmailOutbox returns an empty e-mail outbox.
func NewEmailOutbox() *EmailOutbox { return &EmailOutbox{newOutbox("e-mail", ports.MaskEmail)} }

// SendEmail records the attempt, fails if a failure was injected, else delivers msg
// unless a message with the same idempotency key was delivered before.
func (o *EmailOutbox) SendEmail(ctx context.Context, msg ports.Message) error {
	return o.send(ctx, msg)
}

// WhatsAppOutbox is a ports.WhatsAppSender that delivers into memory, with the test
// helpers of SMSOutbox: Last, Messages, Attempts, FailNext and Reset.
type WhatsAppOutbox struct{ *outbox }

// NewWhatsAppOutbox returns an empty WhatsApp outbox.
func NewWhatsAppOutbox() *WhatsAppOutbox {
	return &WhatsAppOutbox{newOutbox("whatsapp", ports.MaskPhone)}
}

// SendWhatsApp records the attempt, fails if a failure was injected, else delivers msg
// unless a message with the same idempotency key was delivered before.
func (o *WhatsAppOutbox) SendWhatsApp(ctx context.Context, msg ports.Message) error {
	return o.send(ctx, msg)
}
