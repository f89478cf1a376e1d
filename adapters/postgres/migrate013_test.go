package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/postgres"
	"github.com/verifykit/verifykit/adapters/postgres/pgtest"
	"github.com/verifykit/verifykit/ports"
)

// migrateUpTo applies the embedded migrations 1..version to the schema of opts as Migrate
// does (each with its schema_migrations row), so a test can put the data of an older
// release in before Migrate applies the rest.
func migrateUpTo(t *testing.T, pool *pgxpool.Pool, opts postgres.Options, version int) {
	t.Helper()
	ctx := context.Background()
	ms, err := postgres.Migrations()
	require.NoError(t, err)
	schema := pgx.Identifier{opts.Schema}.Sanitize()
	versions := pgx.Identifier{opts.Schema, "schema_migrations"}.Sanitize()
	_, err = pool.Exec(ctx, "create schema "+schema+"; create table "+versions+
		" (version integer primary key, name text not null, applied_at timestamptz not null default now(), checksum text)")
	require.NoError(t, err)
	for _, m := range ms[:version] {
		require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "set local search_path to "+schema+";\n"+m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "insert into "+versions+" (version, name, checksum) values ($1, $2, $3)", m.Version, m.Name, m.Checksum)
			return err
		}), m.Name)
	}
}

// TestMigration013MovesTheAuditLogIntoTheOutbox puts in what a schema at migration 012 may
// hold — audit rows from before the outbox, audit rows with the event the flow wrote beside
// them (delivered or not), a host's own rows with ids that are no UUIDs or are repeated,
// other events delivered and pending — and checks that after 013 the audit log reads the
// same entries in the same order, that nothing is sent again, and that the audit table is
// gone.
func TestMigration013MovesTheAuditLogIntoTheOutbox(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	opts := pgtest.NewSchema(t, pool)
	migrateUpTo(t, pool, opts, 12)
	table := func(name string) string { return pgx.Identifier{opts.Schema, name}.Sanitize() }

	t0 := time.Date(2026, 5, 1, 9, 0, 0, 123456000, time.UTC)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	u2, u3, u6 := uuid.NewString(), uuid.NewString(), uuid.NewString()
	want := []ports.ProfileAuditEvent{
		// From before the outbox: no event beside it, an id that is no UUID.
		{ID: "legacy-1", Action: ports.AuditIdentificationReset, ActorID: "op", UserID: "u1", RequestID: "r-1",
			Fields: []string{"contact.email", "address.city"}, From: ports.IdentificationApproved, To: ports.IdentificationNone, At: at(0)},
		// No event either, a UUID id.
		{ID: u2, Action: ports.AuditResetRequested, ActorID: "u1", UserID: "u1", RequestID: "r-2", At: at(1)},
		// With its event, delivered.
		{ID: u3, Action: ports.AuditIdentificationSubmitted, ActorID: "u1", UserID: "u1", From: ports.IdentificationNone, To: ports.IdentificationPending, At: at(2)},
		// A host's own, of a user without a profile.
		{ID: "host-9", Action: "custom_thing", ActorID: "host", UserID: "u2", At: at(3)},
		// A host's own reusing a taken id.
		{ID: u2, Action: ports.AuditResetRequestDeclined, ActorID: "op", UserID: "u1", RequestID: "r-2", At: at(4)},
		// With its event, still pending.
		{ID: u6, Action: ports.AuditResetRequested, ActorID: "u1", UserID: "u1", RequestID: "r-3", At: at(5)},
	}
	// The events the flow of 012 wrote beside the entries 2 and 5 (their own ids, no action).
	oldEvent := func(a ports.ProfileAuditEvent) ports.LifecycleEvent {
		ev := ports.NewLifecycleEvent(map[ports.ProfileAuditAction]string{
			ports.AuditIdentificationSubmitted: "profile.submitted", ports.AuditResetRequested: "profile.reset_request_created",
		}[a.Action], "profile", a.UserID, a.At)
		ev.OrgID, ev.Actor, ev.Data = "org-1", a.ActorID, map[string]string{}
		if a.RequestID != "" {
			ev.Data["request_id"] = a.RequestID
		}
		if a.From != "" || a.To != "" {
			ev.Data["from"], ev.Data["to"] = string(a.From), string(a.To)
		}
		return ev
	}
	e3, e6 := oldEvent(want[2]), oldEvent(want[5])
	otherPending := ports.NewLifecycleEvent("personrequest.created", "person_request", uuid.NewString(), at(6))
	otherDelivered := ports.NewLifecycleEvent("personrequest.created", "person_request", uuid.NewString(), at(7))

	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue("insert into " + table("profiles") + " (user_id, organization_id, status, profile, documents, mandatory_fields, pending_fields, reset_by)" +
			" values ('u1', 'org-1', 'pending', '{}', '[]', '{}', '{}', '')")
		insertEvent := func(ev ports.LifecycleEvent, state string, next time.Time) {
			b.Queue("insert into "+table("outbox")+" (id, type, occurred_at, org_id, aggregate_type, aggregate_id, aggregate_version, event, state, next_attempt_at)"+
				" values ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9)", ev.ID, ev.Type, ev.Time, ev.OrgID, ev.AggregateType, ev.AggregateID, ev, state, next)
		}
		// In the order they were written: each event with its audit entry.
		for i, a := range want {
			switch i {
			case 2:
				insertEvent(e3, "delivered", at(2).Add(time.Second))
			case 5:
				insertEvent(e6, "pending", at(5))
			}
			b.Queue("insert into "+table("profile_audit_events")+" (id, action, actor_id, user_id, request_id, fields, from_status, to_status, at)"+
				" values ($1, $2, $3, $4, $5, $6, $7, $8, $9)", a.ID, string(a.Action), a.ActorID, a.UserID, a.RequestID,
				append([]string{}, a.Fields...), string(a.From), string(a.To), a.At)
		}
		insertEvent(otherPending, "pending", at(6))
		insertEvent(otherDelivered, "delivered", at(7).Add(time.Second))
		return tx.SendBatch(ctx, b).Close()
	}))

	require.NoError(t, postgres.Migrate(ctx, pool, opts))
	db, err := postgres.New(pool, opts)
	require.NoError(t, err)

	got, err := db.ProfileAuditLog().Events(ctx, "")
	require.NoError(t, err)
	for i := range got {
		got[i].At = got[i].At.UTC()
	}
	require.Equal(t, want, got, "the same entries, ids and order")
	got, err = db.ProfileAuditLog().Events(ctx, "u2")
	require.NoError(t, err)
	require.Equal(t, []string{"host-9"}, []string{got[0].ID})

	entries, err := db.Outbox().Entries(ctx)
	require.NoError(t, err)
	byType := map[string][]ports.OutboxEntry{}
	for _, e := range entries {
		byType[e.Event.AggregateType] = append(byType[e.Event.AggregateType], e)
	}
	require.Len(t, byType["profile"], 6, "one event per audit entry, none twice")
	for _, e := range byType["profile"] {
		a, _ := ports.ProfileAuditEventOf(e.Event)
		switch e.Event.ID {
		case e6.ID:
			require.Equal(t, ports.OutboxPending, e.State, "a pending event stays pending")
			require.Equal(t, "reset_requested", e.Event.Data["action"], "and carries its action now")
		case e3.ID:
			require.Equal(t, ports.OutboxDelivered, e.State)
			require.True(t, at(2).Add(time.Second).Equal(e.DeliveredAt), "delivered when it was acknowledged")
		default:
			require.Equal(t, ports.OutboxDelivered, e.State, "%s: a moved entry is not sent", a.ID)
			require.True(t, a.At.Equal(e.DeliveredAt), a.ID)
			if a.UserID == "u1" {
				require.Equal(t, "org-1", e.Event.OrgID, "in the profile's organisation")
			}
		}
	}
	for _, e := range byType["person_request"] {
		if e.Event.ID == otherDelivered.ID {
			require.True(t, at(7).Add(time.Second).Equal(e.DeliveredAt), "delivered_at is filled in from the Ack's time")
		}
	}
	claimed, err := db.Outbox().Claim(ctx, at(60), time.Minute, 100)
	require.NoError(t, err)
	require.Equal(t, []string{e6.ID, otherPending.ID}, []string{claimed[0].Event.ID, claimed[1].Event.ID})
	require.Len(t, claimed, 2, "only what was pending is due")

	var gone *string
	require.NoError(t, pool.QueryRow(ctx, "select to_regclass($1)::text", opts.Schema+".profile_audit_events").Scan(&gone))
	require.Nil(t, gone, "the audit table is dropped")

	n, err := db.Outbox().Purge(ctx, ports.PurgeRequest{DeliveredBefore: at(60), KeepAggregateTypes: ports.AuditAggregateTypes})
	require.NoError(t, err)
	require.Equal(t, 1, n, "only the delivered person-request event goes")
	got, err = db.ProfileAuditLog().Events(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, got, 5)

	// What the flows write from now on comes after the history.
	_, err = db.ProfileStore().Update(ctx, "u1", func(r *ports.ProfileRecord) error {
		r.Outbox = append(r.Outbox, ports.ProfileEvent(ports.ProfileAuditEvent{ID: uuid.NewString(), Action: ports.AuditIdentificationStatus,
			ActorID: "op", UserID: "u1", From: ports.IdentificationPending, To: ports.IdentificationApproved, At: at(-10)}, r.OrganizationID))
		return nil
	})
	require.NoError(t, err)
	got, err = db.ProfileAuditLog().Events(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, got, 6)
	require.Equal(t, ports.AuditIdentificationStatus, got[5].Action, "last, whatever its time")
}
