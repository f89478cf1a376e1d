package porttest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/ports"
)

// OutboxStores are the stores RunOutboxStore checks: an outbox, the event log that appends
// to it, and a person-request store that writes its records' Outbox events into it.
type OutboxStores struct {
	Outbox ports.OutboxStore
	Log    ports.EventLog
	// PersonRequests writes the Outbox of the requests it stores into Outbox.
	PersonRequests ports.PersonRequestStore
}

var outboxStart = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

func outboxEvent(typ string, at time.Time) ports.LifecycleEvent {
	ev := ports.NewLifecycleEvent(typ, "person_request", uuid.NewString(), at)
	ev.Data = map[string]string{"status": "NEW"}
	return ev
}

// claimByID claims like Claim and returns the entries by event id.
func claimByID(t *testing.T, o ports.OutboxStore, now time.Time, lease time.Duration, limit int) map[string]ports.OutboxEntry {
	t.Helper()
	es, err := o.Claim(context.Background(), now, lease, limit)
	require.NoError(t, err)
	out := make(map[string]ports.OutboxEntry, len(es))
	for _, e := range es {
		out[e.Event.ID] = e
	}
	return out
}

func claimIDs(t *testing.T, o ports.OutboxStore, now time.Time, lease time.Duration, limit int) []string {
	t.Helper()
	es, err := o.Claim(context.Background(), now, lease, limit)
	require.NoError(t, err)
	ids := []string{}
	for _, e := range es {
		ids = append(ids, e.Event.ID)
	}
	return ids
}

