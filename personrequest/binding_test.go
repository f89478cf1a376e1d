package personrequest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// TestCodeApprovesOnlyTheVersionItWasSentFor checks the binding of a request's code to its
// id and UploadVersion: a request whose version moved on after its code was sent (here
// edited in the store, without a new code) refuses that code, and the attempt counts; the
// code of the version stored approves, and a repeat is recognised.
func TestCodeApprovesOnlyTheVersionItWasSentFor(t *testing.T) {
	cases := []struct {
		name   string
		edit   bool
		resend bool
	}{
		{"unchanged request approves", false, false},
		{"request edited after the code was sent refuses it", true, false},
		{"code of a resend approves the resent version", false, true},
		{"request edited after a resend refuses the resent code", true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := newKit(t)
			r := k.newRequest(t)
			codeID := k.code(t, r.ID).ID
			if tc.resend {
				_, err := k.resend(r.ID, "", "")
				require.NoError(t, err)
				codeID = k.code(t, r.ID).ID
			}
			code, _ := k.codeOf(t, codeID)
			if tc.edit {
				_, err := k.store.Update(k.ctx, r.ID, func(r *ports.PersonRequest) error {
					r.UploadVersion++
					return nil
				})
				require.NoError(t, err)
			}
			_, err := k.approve(r.ID, code)
			if !tc.edit {
				require.NoError(t, err)
				again, err := k.approve(r.ID, code)
				require.NoError(t, err, "a repeated approval is recognised")
				require.Equal(t, ports.PersonRequestApproved, again.Status)
				return
			}
			e := requireErr(t, err, verifykit.KindInvalidInput, otp.MsgInvalidCode)
			require.ErrorIs(t, e, otp.ErrWrongCode)
			require.Equal(t, 1, k.code(t, r.ID).Attempts, "the attempt counts")
			require.Equal(t, ports.PersonRequestNew, k.get(t, r.ID).Status)
		})
	}
}
