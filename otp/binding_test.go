package otp_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

func TestBoundCodes(t *testing.T) {
	const bound = "amount=100.00 EUR;payee=ACME"
	cases := []struct {
		name     string
		issued   string // the binding the code was issued with
		verified string // the binding presented
		ok       bool
	}{
		{"same binding verifies", bound, bound, true},
		{"changed amount fails", bound, "amount=900.00 EUR;payee=ACME", false},
		{"changed payee fails", bound, "amount=100.00 EUR;payee=EVIL", false},
		{"missing binding fails", bound, "", false},
		{"binding on an unbound code fails", "", bound, false},
		{"no binding verifies as before", "", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			_, err := e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "pay-1", Recipient: phone, Binding: []byte(tc.issued)})
			require.NoError(t, err)
			code := e.codeOf(t, phone)
			res, err := e.svc.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "pay-1", Code: code, Binding: []byte(tc.verified)})
			if tc.ok {
				require.NoError(t, err)
				require.Equal(t, ports.CodeVerified, res.State)
				return
			}
			require.ErrorIs(t, err, otp.ErrWrongCode)
			require.True(t, res.Counted, "a wrong binding counts an attempt")
			require.Equal(t, 4, res.AttemptsLeft)
			require.Equal(t, 1, e.stored(t, "pay-1").Code.Attempts)
			// The right binding still verifies the code, which stays active.
			_, err = e.svc.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "pay-1", Code: code, Binding: []byte(tc.issued)})
			require.NoError(t, err)
		})
	}
}

// TestBindingChangesTheHashOnly checks that a code issued without a binding hashes as it
// always did: a hash stored before bindings existed still verifies.
func TestBindingChangesTheHashOnly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	d, err := e.svc.Draw(ctx, otp.IssueRequest{Purpose: "login", Subject: "u", Recipient: phone})
	require.NoError(t, err)
	var unbound ports.Verification
	e.svc.Put(&unbound, d)
	before := append([]byte(nil), unbound.Code.Hash...)
	e.svc.Bind(d, nil)
	var rebound ports.Verification
	e.svc.Put(&rebound, d)
	require.Equal(t, before, rebound.Code.Hash, "an empty binding adds no field")
	e.svc.Bind(d, []byte("v2"))
	var bound ports.Verification
	e.svc.Put(&bound, d)
	require.NotEqual(t, before, bound.Code.Hash)
}

// TestCheckBoundInARecord checks a code kept in the record it confirms, bound to the
// record's version: once the record changed, the code sent for the older version is refused
// and the attempt counts; Completed recognises only the binding that verified.
func TestCheckBoundInARecord(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v1, v2 := []byte("request:r1:v1"), []byte("request:r1:v2")
	d, err := e.svc.Draw(ctx, otp.IssueRequest{Purpose: "approve", Subject: "r1", Recipient: phone, Binding: v1})
	require.NoError(t, err)
	var v ports.Verification
	e.svc.Put(&v, d)
	require.NoError(t, e.svc.Send(ctx, d))
	code := e.codeOf(t, phone)

	res, err := e.svc.CheckBound(&v, code, v2, start)
	require.ErrorIs(t, err, otp.ErrWrongCode, "the record changed after the code was sent")
	require.True(t, res.Counted)
	_, err = e.svc.Check(&v, code, start)
	require.ErrorIs(t, err, otp.ErrWrongCode, "Check presents no binding")
	require.Equal(t, 2, v.Code.Attempts)

	_, err = e.svc.CheckBound(&v, code, v1, start)
	require.NoError(t, err)
	require.True(t, e.svc.CompletedBound(v, code, v1))
	require.False(t, e.svc.CompletedBound(v, code, v2))
	require.False(t, e.svc.Completed(v, code))
}
