package authmethod_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/ports"
)

// readToken registers a token for personID with the read scope (and the deactivation
// scope), valid for an hour.
func (f *fixture) readToken(t testing.TB, personID string, scopes ...string) string {
	t.Helper()
	if scopes == nil {
		scopes = []string{authmethod.ReadScope, authmethod.Scope}
	}
	tok := "read-" + personID + "-" + strings.Join(scopes, ",")
	f.tokens.Add(tok, ports.Claims{Subject: "user-" + personID, PersonID: personID,
		Scopes: scopes, ExpiresAt: f.clock.Now().Add(time.Hour)})
	return tok
}

func methodIDs(ms []authmethod.AuthMethod) []string {
	ids := make([]string, 0, len(ms))
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}

func TestListShowsTheMovedPrimary(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.addPerson(t, "olena", date(1990, 1, 1))
	f.addMethod(t, "olena", "tp", authmethod.TypeThirdPerson, 48*time.Hour, primary)
	f.addMethod(t, "olena", "otp", authmethod.TypeOTP, 24*time.Hour)
	tok := f.readToken(t, "olena")

	before, err := f.svc.List(ctx, authmethod.ListRequest{Token: tok})
	require.NoError(t, err)
	require.Equal(t, "olena", before.PersonID)
	require.Equal(t, []string{"tp", "otp"}, methodIDs(before.Methods))
	require.True(t, before.Methods[0].IsPrimary)

	_, err = f.svc.Deactivate(ctx, authmethod.DeactivateRequest{Token: tok, MethodID: "tp"})
	require.NoError(t, err)
	after, err := f.svc.List(ctx, authmethod.ListRequest{Token: tok, PersonID: "olena"})
	require.NoError(t, err)
	require.False(t, after.Methods[0].IsActive, "the ended method is listed, ended")
	require.True(t, after.Methods[1].IsPrimary, "the OTP method became primary")
}

func TestListRules(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.addPerson(t, "minor", date(2015, 3, 1)) // 11: cannot deactivate alone, may read
	f.addMethod(t, "minor", "m-otp", authmethod.TypeOTP, time.Hour, primary)
	f.addPerson(t, "mother", date(1985, 3, 1))
	f.addRelationship(t, "r1", "minor", "mother")
	f.addPerson(t, "stranger", date(1980, 3, 1))
	f.addPerson(t, "lapsed", date(1980, 3, 1))
	f.addRelationship(t, "r2", "minor", "lapsed", relActiveTo(today.Add(-time.Hour)))
	f.addPerson(t, "unverified", date(1980, 3, 1), withVerification("NOT_VERIFIED"))
	f.addRelationship(t, "r3", "minor", "unverified")
	f.addPerson(t, "gone", date(1980, 3, 1), withStatus("inactive", false))
	f.tokens.Add("no-person", ports.Claims{Subject: "client", Scopes: []string{authmethod.ReadScope}, ExpiresAt: today.Add(time.Hour)})
	f.tokens.Add("expired", ports.Claims{PersonID: "minor", Scopes: []string{authmethod.ReadScope}, ExpiresAt: today})

	cases := []struct {
		name     string
		token    string
		personID string
		kind     verifykit.Kind // KindNone: listed
		msg      string
	}{
		{name: "a minor sees their own methods", token: f.readToken(t, "minor")},
		{name: "their confidant sees them", token: f.readToken(t, "mother"), personID: "minor"},
		{name: "unknown token", token: "nope", kind: verifykit.KindUnauthorized, msg: "Invalid access token"},
		{name: "expired token", token: "expired", kind: verifykit.KindUnauthorized, msg: "Invalid access token"},
		{name: "token without person", token: "no-person", kind: verifykit.KindUnauthorized, msg: "Invalid access token"},
		{name: "deactivation scope only", token: f.readToken(t, "stranger", authmethod.Scope), kind: verifykit.KindForbidden,
			msg: "Your scope does not allow to access this resource. Missing allowances: " + authmethod.ReadScope},
		{name: "not their confidant", token: f.readToken(t, "stranger"), personID: "minor", kind: verifykit.KindConflict, msg: authmethod.MsgCantConfirmRelationship},
		{name: "an ended relationship", token: f.readToken(t, "lapsed"), personID: "minor", kind: verifykit.KindConflict, msg: authmethod.MsgCantConfirmRelationship},
		{name: "a confidant not verified", token: f.readToken(t, "unverified"), personID: "minor", kind: verifykit.KindConflict, msg: authmethod.MsgConfidantNotVerified},
		{name: "an inactive person", token: f.readToken(t, "gone"), kind: verifykit.KindNotFound, msg: authmethod.MsgPersonNotFound},
		{name: "an unknown person", token: f.readToken(t, "mother"), personID: "nobody", kind: verifykit.KindNotFound, msg: authmethod.MsgPersonNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := f.svc.List(ctx, authmethod.ListRequest{Token: c.token, PersonID: c.personID})
			if c.kind == verifykit.KindNone {
				require.NoError(t, err)
				require.Equal(t, []string{"m-otp"}, methodIDs(res.Methods))
				return
			}
			requireError(t, err, c.kind, c.msg)
			require.Empty(t, res.Methods)
		})
	}
}
