package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/postgres"
	"github.com/verifykit/verifykit/adapters/postgres/pgtest"
	"github.com/verifykit/verifykit/adapters/webhook/webhooktest"
	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
	"github.com/verifykit/verifykit/ports/porttest"
)

// requireOutboxMatchesTheChanges checks the outbox against the records after the fault
// test's flows ran while connections were killed: every stored change has its event and no
// event lacks its change (a request's resends equal its code_resent events, an approval has
// exactly one approved event, a process's codes its created and code_resent events, a
// deactivated method exactly one deactivated event, a deleted process exactly one deleted
// event and a stored one none).
func requireOutboxMatchesTheChanges(t *testing.T, base *postgres.DB, requests, procs *ids) {
	t.Helper()
	ctx := context.Background()
	entries, err := base.Outbox().Entries(ctx)
	require.NoError(t, err)
	count := map[string]int{}   // type + " " + aggregate id
	deleted := map[string]int{} // aggregate id -> succeeded deletion events
	for _, e := range entries {
		count[e.Event.Type+" "+e.Event.AggregateID]++
		if e.Event.Type == otpprocess.EventDeleted && e.Event.Outcome == ports.OutcomeSucceeded {
			deleted[e.Event.AggregateID]++
		}
	}
	for _, id := range requests.list() {
		r, err := base.PersonRequestStore().Get(ctx, id)
		require.NoError(t, err)
		require.Equal(t, 1, count[personrequest.EventCreated+" "+id], "request %s: one created event", id)
		require.Equal(t, r.UploadVersion-1, count[personrequest.EventCodeResent+" "+id], "request %s: a code_resent event per stored resend", id)
		approved := 0
		if r.Status == ports.PersonRequestApproved {
			approved = 1
		}
		require.Equal(t, approved, count[personrequest.EventApproved+" "+id], "request %s: approved exactly when stored approved", id)
	}
	for _, id := range procs.list() {
		p, err := base.ProcessStore().Get(ctx, faultOrg, id)
		if errors.Is(err, ports.ErrProcessNotFound) {
			// Deleted: its event was written with the delete, in the same transaction.
			require.Equal(t, 1, deleted[id], "process %s: one deleted event exactly when deleted", id)
			require.Equal(t, 1, count[otpprocess.EventCreated+" "+id], "process %s", id)
			continue
		}
		require.NoError(t, err)
		require.Zero(t, deleted[id], "process %s: no deleted event while it is stored", id)
		require.Equal(t, 1, count[otpprocess.EventCreated+" "+id], "process %s", id)
		require.Equal(t, p.CodesSent-1, count[otpprocess.EventCodeResent+" "+id], "process %s: a code_resent event per stored code", id)
		want := map[string]int{}
		want[string(p.State)]++
		require.Equal(t, want[string(otpprocess.StateValidated)], count[otpprocess.EventValidated+" "+id], "process %s validated", id)
		require.Equal(t, want[string(otpprocess.StateCancelled)], count[otpprocess.EventCancelled+" "+id], "process %s cancelled", id)
	}
	ms, err := base.AuthMethodStore().AuthMethods(ctx, "olga")
	require.NoError(t, err)
	for _, m := range ms {
		want := 0
		if !m.IsActive {
			want = 1
		}
		require.Equal(t, want, count[authmethod.EventDeactivated+" "+m.ID], "method %s: deactivated exactly when stored inactive", m.ID)
	}
	t.Logf("%d events in the outbox", len(entries))
}

// TestTwoDispatchersDeliverEachEventOnce runs two dispatchers, each on its own pool, over
// one outbox: the receiver gets every event exactly once and neither dispatcher fails.
func TestTwoDispatchersDeliverEachEventOnce(t *testing.T) {
	ctx := context.Background()
	base := pgtest.New(t)
	const n = 300
	for i := range n {
		require.NoError(t, base.Outbox().Append(ctx, ports.NewLifecycleEvent("test.event", "test", fmt.Sprint(i), start)))
	}
	var outboxes []ports.OutboxStore
	for range 2 {
		pool, _ := namedPool(t)
		db, err := postgres.New(pool, postgres.Options{Schema: base.Schema()})
		require.NoError(t, err)
		outboxes = append(outboxes, db.Outbox())
	}
	webhooktest.DeliverOnceEach(t, fixedClock(start.Add(time.Minute)), n, outboxes...)
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// TestProcessStoreOutbox runs the outbox checks of the process store: a delete writes its
// events in its transaction, ExpireDue the expired event of each process it expires.
func TestProcessStoreOutbox(t *testing.T) {
	porttest.RunProcessStoreOutbox(t, features, func(t *testing.T) porttest.ProcessOutboxStores {
		db := pgtest.New(t)
		return porttest.ProcessOutboxStores{Processes: db.ProcessStore(), Outbox: db.Outbox()}
	})
}
