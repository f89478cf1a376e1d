package porttest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/internal/concurrent"
	"github.com/verifykit/verifykit/ports"
)

// processRecord returns a CREATED process of org, created at created, expiring a day later,
// with every field set.
func processRecord(id, org string, created time.Time) ports.ProcessRecord {
	return ports.ProcessRecord{
		Process: ports.Process{
			ID:    id,
			OrgID: org,
			State: ports.ProcessStateCreated,
			Actor: ports.ProcessActor{
				Name: "Jane", LastName: "Doe", Email: "jane@example.com",
				MSISDN:           ports.ProcessPhone{CountryCode: "34", PhoneNumber: "600111222"},
				IdentityDocument: ports.ProcessDocument{DocumentType: "DNI", DocumentNumber: "12345678Z", Country: "ES"},
				Language:         "es",
			},
			TwoFactorType: ports.ProcessTwoFactorDocumentNumber,
			Channel:       ports.ProcessChannel{Type: ports.ProcessChannelSMS, External: true},
			CreatedAt:     created,
			UpdatedAt:     created,
			ExpiresAt:     created.Add(24 * time.Hour),
			CodeSentAt:    created,
			CodesSent:     1,
		},
		Verification: sampleVerification("c-"+id, "otp_identification", id, created),
	}
}

func processID(i int) string { return fmt.Sprintf("10000000-0000-4000-8000-%012d", i) }

// requireSameProcess compares two records, times with time.Time.Equal. Versions are not
// compared: the store sets them (RunProcessStoreOutbox checks them).
func requireSameProcess(t *testing.T, want, got ports.ProcessRecord) {
	t.Helper()
	want.Version, got.Version = 0, 0
	requireSameVerification(t, "the process's Verification", want.Verification, got.Verification)
	want.Verification, got.Verification = ports.Verification{}, ports.Verification{}
	norm := func(r ports.ProcessRecord) ports.ProcessRecord {
		for _, tm := range []*time.Time{&r.CreatedAt, &r.UpdatedAt, &r.ExpiresAt, &r.CodeSentAt, &r.ValidatedAt, &r.CancelledAt} {
			if tm.IsZero() {
				*tm = time.Time{}
			} else {
				*tm = tm.UTC()
			}
		}
		return r
	}
	require.Equal(t, norm(want), norm(got))
}

func listIDs(page ports.ProcessPage) []string {
	ids := make([]string, 0, len(page.Processes))
	for _, p := range page.Processes {
		ids = append(ids, p.ID)
	}
	return ids
}

// RunProcessStore runs the conformance suite of ports.ProcessStore, a sub-test per case of
// processStoreCases (see CaseNames); f.ProcessDelete adds the cases of ProcessDeleter.
// newStore must return an empty store; it is called once per case.
func RunProcessStore(t *testing.T, f Features, newStore func(t *testing.T) ports.ProcessStore) {
	runSuite(t, f, newStore, processStoreCases)
}

