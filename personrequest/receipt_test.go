package personrequest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// A receipt that the SMS never arrived marks the request's code undeliverable: approving
// with it answers "Invalid verification code" (no active code), and a resend works.
func TestMarkUndeliverableByReceipt(t *testing.T) {
	k := newKit(t)
	r := k.newRequest(t)
	msg, ok := k.sms.Last(phonePerson)
	require.True(t, ok)
	require.Equal(t, ports.DeliveryRef{Purpose: "person_request", Subject: r.ID, CodeID: k.code(t, r.ID).ID}, msg.Ref)
	code := k.lastCode(t, phonePerson)

	bad := msg.Ref
	bad.Purpose = "login"
	_, err := k.svc.MarkUndeliverable(k.ctx, bad)
	require.ErrorIs(t, err, verifykit.ErrInvalidInput)
	_, err = k.svc.MarkUndeliverable(k.ctx, ports.DeliveryRef{Purpose: "person_request"})
	require.ErrorIs(t, err, verifykit.ErrInvalidInput)

	changed, err := k.svc.MarkUndeliverable(k.ctx, msg.Ref)
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, ports.CodeUndeliverable, k.code(t, r.ID).State)
	_, err = k.approve(r.ID, code)
	require.ErrorIs(t, err, otp.ErrNoActiveCode)
	require.ErrorContains(t, err, otp.MsgInvalidCode)

	changed, err = k.svc.MarkUndeliverable(k.ctx, msg.Ref)
	require.NoError(t, err)
	require.False(t, changed, "a repeated receipt changes nothing")
	gone := msg.Ref
	gone.Subject = "no-such-request"
	changed, err = k.svc.MarkUndeliverable(k.ctx, gone)
	require.NoError(t, err)
	require.False(t, changed)
}