// RunOutboxStore checks an outbox: claiming in order under a lease, acknowledging,
// retrying, dead letters and re-driving, concurrent claims that never hand out one event
// twice, and that a store writes a record's events with the record, and none when the
// write fails.
func RunOutboxStore(t *testing.T, newStores func(t *testing.T) OutboxStores) {
	ctx := context.Background()

	t.Run("ClaimLeasesOldestFirst", func(t *testing.T) {
		s := newStores(t)
		a, b, c := outboxEvent("t.a", outboxStart), outboxEvent("t.b", outboxStart.Add(time.Second)), outboxEvent("t.c", outboxStart.Add(time.Hour))
		require.NoError(t, s.Log.Append(ctx, b, a, c))
		now := outboxStart.Add(time.Minute)
		es, err := s.Outbox.Claim(ctx, now, time.Minute, 10)
		require.NoError(t, err)
		require.Len(t, es, 2, "c is not due yet")
		require.Equal(t, a.ID, es[0].Event.ID)
		require.Equal(t, b.ID, es[1].Event.ID)
		require.True(t, a.Time.Equal(es[0].Event.Time))
		require.Equal(t, a.Data, es[0].Event.Data)
		require.Equal(t, ports.OutboxPending, es[0].State)
		require.Empty(t, claimIDs(t, s.Outbox, now.Add(30*time.Second), time.Minute, 10), "leased")
		require.Equal(t, []string{a.ID, b.ID}, claimIDs(t, s.Outbox, now.Add(time.Minute), time.Minute, 10), "the lease ran out")
		require.Equal(t, []string{a.ID, b.ID, c.ID}, claimIDs(t, s.Outbox, outboxStart.Add(2*time.Hour), time.Minute, 10))
	})

	t.Run("AckRetryDeadRedrive", func(t *testing.T) {
		s := newStores(t)
		a, b := outboxEvent("t.a", outboxStart), outboxEvent("t.b", outboxStart)
		require.NoError(t, s.Log.Append(ctx, a, b))
		now := outboxStart.Add(time.Second)
		claimed := claimByID(t, s.Outbox, now, time.Minute, 10)
		require.Len(t, claimed, 2)
		ea, eb := claimed[a.ID], claimed[b.ID]
		require.NoError(t, s.Outbox.MarkDelivered(ctx, ea, "hook"))
		require.NoError(t, s.Outbox.MarkDelivered(ctx, ea, "hook"), "idempotent")
		require.NoError(t, s.Outbox.Ack(ctx, ea, now))
		require.ErrorIs(t, s.Outbox.Ack(ctx, ea, now), ports.ErrOutboxLeaseLost, "delivered: nothing more to record")
		require.NoError(t, s.Outbox.Retry(ctx, eb, now.Add(time.Hour), "status 500"))
		require.ErrorIs(t, s.Outbox.Retry(ctx, eb, now.Add(time.Hour), "again"), ports.ErrOutboxLeaseLost, "the retry ended the lease")
		require.Empty(t, claimIDs(t, s.Outbox, now.Add(time.Minute), time.Minute, 10), "a is delivered, b not due")
		es, err := s.Outbox.Claim(ctx, now.Add(time.Hour), time.Minute, 10)
		require.NoError(t, err)
		require.Len(t, es, 1)
		require.Equal(t, 1, es[0].Attempts)
		require.Equal(t, "status 500", es[0].LastError)
		require.NoError(t, s.Outbox.Dead(ctx, es[0], "status 503"))
		require.ErrorIs(t, s.Outbox.Ack(ctx, es[0], now), ports.ErrOutboxLeaseLost, "a dead entry is not acknowledged")
		dead, err := s.Outbox.DeadLetters(ctx, 10)
		require.NoError(t, err)
		require.Len(t, dead, 1)
		require.Equal(t, b.ID, dead[0].Event.ID)
		require.Equal(t, ports.OutboxDead, dead[0].State)
		require.Equal(t, 2, dead[0].Attempts)
		require.Empty(t, claimIDs(t, s.Outbox, now.Add(2*time.Hour), time.Minute, 10), "dead")
		require.ErrorIs(t, s.Outbox.Redrive(ctx, a.ID, now), ports.ErrOutboxEntryNotFound, "a is not dead")
		require.ErrorIs(t, s.Outbox.Redrive(ctx, uuid.NewString(), now), ports.ErrOutboxEntryNotFound)
		later := now.Add(3 * time.Hour)
		require.NoError(t, s.Outbox.Redrive(ctx, b.ID, later))
		es, err = s.Outbox.Claim(ctx, later, time.Minute, 10)
		require.NoError(t, err)
		require.Len(t, es, 1)
		require.Equal(t, 0, es[0].Attempts)
		dead, err = s.Outbox.DeadLetters(ctx, 10)
		require.NoError(t, err)
		require.Empty(t, dead)

		require.NoError(t, s.Outbox.MarkDelivered(ctx, es[0], "sub"))
		require.NoError(t, s.Outbox.Retry(ctx, es[0], later, "x"))
		es, err = s.Outbox.Claim(ctx, later, time.Minute, 10)
		require.NoError(t, err)
		require.Equal(t, []string{"sub"}, es[0].DeliveredTo, "targets that got it are kept")
	})

	t.Run("ALapsedLeaseRecordsNothing", func(t *testing.T) {
		s := newStores(t)
		a := outboxEvent("t.a", outboxStart)
		require.NoError(t, s.Log.Append(ctx, a))
		now := outboxStart.Add(time.Second)
		first := claimByID(t, s.Outbox, now, time.Minute, 10)[a.ID]
		second := claimByID(t, s.Outbox, now.Add(2*time.Minute), time.Minute, 10)[a.ID]
		require.NotEmpty(t, second.Event.ID, "the first lease ran out: claimed again")
		for name, err := range map[string]error{
			"mark":  s.Outbox.MarkDelivered(ctx, first, "hook"),
			"ack":   s.Outbox.Ack(ctx, first, now),
			"retry": s.Outbox.Retry(ctx, first, now, "late"),
			"dead":  s.Outbox.Dead(ctx, first, "late"),
		} {
			require.ErrorIs(t, err, ports.ErrOutboxLeaseLost, name)
		}
		require.NoError(t, s.Outbox.Ack(ctx, second, now.Add(2*time.Minute)), "the holder's lease is intact")
		require.Empty(t, claimIDs(t, s.Outbox, now.Add(time.Hour), time.Minute, 10), "delivered once")
	})

	t.Run("ConcurrentClaimsNeverShareAnEvent", func(t *testing.T) {
		s := newStores(t)
		const n = 60
		for i := range n {
			require.NoError(t, s.Log.Append(ctx, outboxEvent(fmt.Sprintf("t.%d", i), outboxStart)))
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				for {
					es, err := s.Outbox.Claim(ctx, outboxStart.Add(time.Second), time.Hour, 7)
					if err != nil || len(es) == 0 {
						return
					}
					mu.Lock()
					for _, e := range es {
						seen[e.Event.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		require.Len(t, seen, n)
		for id, k := range seen {
			require.Equal(t, 1, k, "event %s claimed once", id)
		}
	})

	t.Run("RecordWritesCarryTheirEvents", func(t *testing.T) {
		s := newStores(t)
		if s.PersonRequests == nil {
			t.Skip("no record store given")
		}
		id := uuid.NewString()
		created := outboxEvent("personrequest.created", outboxStart)
		require.NoError(t, s.PersonRequests.Create(ctx, ports.PersonRequest{ID: id, Status: ports.PersonRequestNew, CreatedAt: outboxStart,
			UpdatedAt: outboxStart, Outbox: []ports.LifecycleEvent{created}}))
		require.ErrorIs(t, s.PersonRequests.Create(ctx, ports.PersonRequest{ID: id, Outbox: []ports.LifecycleEvent{outboxEvent("dup", outboxStart)}}),
			ports.ErrPersonRequestExists)
		refused := errors.New("refused")
		_, err := s.PersonRequests.Update(ctx, id, func(r *ports.PersonRequest) error {
			r.Outbox = append(r.Outbox, outboxEvent("lost", outboxStart))
			return refused
		})
		require.ErrorIs(t, err, refused)
		signed := outboxEvent("personrequest.signed", outboxStart.Add(time.Second))
		got, err := s.PersonRequests.Update(ctx, id, func(r *ports.PersonRequest) error {
			require.Empty(t, r.Outbox, "a record read back holds no events")
			r.Status = ports.PersonRequestSigned
			r.Outbox = append(r.Outbox, signed)
			return nil
		})
		require.NoError(t, err)
		require.Empty(t, got.Outbox)
		stored, err := s.PersonRequests.Get(ctx, id)
		require.NoError(t, err)
		require.Empty(t, stored.Outbox)
		require.Equal(t, []string{created.ID, signed.ID}, claimIDs(t, s.Outbox, outboxStart.Add(time.Minute), time.Minute, 10))
	})
}