// processStoreCases are the cases of RunProcessStore.
var processStoreCases = []suiteCase[ports.ProcessStore]{
	errorsCase(processStoreErrorCases),
	{name: "CreateGetRoundTrips", run: func(t *testing.T, s ports.ProcessStore, _ Features) {
		ctx := context.Background()
		rec := processRecord(processID(1), "org-a", base)
		rec.FailedAttempts = 2
		rec.ValidatedAt = base.Add(time.Minute)
		rec.TwoFactorEvidence = "upload/ref-1"
		rec.CancelledAt = base.Add(2 * time.Minute)
		rec.CancelReason = "duplicate"
		rec.Verification.Code.State, rec.Verification.Code.UsedAt = ports.CodeVerified, base.Add(time.Minute+time.Microsecond)
		require.NoError(t, s.Create(ctx, rec))
		got, err := s.Get(ctx, "org-a", rec.ID)
		require.NoError(t, err)
		requireSameProcess(t, rec, got)

		empty := ports.ProcessRecord{Process: ports.Process{ID: processID(2), OrgID: "org-a", State: ports.ProcessStateCreated,
			Channel: ports.ProcessChannel{Type: ports.ProcessChannelEmail}, CreatedAt: base, UpdatedAt: base, ExpiresAt: base.Add(time.Hour)}}
		require.NoError(t, s.Create(ctx, empty))
		got, err = s.Get(ctx, "org-a", empty.ID)
		require.NoError(t, err)
		requireSameProcess(t, empty, got)
		require.True(t, got.ValidatedAt.IsZero(), "a zero time stays zero")
		require.True(t, got.Verification.IsZero(), "a zero Verification stays zero")
	}},
	{name: "CreateDuplicateIDInAnyOrg", run: func(t *testing.T, s ports.ProcessStore, _ Features) {
		ctx := context.Background()
		require.NoError(t, s.Create(ctx, processRecord(processID(1), "org-a", base)))
		other := processRecord(processID(1), "org-b", base.Add(time.Second))
		require.ErrorIs(t, s.Create(ctx, other), ports.ErrProcessExists)
		_, err := s.Get(ctx, "org-b", processID(1))
		require.ErrorIs(t, err, ports.ErrProcessNotFound, "a refused create stores nothing")
	}},
	{name: "OtherOrgIsNotFound", run: func(t *testing.T, s ports.ProcessStore, f Features) {
		ctx := context.Background()
		rec := processRecord(processID(1), "org-a", base)
		require.NoError(t, s.Create(ctx, rec))
		_, err := s.Get(ctx, "org-b", rec.ID)
		require.ErrorIs(t, err, ports.ErrProcessNotFound)
		_, err = s.Get(ctx, "org-a", processID(9))
		require.ErrorIs(t, err, ports.ErrProcessNotFound)
		called := false
		_, err = s.Update(ctx, "org-b", rec.ID, func(*ports.ProcessRecord) error { called = true; return nil })
		require.ErrorIs(t, err, ports.ErrProcessNotFound)
		if d, ok := declared[ProcessDeleter](t, s, f.ProcessDelete); ok {
			err = d.Delete(ctx, "org-b", rec.ID, func(ports.ProcessRecord) error { called = true; return nil })
			require.ErrorIs(t, err, ports.ErrProcessNotFound)
		}
		require.False(t, called, "fn and check are never called for another org's process")
		got, err := s.Get(ctx, "org-a", rec.ID)
		require.NoError(t, err)
		requireSameProcess(t, rec, got)
	}},
	{name: "UpdateWritesWhatFnLeaves", run: func(t *testing.T, s ports.ProcessStore, _ Features) {
		ctx := context.Background()
		rec := processRecord(processID(1), "org-a", base)
		require.NoError(t, s.Create(ctx, rec))
		got, err := s.Update(ctx, "org-a", rec.ID, func(p *ports.ProcessRecord) error {
			requireSameProcess(t, rec, *p)
			p.State = ports.ProcessStateCancelled
			p.Verification.Code.State, p.Verification.Code.Hash = ports.CodeSuperseded, []byte("another hash")
			p.Verification.Failures = append(p.Verification.Failures, base.Add(time.Second))
			p.Verification.KeepUntil = base.Add(48 * time.Hour)
			p.CancelReason = "asked by the actor"
			p.CancelledAt = base.Add(time.Minute)
			p.UpdatedAt = base.Add(time.Minute)
			p.ID, p.OrgID = processID(7), "org-z" // ignored
			return nil
		})
		require.NoError(t, err)
		want := rec.Clone()
		want.State, want.CancelReason, want.CancelledAt, want.UpdatedAt = ports.ProcessStateCancelled, "asked by the actor", base.Add(time.Minute), base.Add(time.Minute)
		want.Verification.Code.State, want.Verification.Code.Hash = ports.CodeSuperseded, []byte("another hash")
		want.Verification.Failures = append(want.Verification.Failures, base.Add(time.Second))
		want.Verification.KeepUntil = base.Add(48 * time.Hour)
		requireSameProcess(t, want, got)
		stored, err := s.Get(ctx, "org-a", rec.ID)
		require.NoError(t, err)
		requireSameProcess(t, want, stored)
		_, err = s.Get(ctx, "org-z", processID(7))
		require.ErrorIs(t, err, ports.ErrProcessNotFound, "ID and OrgID cannot be changed")
	}},
	{name: "FailedUpdateLeavesTheProcessAsBefore", run: func(t *testing.T, s ports.ProcessStore, _ Features) {
		ctx := context.Background()
		rec := processRecord(processID(1), "org-a", base)
		require.NoError(t, s.Create(ctx, rec))
		boom := errors.New("boom")
		_, err := s.Update(ctx, "org-a", rec.ID, func(p *ports.ProcessRecord) error {
			// A use case whose last step fails: the state, the counts and the code were all
			// changed before it.
			p.State, p.ValidatedAt, p.FailedAttempts = ports.ProcessStateValidated, base.Add(time.Minute), 4
			p.UpdatedAt, p.CodesSent = base.Add(time.Minute), 2
			p.Verification.Code.State, p.Verification.Code.UsedAt = ports.CodeVerified, base.Add(time.Minute)
			p.Verification.Code.Attempts, p.Verification.KeepUntil = 2, base.Add(48*time.Hour)
			p.Verification.Code.Hash[0], p.Verification.Failures[0] = 'X', base // in place
			p.Verification.Failures = append(p.Verification.Failures, base)
			return boom
		})
		require.Same(t, boom, err, "fn's error comes back unchanged")
		got, err := s.Get(ctx, "org-a", rec.ID)
		require.NoError(t, err)
		requireSameProcess(t, processRecord(processID(1), "org-a", base), got) // every field, the Verification's too
	}},
	{name: "ValuesAreCopied", run: func(t *testing.T, s ports.ProcessStore, f Features) {
		ctx := context.Background()
		want := processRecord(processID(1), "org-a", base)
		in := want.Clone()
		require.NoError(t, s.Create(ctx, in))
		in.Verification.Code.Hash[0], in.Verification.Failures[0] = 'X', base // what was passed in

		out, err := s.Get(ctx, "org-a", want.ID)
		require.NoError(t, err)
		out.Verification.Code.Hash[1], out.Verification.Failures[1] = 'Y', base

		var kept *ports.ProcessRecord
		ret, err := s.Update(ctx, "org-a", want.ID, func(p *ports.ProcessRecord) error { kept = p; return nil })
		require.NoError(t, err)
		kept.Verification.Code.Hash[2] = 'Z'
		ret.Verification.Failures[0] = base.Add(time.Hour)

		page, err := s.List(ctx, ports.ProcessFilter{OrgID: "org-a", Now: base})
		require.NoError(t, err)
		require.Len(t, page.Processes, 1)
		page.Processes[0].Verification.Code.Hash[3], page.Processes[0].Verification.Failures[1] = 'W', base.Add(time.Hour)

		if d, ok := declared[ProcessDeleter](t, s, f.ProcessDelete); ok {
			no := errors.New("not deletable")
			require.Same(t, no, d.Delete(ctx, "org-a", want.ID, func(p ports.ProcessRecord) error {
				p.Verification.Code.Hash[4], p.Verification.Failures[0] = 'V', base.Add(2*time.Hour)
				return no
			}))
		}

		got, err := s.Get(ctx, "org-a", want.ID)
		require.NoError(t, err)
		requireSameProcess(t, want, got)
	}},
	{name: "DeleteChecksAtomically", needs: featureProcessDelete, run: func(t *testing.T, s ports.ProcessStore, _ Features) {
		ctx := context.Background()
		d := featureMethod[ProcessDeleter](t, s)
		rec := processRecord(processID(1), "org-a", base)
		require.NoError(t, s.Create(ctx, rec))
		no := errors.New("not deletable")
		var seen ports.ProcessRecord
		err := d.Delete(ctx, "org-a", rec.ID, func(p ports.ProcessRecord) error { seen = p; return no })
		require.Same(t, no, err)
		requireSameProcess(t, rec, seen)
		_, err = s.Get(ctx, "org-a", rec.ID)
		require.NoError(t, err, "a refused delete keeps the process")

		require.NoError(t, d.Delete(ctx, "org-a", rec.ID, func(ports.ProcessRecord) error { return nil }))
		_, err = s.Get(ctx, "org-a", rec.ID)
		require.ErrorIs(t, err, ports.ErrProcessNotFound)
		require.ErrorIs(t, d.Delete(ctx, "org-a", rec.ID, nil), ports.ErrProcessNotFound)

		rec2 := processRecord(processID(2), "org-a", base)
		require.NoError(t, s.Create(ctx, rec2))
		require.NoError(t, d.Delete(ctx, "org-a", rec2.ID, nil), "a nil check deletes")
		require.NoError(t, s.Create(ctx, rec2), "a deleted id can be used again")
	}},
	{name: "ListFiltersOrdersAndPages", run: func(t *testing.T, s ports.ProcessStore, _ Features) {
		ctx := context.Background()
		// org-a: 0..5 created a minute apart, inserted out of order; 2 cancelled, 4 expired
		// at base+10m (still CREATED in the store); org-b: 6.
		for _, i := range []int{3, 0, 5, 1, 4, 2} {
			rec := processRecord(processID(i), "org-a", base.Add(time.Duration(i)*time.Minute))
			switch i {
			case 2:
				rec.State = ports.ProcessStateCancelled
			case 4:
				rec.ExpiresAt = base.Add(10 * time.Minute)
			}
			require.NoError(t, s.Create(ctx, rec))
		}
		require.NoError(t, s.Create(ctx, processRecord(processID(6), "org-b", base)))
		// Same CreatedAt as 1: ordered by ID after it.
		same := processRecord(processID(10), "org-a", base.Add(time.Minute))
		require.NoError(t, s.Create(ctx, same))

		now := base.Add(10 * time.Minute)
		page, err := s.List(ctx, ports.ProcessFilter{OrgID: "org-a", Now: now})
		require.NoError(t, err)
		require.Equal(t, 7, page.Total)
		require.Equal(t, []string{processID(0), processID(1), processID(10), processID(2), processID(3), processID(4), processID(5)}, listIDs(page))

		page, err = s.List(ctx, ports.ProcessFilter{OrgID: "org-a", Now: now, States: []ports.ProcessState{ports.ProcessStateCreated}})
		require.NoError(t, err)
		require.Equal(t, []string{processID(0), processID(1), processID(10), processID(3), processID(5)}, listIDs(page),
			"a CREATED process past its expiry is not listed as CREATED")
		page, err = s.List(ctx, ports.ProcessFilter{OrgID: "org-a", Now: now, States: []ports.ProcessState{ports.ProcessStateExpired, ports.ProcessStateCancelled}})
		require.NoError(t, err)
		require.Equal(t, []string{processID(2), processID(4)}, listIDs(page))
		require.Equal(t, ports.ProcessStateCreated, page.Processes[1].State, "List reports the stored state")

		page, err = s.List(ctx, ports.ProcessFilter{OrgID: "org-a", Now: now, Offset: 2, Limit: 3})
		require.NoError(t, err)
		require.Equal(t, 7, page.Total)
		require.Equal(t, []string{processID(10), processID(2), processID(3)}, listIDs(page))
		page, err = s.List(ctx, ports.ProcessFilter{OrgID: "org-a", Now: now, Offset: 50, Limit: 3})
		require.NoError(t, err)
		require.Equal(t, 7, page.Total)
		require.Empty(t, page.Processes)

		page, err = s.List(ctx, ports.ProcessFilter{OrgID: "org-c", Now: now})
		require.NoError(t, err)
		require.Zero(t, page.Total)
		require.Empty(t, page.Processes)
	}},
	{name: "ExpireDue", run: func(t *testing.T, s ports.ProcessStore, _ Features) {
		ctx := context.Background()
		for i := range 4 {
			rec := processRecord(processID(i), fmt.Sprint("org-", i%2), base)
			rec.ExpiresAt = base.Add(time.Duration(i) * time.Hour)
			if i == 1 {
				rec.State = ports.ProcessStateValidated
			}
			require.NoError(t, s.Create(ctx, rec))
		}
		now := base.Add(2 * time.Hour) // 0 and 2 are due (2 exactly at its expiry); 1 is not CREATED
		n, err := s.ExpireDue(ctx, now, 1)
		require.NoError(t, err)
		require.Equal(t, 1, n, "a batch is bounded")
		n, err = s.ExpireDue(ctx, now, 10)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = s.ExpireDue(ctx, now, 10)
		require.NoError(t, err)
		require.Zero(t, n)
		for i, want := range []ports.ProcessState{ports.ProcessStateExpired, ports.ProcessStateValidated, ports.ProcessStateExpired, ports.ProcessStateCreated} {
			got, err := s.Get(ctx, fmt.Sprint("org-", i%2), processID(i))
			require.NoError(t, err)
			require.Equal(t, want, got.State, "process %d", i)
			if want == ports.ProcessStateExpired {
				require.True(t, now.Equal(got.UpdatedAt))
			}
		}
	}},
	{name: "ConcurrentUpdatesAreSerialised", run: func(t *testing.T, s ports.ProcessStore, _ Features) {
		ctx := context.Background()
		rec := processRecord(processID(1), "org-a", base)
		require.NoError(t, s.Create(ctx, rec))
		var errs atomic.Int32
		concurrent.Run(100, func(int) {
			_, err := s.Update(ctx, "org-a", rec.ID, func(p *ports.ProcessRecord) error {
				p.FailedAttempts++
				p.Verification.Code.Attempts++
				return nil
			})
			if err != nil {
				errs.Add(1)
			}
		})
		require.Zero(t, errs.Load())
		got, err := s.Get(ctx, "org-a", rec.ID)
		require.NoError(t, err)
		require.Equal(t, 100, got.FailedAttempts, "no update is lost")
		require.Equal(t, 101, got.Verification.Code.Attempts, "no change of the Verification is lost")
	}},
	{name: "ConcurrentTransitionSucceedsOnce", run: func(t *testing.T, s ports.ProcessStore, _ Features) {
		ctx := context.Background()
		rec := processRecord(processID(1), "org-a", base)
		require.NoError(t, s.Create(ctx, rec))
		errNotCreated := errors.New("not created")
		var wins, conflicts atomic.Int32
		concurrent.Run(50, func(int) {
			_, err := s.Update(ctx, "org-a", rec.ID, func(p *ports.ProcessRecord) error {
				if p.State != ports.ProcessStateCreated {
					return errNotCreated
				}
				p.State = ports.ProcessStateValidated
				return nil
			})
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, errNotCreated):
				conflicts.Add(1)
			}
		})
		require.EqualValues(t, 1, wins.Load())
		require.EqualValues(t, 49, conflicts.Load())
	}},
	{name: "ConcurrentDeleteAndUpdate", run: func(t *testing.T, s ports.ProcessStore, _ Features) {
		ctx := context.Background()
		rec := processRecord(processID(1), "org-a", base)
		require.NoError(t, s.Create(ctx, rec))
		var deleted, updated, notFound atomic.Int32
		concurrent.Run(40, func(i int) {
			var err error
			if i%2 == 0 {
				// The flows' deletion: an Update that sets Deleted.
				_, err = s.Update(ctx, "org-a", rec.ID, func(p *ports.ProcessRecord) error { p.Deleted = true; return nil })
				if err == nil {
					deleted.Add(1)
				}
			} else {
				_, err = s.Update(ctx, "org-a", rec.ID, func(p *ports.ProcessRecord) error { p.FailedAttempts++; return nil })
				if err == nil {
					updated.Add(1)
				}
			}
			if errors.Is(err, ports.ErrProcessNotFound) {
				notFound.Add(1)
			}
		})
		require.EqualValues(t, 1, deleted.Load(), "a process is deleted once")
		require.EqualValues(t, 40, deleted.Load()+updated.Load()+notFound.Load())
		_, err := s.Get(ctx, "org-a", rec.ID)
		require.ErrorIs(t, err, ports.ErrProcessNotFound)
	}},
	{name: "CancelledContext", run: func(t *testing.T, s ports.ProcessStore, _ Features) {
		ctx := context.Background()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		require.ErrorIs(t, s.Create(cctx, processRecord(processID(1), "org-a", base)), context.Canceled)
		_, err := s.Get(ctx, "org-a", processID(1))
		require.ErrorIs(t, err, ports.ErrProcessNotFound, "a cancelled create leaves nothing behind")
	}},
}

