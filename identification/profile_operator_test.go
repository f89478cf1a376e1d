package identification_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/ports"
)

func TestOperatorReadsAProfile(t *testing.T) {
	ctx := context.Background()
	e := newOrgEnv(t)
	cases := []struct {
		name, token, user string
		kind              verifykit.Kind // KindNone: read
	}{
		{"its own organisation", tokOrgA, "a1", verifykit.KindNone},
		{"a platform operator, any organisation", tokOperator, "b1", verifykit.KindNone},
		{"another organisation's: as if it did not exist", tokOrgA, "b1", verifykit.KindNotFound},
		{"a profile of no organisation", tokOrgA, "n1", verifykit.KindNotFound},
		{"no such profile", tokOrgA, "nobody", verifykit.KindNotFound},
		{"no user id", tokOrgA, "", verifykit.KindInvalidInput},
		{"a user's token", "nope", "a1", verifykit.KindUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.everything(t)
			res, err := e.svc.Profile(ctx, identification.ProfileRequest{Token: tc.token, UserID: tc.user})
			require.Equal(t, before, e.everything(t), "reading changes nothing")
			if tc.kind != verifykit.KindNone {
				require.Equal(t, tc.kind, verifykit.KindOf(err), "%v", err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.user, res.UserID)
			require.Equal(t, ports.IdentificationApproved, res.Profile.Status)
		})
	}
	_, other := e.svc.Profile(ctx, identification.ProfileRequest{Token: tokOrgA, UserID: "b1"})
	_, missing := e.svc.Profile(ctx, identification.ProfileRequest{Token: tokOrgA, UserID: "nobody"})
	require.Equal(t, errorAnswerOf(t, missing), errorAnswerOf(t, other), "the same answer as an id that does not exist")
}
