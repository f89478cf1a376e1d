package otpprocess_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// A receipt that the message never arrived marks the process's code undeliverable: the
// validation with it answers that there is no active code.
func TestMarkUndeliverableByReceipt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, code := e.create(t, otpprocess.Channel{Type: otpprocess.ChannelSMS}, "")
	msg, ok := e.sms.Last(p.Actor.MSISDN.E164())
	require.True(t, ok)
	ref := msg.Ref
	require.Equal(t, ports.DeliveryRef{Purpose: otpprocess.DefaultCodePurpose, Subject: p.ID, CodeID: e.code(t, p.ID).ID, Scope: "org-a"}, ref,
		"the message names the process's organisation, which a receipt needs to find it")

	noScope := ref
	noScope.Scope = ""
	_, err := e.svc.MarkUndeliverable(ctx, noScope)
	require.ErrorIs(t, err, verifykit.ErrInvalidInput, "without the organisation in Scope the process cannot be found")
	ref.Scope = "org-b"
	changed, err := e.svc.MarkUndeliverable(ctx, ref)
	require.NoError(t, err)
	require.False(t, changed, "a process of another organisation is not found")
	other := ref
	other.Purpose = "login"
	_, err = e.svc.MarkUndeliverable(ctx, other)
	require.ErrorIs(t, err, verifykit.ErrInvalidInput)

	ref.Scope = msg.Ref.Scope
	changed, err = e.svc.MarkUndeliverable(ctx, ref)
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, ports.CodeUndeliverable, e.code(t, p.ID).State)
	_, err = e.validate(p, code, "")
	require.ErrorIs(t, err, otp.ErrNoActiveCode)

	changed, err = e.svc.MarkUndeliverable(ctx, ref)
	require.NoError(t, err)
	require.False(t, changed, "a repeated receipt changes nothing")
}
