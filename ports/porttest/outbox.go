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

	"github.com/verifykit/verifykit"
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
// twice, purging delivered entries (by delivery time, oldest first under a limit, never
// pending, dead or kept ones, beside concurrent claims), and that a store writes a
// record's events with the record, and none when the write fails: a sub-test per case of
// outboxStoreCases (see CaseNames), each on the stores newStores returns for it.
func RunOutboxStore(t *testing.T, f Features, newStores func(t *testing.T) OutboxStores) {
	runSuite(t, f, newStores, outboxStoreCases)
}

// outboxStoreCases are the cases of RunOutboxStore.
var outboxStoreCases = []suiteCase[OutboxStores]{
	errorsCase(outboxStoreErrorCases),
	{name: "ClaimLeasesOldestFirst", run: func(t *testing.T, s OutboxStores, _ Features) {
		ctx := context.Background()
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
	}},
	{name: "AckRetryDeadRedrive", run: func(t *testing.T, s OutboxStores, _ Features) {
		ctx := context.Background()
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
	}},
	{name: "ALapsedLeaseRecordsNothing", run: func(t *testing.T, s OutboxStores, _ Features) {
		ctx := context.Background()
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
	}},
	{name: "ConcurrentClaimsNeverShareAnEvent", run: func(t *testing.T, s OutboxStores, _ Features) {
		ctx := context.Background()
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
	}},
	{name: "PurgeDeletesOldDeliveriesOnly", run: func(t *testing.T, s OutboxStores, _ Features) {
		ctx := context.Background()
		a, b, d, e := outboxEvent("t.a", outboxStart), outboxEvent("t.b", outboxStart), outboxEvent("t.d", outboxStart), outboxEvent("t.e", outboxStart)
		kept := ports.NewLifecycleEvent("profile.submitted", ports.AggregateProfile, "u1", outboxStart)
		require.NoError(t, s.Log.Append(ctx, a, b, kept, d, e))
		now := outboxStart.Add(time.Second)
		claimed := claimByID(t, s.Outbox, now, time.Hour, 10)
		require.Len(t, claimed, 5)
		t1, t2 := now.Add(time.Minute), now.Add(2*time.Minute)
		require.NoError(t, s.Outbox.Ack(ctx, claimed[a.ID], t1))
		require.NoError(t, s.Outbox.Ack(ctx, claimed[b.ID], t2))
		require.NoError(t, s.Outbox.Ack(ctx, claimed[kept.ID], t1))
		require.NoError(t, s.Outbox.Dead(ctx, claimed[e.ID], "status 500"))
		// d stays pending under its lease.

		purge := func(req ports.PurgeRequest) int {
			t.Helper()
			n, err := s.Outbox.Purge(ctx, req)
			require.NoError(t, err)
			return n
		}
		require.Zero(t, purge(ports.PurgeRequest{DeliveredBefore: t1, KeepAggregateTypes: ports.AuditAggregateTypes}), "before: not after")
		require.Equal(t, 1, purge(ports.PurgeRequest{DeliveredBefore: t2, KeepAggregateTypes: ports.AuditAggregateTypes}), "a only: b was delivered at t2, the profile event is kept")
		require.Equal(t, 1, purge(ports.PurgeRequest{DeliveredBefore: t2.Add(time.Microsecond), KeepAggregateTypes: ports.AuditAggregateTypes}), "b")
		require.Zero(t, purge(ports.PurgeRequest{DeliveredBefore: t2.Add(time.Hour), KeepAggregateTypes: []string{"other", ports.AggregateProfile}}))
		require.Equal(t, 1, purge(ports.PurgeRequest{DeliveredBefore: t2.Add(time.Hour)}), "kept only while asked to")
		require.Zero(t, purge(ports.PurgeRequest{DeliveredBefore: t2.Add(1000 * time.Hour)}), "pending and dead entries are never purged")

		dead, err := s.Outbox.DeadLetters(ctx, 10)
		require.NoError(t, err)
		require.Len(t, dead, 1)
		require.Equal(t, e.ID, dead[0].Event.ID)
		require.NoError(t, s.Outbox.Ack(ctx, claimed[d.ID], t2), "the pending entry is intact under its lease")
		require.ErrorIs(t, s.Outbox.Ack(ctx, claimed[a.ID], t2), ports.ErrOutboxLeaseLost, "a purged entry is gone")
		require.ErrorIs(t, s.Outbox.Redrive(ctx, a.ID, t2), ports.ErrOutboxEntryNotFound)
	}},
	{name: "PurgeLimitTakesTheOldestDeliveries", run: func(t *testing.T, s OutboxStores, _ Features) {
		ctx := context.Background()
		const n = 5
		evs := make([]ports.LifecycleEvent, n)
		for i := range evs {
			evs[i] = outboxEvent(fmt.Sprintf("t.%d", i), outboxStart)
		}
		require.NoError(t, s.Log.Append(ctx, evs...))
		claimed := claimByID(t, s.Outbox, outboxStart, time.Hour, 10)
		at := func(i int) time.Time { return outboxStart.Add(time.Duration(i+1) * time.Minute) }
		for _, i := range []int{3, 0, 4, 1, 2} { // acknowledged out of order
			require.NoError(t, s.Outbox.Ack(ctx, claimed[evs[i].ID], at(i)))
		}
		got, err := s.Outbox.Purge(ctx, ports.PurgeRequest{DeliveredBefore: at(n), Limit: 2})
		require.NoError(t, err)
		require.Equal(t, 2, got)
		got, err = s.Outbox.Purge(ctx, ports.PurgeRequest{DeliveredBefore: at(2)})
		require.NoError(t, err)
		require.Zero(t, got, "the two oldest deliveries went")
		got, err = s.Outbox.Purge(ctx, ports.PurgeRequest{DeliveredBefore: at(n)})
		require.NoError(t, err)
		require.Equal(t, 3, got, "limit 0: every one")
	}},
	{name: "PurgeRefusesANegativeLimit", run: func(t *testing.T, s OutboxStores, _ Features) {
		ctx := context.Background()
		a := outboxEvent("t.a", outboxStart)
		require.NoError(t, s.Log.Append(ctx, a))
		require.NoError(t, s.Outbox.Ack(ctx, claimByID(t, s.Outbox, outboxStart, time.Hour, 1)[a.ID], outboxStart))
		n, err := s.Outbox.Purge(ctx, ports.PurgeRequest{DeliveredBefore: outboxStart.Add(time.Hour), Limit: -1})
		require.Zero(t, n)
		require.Equal(t, verifykit.KindInvalidInput, verifykit.KindOf(err))
		var ve *verifykit.Error
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "Limit", ve.Invalid[0].Entry)
		n, err = s.Outbox.Purge(ctx, ports.PurgeRequest{DeliveredBefore: outboxStart.Add(time.Hour)})
		require.NoError(t, err)
		require.Equal(t, 1, n, "the refused purge deleted nothing")

		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err = s.Outbox.Purge(cctx, ports.PurgeRequest{DeliveredBefore: outboxStart.Add(time.Hour)})
		require.ErrorIs(t, err, context.Canceled)
	}},
	{name: "ConcurrentPurgesWhileClaiming", run: func(t *testing.T, s OutboxStores, _ Features) {
		ctx := context.Background()
		const n, audited = 80, 20
		for i := range n {
			ev := outboxEvent(fmt.Sprintf("t.%d", i), outboxStart)
			if i < audited {
				ev.AggregateType = ports.AggregateProfile
			}
			require.NoError(t, s.Log.Append(ctx, ev))
		}
		now := outboxStart.Add(time.Second)
		var mu sync.Mutex
		acked, purged := map[string]int{}, 0
		var errs []error
		fail := func(err error) {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
		var claimers, purgers sync.WaitGroup
		for range 4 {
			claimers.Go(func() {
				for {
					es, err := s.Outbox.Claim(ctx, now, time.Hour, 3)
					if err != nil {
						fail(err)
						return
					}
					if len(es) == 0 {
						return
					}
					for _, e := range es {
						if err := s.Outbox.Ack(ctx, e, now); err != nil {
							fail(fmt.Errorf("ack %s: %w", e.Event.ID, err))
							continue
						}
						mu.Lock()
						acked[e.Event.ID]++
						mu.Unlock()
					}
				}
			})
		}
		done := make(chan struct{})
		for range 3 {
			purgers.Go(func() {
				for {
					k, err := s.Outbox.Purge(ctx, ports.PurgeRequest{DeliveredBefore: now.Add(time.Second), KeepAggregateTypes: ports.AuditAggregateTypes, Limit: 4})
					if err != nil {
						fail(err)
						return
					}
					mu.Lock()
					purged += k
					mu.Unlock()
					select {
					case <-done:
						return
					default:
					}
				}
			})
		}
		claimers.Wait()
		close(done)
		purgers.Wait()
		require.Empty(t, errs, "no purge took an entry a claimer held")
		require.Len(t, acked, n, "every entry was claimed and acknowledged: none purged before")
		for id, k := range acked {
			require.Equal(t, 1, k, "entry %s once", id)
		}
		rest, err := s.Outbox.Purge(ctx, ports.PurgeRequest{DeliveredBefore: now.Add(time.Second), KeepAggregateTypes: ports.AuditAggregateTypes})
		require.NoError(t, err)
		require.Equal(t, n-audited, purged+rest, "each delivered entry purged once, the audited ones never")
		rest, err = s.Outbox.Purge(ctx, ports.PurgeRequest{DeliveredBefore: now.Add(time.Second)})
		require.NoError(t, err)
		require.Equal(t, audited, rest)
	}},
	{name: "RecordWritesCarryTheirEvents", run: func(t *testing.T, s OutboxStores, _ Features) {
		ctx := context.Background()
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
	}},
}