// ProcessOutboxStores are the stores RunProcessStoreOutbox checks: a process store and the
// outbox it writes the Outbox of its records (and the events of ExpireDue) into.
type ProcessOutboxStores struct {
	Processes ports.ProcessStore
	Outbox    ports.OutboxStore
}

// outboxEventsOf claims every pending entry of o due by far in the future and returns the
// events about the process id, in order. It leases what it claims: call it once per check.
func outboxEventsOf(t *testing.T, o ports.OutboxStore, ids ...string) []ports.LifecycleEvent {
	t.Helper()
	es, err := o.Claim(context.Background(), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), time.Hour, 10000)
	require.NoError(t, err)
	var out []ports.LifecycleEvent
	for _, e := range es {
		for _, id := range ids {
			if e.Event.AggregateID == id {
				out = append(out, e.Event)
			}
		}
	}
	return out
}

// RunProcessStoreOutbox checks the events a process store writes with its changes: an
// Update that deletes (ProcessRecord.Deleted) writes its Outbox with the delete, and
// neither when fn refuses; ExpireDue writes the expired event of each process it expires,
// and only of those.
func RunProcessStoreOutbox(t *testing.T, f Features, newStores func(t *testing.T) ProcessOutboxStores) {
	runSuite(t, f, newStores, processStoreOutboxCases)
}

