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

// TestProcessCodesFallBack: an SMS that fails for good goes out on WhatsApp, the next
// channel of Config.Fallback; the code is the one stored, and the result names the
// channel that delivered it. With every channel failing, the code is undeliverable.
func TestProcessCodesFallBack(t *testing.T) {
	e := newEnv(t, func(_ *otpprocess.Deps, c *otpprocess.Config, _ *otp.Config) {
		c.Fallback = []otpprocess.ChannelType{otpprocess.ChannelWhatsApp, otpprocess.ChannelEmail}
	})
	ctx := context.Background()
	e.sms.FailNext(1, true)
	res, err := e.svc.Create(ctx, otpprocess.CreateRequest{Token: tokAdminA, OrgID: "org-a", Actor: e.actor(), Channel: sms})
	require.NoError(t, err)
	require.Equal(t, otpprocess.ChannelWhatsApp, res.DeliveredBy)
	phone := res.Process.Actor.MSISDN.E164()
	_, sent := e.sms.Last(phone)
	require.False(t, sent, "the SMS did not go out")
	_, ok := e.whatsapp.Last(phone)
	require.True(t, ok, "WhatsApp delivered it")
	require.Equal(t, ports.CodeActive, e.code(t, res.Process.ID).State, "one active code")

	e.sms.FailNext(1, true)
	e.whatsapp.FailNext(1, true)
	e.email.FailNext(1, true)
	_, err = e.svc.Create(ctx, otpprocess.CreateRequest{Token: tokAdminA, OrgID: "org-a", Actor: e.actor(), Channel: sms})
	require.ErrorIs(t, err, verifykit.ErrUnavailable, "every channel failed")
	require.ErrorIs(t, err, ports.ErrPermanent)

	_, err = otpprocess.NewService(otpprocess.Deps{}, func() otpprocess.Config {
		c := otpprocess.DefaultConfig()
		c.Fallback = []otpprocess.ChannelType{"FAX", otpprocess.ChannelEmail, otpprocess.ChannelEmail}
		return c
	}())
	require.ErrorIs(t, err, verifykit.ErrInvalidInput)
	var ve *verifykit.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "Fallback[0]", ve.Invalid[0].Entry)
	require.Equal(t, "Fallback[2]", ve.Invalid[1].Entry)
}
