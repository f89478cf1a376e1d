package ports_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

func TestProfileEventRoundTrips(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 0, 0, 1, time.UTC)
	id := uuid.NewString()
	for _, tc := range []struct {
		name     string
		a        ports.ProfileAuditEvent
		typ      string
		sameID   bool
		wantData map[string]string
	}{
		{"a reset with every field", ports.ProfileAuditEvent{ID: id, Action: ports.AuditIdentificationReset, ActorID: "op", UserID: "u1", RequestID: "r1",
			Fields: []string{"contact.email", "address.city"}, From: ports.IdentificationApproved, To: ports.IdentificationNone, At: at},
			ports.EventProfileIdentificationReset, true,
			map[string]string{"action": "identification_reset", "request_id": "r1", "fields": "contact.email,address.city", "from": "approved", "to": "none"}},
		{"a submission", ports.ProfileAuditEvent{ID: id, Action: ports.AuditIdentificationSubmitted, ActorID: "u1", UserID: "u1", From: ports.IdentificationNone, To: ports.IdentificationPending, At: at},
			ports.EventProfileIdentificationSubmitted, true, map[string]string{"action": "identification_submitted", "from": "none", "to": "pending"}},
		{"an id that is no UUID is kept in data", ports.ProfileAuditEvent{ID: "e1", Action: ports.AuditResetRequested, ActorID: "u1", UserID: "u1", RequestID: "r2", At: at},
			ports.EventProfileResetRequestCreated, false, map[string]string{"action": "reset_requested", "audit_id": "e1", "request_id": "r2"}},
		{"an upper-case UUID is not canonical", ports.ProfileAuditEvent{ID: "A0000000-0000-0000-0000-000000000001", Action: ports.AuditResetRequestApproved, UserID: "u1", At: at},
			ports.EventProfileResetRequestApproved, false, map[string]string{"action": "reset_request_approved", "audit_id": "A0000000-0000-0000-0000-000000000001"}},
		{"a host's own action", ports.ProfileAuditEvent{ID: id, Action: "note_added", ActorID: "host", UserID: "u2", At: at},
			"profile.note_added", true, map[string]string{"action": "note_added"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := ports.ProfileEvent(tc.a, "org-1")
			require.Equal(t, tc.typ, ev.Type)
			require.Equal(t, ports.AggregateProfile, ev.AggregateType)
			require.Equal(t, tc.a.UserID, ev.AggregateID)
			require.Equal(t, "org-1", ev.OrgID)
			require.Equal(t, tc.a.ActorID, ev.Actor)
			require.Equal(t, ports.OutcomeSucceeded, ev.Outcome)
			require.True(t, tc.a.At.Equal(ev.Time))
			require.Equal(t, tc.wantData, ev.Data)
			require.Equal(t, tc.sameID, ev.ID == tc.a.ID)
			_, err := uuid.Parse(ev.ID)
			require.NoError(t, err, "the event's id is a UUID whatever the entry's")
			back, ok := ports.ProfileAuditEventOf(ev)
			require.True(t, ok)
			require.Equal(t, tc.a, back)
		})
	}
}

func TestProfileAuditEventOfOlderAndOtherEvents(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	_, ok := ports.ProfileAuditEventOf(ports.NewLifecycleEvent("personrequest.created", "person_request", "pr-1", at))
	require.False(t, ok, "not a profile event")

	// As the flow wrote them before events carried their action.
	for typ, action := range map[string]ports.ProfileAuditAction{
		"profile.reset_request_declined":        ports.AuditResetRequestDeclined,
		"profile.submitted":                     ports.AuditIdentificationSubmitted,
		"profile.identification_status_changed": ports.AuditIdentificationStatus,
		"profile.something_else":                "something_else",
	} {
		ev := ports.NewLifecycleEvent(typ, ports.AggregateProfile, "u1", at)
		ev.Actor, ev.Data = "op", map[string]string{"request_id": "r1"}
		a, ok := ports.ProfileAuditEventOf(ev)
		require.True(t, ok)
		require.Equal(t, ports.ProfileAuditEvent{ID: ev.ID, Action: action, ActorID: "op", UserID: "u1", RequestID: "r1", At: at}, a, typ)
	}
}

func TestValidateProfileAuditEvent(t *testing.T) {
	require.NoError(t, ports.ValidateProfileAuditEvent(ports.ProfileAuditEvent{Fields: []string{"a.b", "c"}}))
	err := ports.ValidateProfileAuditEvent(ports.ProfileAuditEvent{Fields: []string{"a,b", "c", "d,"}})
	var ve *verifykit.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, verifykit.KindInvalidInput, ve.Kind)
	require.Equal(t, []string{"Fields[0]", "Fields[2]"}, []string{ve.Invalid[0].Entry, ve.Invalid[1].Entry})
}

func TestPurgeRequestValidate(t *testing.T) {
	for _, tc := range []struct {
		limit int
		ok    bool
	}{{0, true}, {1, true}, {1000, true}, {-1, false}} {
		err := ports.PurgeRequest{Limit: tc.limit}.Validate()
		if tc.ok {
			require.NoError(t, err, tc.limit)
			continue
		}
		require.Equal(t, verifykit.KindInvalidInput, verifykit.KindOf(err))
	}
}