// processEvent is an event of a test about the process id of org-a, at outboxStart.
func processEvent(typ, id string) ports.LifecycleEvent {
	ev := ports.NewLifecycleEvent(typ, ports.AggregateProcess, id, outboxStart)
	ev.OrgID, ev.Data = "org-a", map[string]string{"state": string(ports.ProcessStateCreated)}
	return ev
}

// processStoreOutboxCases are the cases of RunProcessStoreOutbox.
var processStoreOutboxCases = []suiteCase[ProcessOutboxStores]{
	{name: "DeleteWritesItsOutboxWithTheDelete", run: func(t *testing.T, s ProcessOutboxStores, _ Features) {
		ctx := context.Background()
		kept, gone := processRecord(processID(1), "org-a", outboxStart), processRecord(processID(2), "org-a", outboxStart)
		require.NoError(t, s.Processes.Create(ctx, kept))
		require.NoError(t, s.Processes.Create(ctx, gone))

		no := errors.New("not deletable")
		refused := processEvent("test.deleted", kept.ID)
		_, err := s.Processes.Update(ctx, "org-a", kept.ID, func(r *ports.ProcessRecord) error {
			r.Deleted, r.Outbox = true, append(r.Outbox, refused)
			return no
		})
		require.Same(t, no, err)
		_, err = s.Processes.Get(ctx, "org-a", kept.ID)
		require.NoError(t, err, "a refused delete keeps the process")

		deleted := processEvent("test.deleted", gone.ID)
		got, err := s.Processes.Update(ctx, "org-a", gone.ID, func(r *ports.ProcessRecord) error {
			r.Deleted, r.Outbox = true, append(r.Outbox, deleted)
			return nil
		})
		require.NoError(t, err)
		require.True(t, got.Deleted)
		require.Empty(t, got.Outbox)
		_, err = s.Processes.Get(ctx, "org-a", gone.ID)
		require.ErrorIs(t, err, ports.ErrProcessNotFound, "an Update that sets Deleted deletes")
		_, err = s.Processes.Update(ctx, "org-a", gone.ID, func(*ports.ProcessRecord) error { return nil })
		require.ErrorIs(t, err, ports.ErrProcessNotFound)

		evs := outboxEventsOf(t, s.Outbox, kept.ID, gone.ID)
		require.Len(t, evs, 1, "the event of the delete, and none of the refused one")
		require.Equal(t, deleted.ID, evs[0].ID)
		require.Equal(t, deleted.Data, evs[0].Data)
		require.EqualValues(t, 2, evs[0].AggregateVersion, "created (1), then deleted (2)")

		require.NoError(t, s.Processes.Create(ctx, gone), "a deleted id can be used again")
		again, err := s.Processes.Get(ctx, "org-a", gone.ID)
		require.NoError(t, err)
		require.False(t, again.Deleted)
	}},
	{name: "ExpireDueWritesTheExpiredEvents", run: func(t *testing.T, s ProcessOutboxStores, _ Features) {
		ctx := context.Background()
		var ids []string
		for i := range 4 {
			rec := processRecord(processID(i), fmt.Sprint("org-", i%2), outboxStart)
			rec.ExpiresAt = outboxStart.Add(time.Duration(i) * time.Hour)
			if i == 1 {
				rec.State = ports.ProcessStateValidated
			}
			require.NoError(t, s.Processes.Create(ctx, rec))
			ids = append(ids, rec.ID)
		}
		now := outboxStart.Add(2 * time.Hour) // 0 and 2 are due; 1 is not CREATED; 3 is not due
		n, err := s.Processes.ExpireDue(ctx, now, 1)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = s.Processes.ExpireDue(ctx, now, 10)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = s.Processes.ExpireDue(ctx, now, 10)
		require.NoError(t, err)
		require.Zero(t, n, "nothing left: no more events")

		evs := outboxEventsOf(t, s.Outbox, ids...)
		require.Len(t, evs, 2, "one expired event per expired process")
		got := map[string]ports.LifecycleEvent{}
		for _, ev := range evs {
			got[ev.AggregateID] = ev
		}
		for _, i := range []int{0, 2} {
			ev, ok := got[processID(i)]
			require.True(t, ok, "process %d expired: its event is stored", i)
			require.Equal(t, ports.EventProcessExpired, ev.Type)
			require.Equal(t, ports.AggregateProcess, ev.AggregateType)
			require.Equal(t, fmt.Sprint("org-", i%2), ev.OrgID)
			require.Equal(t, ports.OutcomeSucceeded, ev.Outcome)
			require.True(t, now.Equal(ev.Time))
			require.Equal(t, map[string]string{"state": string(ports.ProcessStateExpired), "channel": "SMS"}, ev.Data)
			require.Empty(t, ev.Actor)
			require.EqualValues(t, 2, ev.AggregateVersion, "created (1), then expired (2)")
			p, err := s.Processes.Get(ctx, ev.OrgID, ev.AggregateID)
			require.NoError(t, err)
			require.EqualValues(t, 2, p.Version)
		}
	}},
	{name: "VersionGrowsByOnePerChangeAndStampsTheEvents", run: func(t *testing.T, s ProcessOutboxStores, _ Features) {
		ctx := context.Background()
		rec := processRecord(processID(1), "org-a", outboxStart)
		rec.Version = 41 // ignored: the store counts
		created := processEvent("test.created", rec.ID)
		other := processEvent("test.other", "another-aggregate")
		rec.Outbox = []ports.LifecycleEvent{created, other}
		require.NoError(t, s.Processes.Create(ctx, rec))
		require.Zero(t, rec.Outbox[0].AggregateVersion, "the caller's events are not changed")
		got, err := s.Processes.Get(ctx, "org-a", rec.ID)
		require.NoError(t, err)
		require.EqualValues(t, 1, got.Version)
		var updates []string
		for v := int64(2); v <= 3; v++ {
			ev := processEvent("test.updated", rec.ID)
			updates = append(updates, ev.ID)
			up, err := s.Processes.Update(ctx, "org-a", rec.ID, func(r *ports.ProcessRecord) error {
				r.Version, r.Outbox = 0, append(r.Outbox, ev)
				return nil
			})
			require.NoError(t, err)
			require.Equal(t, v, up.Version, "one more per Update, whatever fn left")
		}
		_, err = s.Processes.Update(ctx, "org-a", rec.ID, func(*ports.ProcessRecord) error { return errors.New("no") })
		require.Error(t, err)
		got, err = s.Processes.Get(ctx, "org-a", rec.ID)
		require.NoError(t, err)
		require.EqualValues(t, 3, got.Version, "a failed Update stores no version")

		versions := map[string]int64{}
		for _, ev := range outboxEventsOf(t, s.Outbox, rec.ID, other.AggregateID) {
			versions[ev.ID] = ev.AggregateVersion
		}
		require.Equal(t, map[string]int64{created.ID: 1, other.ID: 0, updates[0]: 2, updates[1]: 3}, versions,
			"the events about the process carry the version their write stored; others are left as they are")
	}},
}
