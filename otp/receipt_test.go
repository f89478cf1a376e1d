package otp_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

type countingMarker struct{ refs []ports.DeliveryRef }

func (m *countingMarker) MarkUndeliverable(_ context.Context, ref ports.DeliveryRef) (bool, error) {
	m.refs = append(m.refs, ref)
	return true, nil
}

func TestReceiptsMarkStandaloneCodesAndRoute(t *testing.T) {
	ctx := context.Background()
	sms := memory.NewSMSOutbox()
	codes := memory.NewTestEngine(t, otp.Deps{SMS: sms}, nil)
	issued, err := codes.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "u1", Recipient: "+380931234585"})
	require.NoError(t, err)
	msg, ok := sms.Last("+380931234585")
	require.True(t, ok)
	require.Equal(t, ports.DeliveryRef{Purpose: "login", Subject: "u1", CodeID: issued.ID}, msg.Ref)

	other := &countingMarker{}
	router := otp.NewReceiptRouter(codes, map[string]ports.UndeliverableMarker{"person_request": other})
	changed, err := router.MarkUndeliverable(ctx, msg.Ref)
	require.NoError(t, err)
	require.True(t, changed)
	v, err := codes.Codes(ctx, "login", "u1")
	require.NoError(t, err)
	require.Equal(t, ports.CodeUndeliverable, v.Code.State)
	changed, err = router.MarkUndeliverable(ctx, msg.Ref)
	require.NoError(t, err)
	require.False(t, changed, "a repeated receipt changes nothing")

	_, err = router.MarkUndeliverable(ctx, ports.DeliveryRef{Purpose: "person_request", Subject: "r1", CodeID: "c1"})
	require.NoError(t, err)
	require.Len(t, other.refs, 1)

	_, err = otp.NewReceiptRouter(nil, nil).MarkUndeliverable(ctx, msg.Ref)
	require.ErrorIs(t, err, otp.ErrUnknownPurpose)
	require.ErrorIs(t, err, verifykit.ErrNotFound)
	_, err = router.MarkUndeliverable(ctx, ports.DeliveryRef{Purpose: "login"})
	require.ErrorIs(t, err, verifykit.ErrInvalidInput)
}
