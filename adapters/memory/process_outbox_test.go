package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/ports"
	"github.com/verifykit/verifykit/ports/porttest"
)

func TestProcessStoreOutbox(t *testing.T) {
	porttest.RunProcessStoreOutbox(t, features, func(*testing.T) porttest.ProcessOutboxStores {
		s, o := memory.NewProcessStore(), memory.NewOutbox()
		s.PublishTo(o)
		return porttest.ProcessOutboxStores{Processes: s, Outbox: o}
	})
}

// eventsOf returns the events of k's outbox about the aggregate id, of type typ.
func (k *journeyKit) eventsOf(typ, id string) []ports.LifecycleEvent {
	var out []ports.LifecycleEvent
	for _, ev := range k.outbox.Events() {
		if ev.Type == typ && ev.AggregateID == id {
			out = append(out, ev)
		}
	}
	return out
}

// TestProcessDeletionEventIsStoredExactlyWithTheDelete: a deletion's event is in the outbox
// exactly when the process was deleted (forced or not); a refused deletion stores a refused
// event and keeps the process; ExpireDue stores one expired event per process it expires.
func TestProcessDeletionEventIsStoredExactlyWithTheDelete(t *testing.T) {
	ctx := context.Background()
	k := newJourneyKit(t)
	k.tokens.Add("tok-no-force", ports.Claims{Subject: "org-reader", OrgID: "org-a", ExpiresAt: k.clock.Now().Add(365 * 24 * time.Hour),
		Scopes: []string{otpprocess.DefaultAdminScope, otpprocess.DefaultActorScope}})
	create := otpprocess.CreateRequest{Token: tokOrg, OrgID: "org-a",
		Actor: otpprocess.Actor{Name: "Ana", MSISDN: ports.ProcessPhone{CountryCode: "34", PhoneNumber: "600111222"},
			IdentityDocument: otpprocess.IdentityDocument{DocumentType: "DNI", DocumentNumber: "12345678Z"}},
		TwoFactorType: otpprocess.TwoFactorDocumentNumber, Channel: otpprocess.Channel{Type: otpprocess.ChannelSMS}}

	// A CREATED process: deleted without force.
	p, err := k.procs.Create(ctx, create)
	require.NoError(t, err)
	state, err := k.procs.Delete(ctx, otpprocess.DeleteRequest{Token: tokOrg, OrgID: "org-a", ID: p.Process.ID})
	require.NoError(t, err)
	require.Equal(t, otpprocess.StateCreated, state)
	evs := k.eventsOf(otpprocess.EventDeleted, p.Process.ID)
	require.Len(t, evs, 1)
	require.Equal(t, ports.OutcomeSucceeded, evs[0].Outcome)
	require.Equal(t, map[string]string{"state": "CREATED", "forced": "false"}, evs[0].Data)
	require.Equal(t, "org-admin", evs[0].Actor)
	require.Equal(t, "org-a", evs[0].OrgID)
	require.EqualValues(t, 2, evs[0].AggregateVersion, "created (1), deleted (2)")
	require.EqualValues(t, 1, k.eventsOf(otpprocess.EventCreated, p.Process.ID)[0].AggregateVersion)

	// A cancelled process: refused without force and without the permission, then forced.
	k.clock.Advance(time.Hour)
	p2, err := k.procs.Create(ctx, create)
	require.NoError(t, err)
	_, err = k.procs.Cancel(ctx, otpprocess.CancelRequest{Token: tokOrg, OrgID: "org-a", ID: p2.Process.ID, Reason: "test"})
	require.NoError(t, err)
	_, err = k.procs.Delete(ctx, otpprocess.DeleteRequest{Token: tokOrg, OrgID: "org-a", ID: p2.Process.ID})
	require.Error(t, err)
	_, err = k.procs.Delete(ctx, otpprocess.DeleteRequest{Token: "tok-no-force", OrgID: "org-a", ID: p2.Process.ID, Force: true})
	require.Error(t, err)
	_, err = k.procs.Get(ctx, otpprocess.Request{Token: tokOrg, OrgID: "org-a", ID: p2.Process.ID})
	require.NoError(t, err, "refused deletions keep the process")
	evs = k.eventsOf(otpprocess.EventDeleted, p2.Process.ID)
	require.Len(t, evs, 2, "one refused event per refused deletion")
	for i, reason := range []string{"force_required", "missing_permission"} {
		require.Equal(t, ports.OutcomeRefused, evs[i].Outcome)
		require.Equal(t, reason, evs[i].Reason)
	}
	state, err = k.procs.Delete(ctx, otpprocess.DeleteRequest{Token: tokOrg, OrgID: "org-a", ID: p2.Process.ID, Force: true})
	require.NoError(t, err)
	require.Equal(t, otpprocess.StateCancelled, state)
	evs = k.eventsOf(otpprocess.EventDeleted, p2.Process.ID)
	require.Len(t, evs, 3)
	require.Equal(t, ports.OutcomeSucceeded, evs[2].Outcome)
	require.Equal(t, "true", evs[2].Data["forced"])

	// A missing process: no event.
	_, err = k.procs.Delete(ctx, otpprocess.DeleteRequest{Token: tokOrg, OrgID: "org-a", ID: p.Process.ID, Force: true})
	require.Error(t, err)
	require.Len(t, k.eventsOf(otpprocess.EventDeleted, p.Process.ID), 1, "deleting a deleted process stores nothing")

	// ExpireDue: one expired event per process it expires.
	k.clock.Advance(time.Hour)
	p3, err := k.procs.Create(ctx, create)
	require.NoError(t, err)
	k.clock.Advance(30 * 24 * time.Hour)
	n, err := k.procs.ExpireDue(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	evs = k.eventsOf(otpprocess.EventExpired, p3.Process.ID)
	require.Len(t, evs, 1)
	require.Equal(t, "EXPIRED", evs[0].Data["state"])
	require.EqualValues(t, 2, evs[0].AggregateVersion, "created (1), expired (2)")
	n, err = k.procs.ExpireDue(ctx, 10)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Len(t, k.eventsOf(otpprocess.EventExpired, p3.Process.ID), 1)
}
