package identification_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// TestProcessCodesFallBack: an SMS that fails for good goes out on WhatsApp, the next
// channel of ProcessConfig.Fallback; the code is the one stored, and the result names the
// channel that delivered it. With every channel failing, the code is undeliverable.
func TestProcessCodesFallBack(t *testing.T) {
	e := newEnv(t, func(_ *identification.ProcessDeps, c *identification.ProcessConfig, _ *otp.Config) {
		c.Fallback = []identification.ChannelType{identification.ChannelWhatsApp, identification.ChannelEmail}
	})
	ctx := context.Background()
	e.sms.FailNext(1, true)
	res, err := e.svc.Create(ctx, identification.CreateProcessRequest{Token: tokAdminA, OrgID: "org-a", Actor: e.actor(), Channel: sms})
	require.NoError(t, err)
	require.Equal(t, identification.ChannelWhatsApp, res.DeliveredBy)
	phone := res.Process.Actor.MSISDN.E164()
	_, sent := e.sms.Last(phone)
	require.False(t, sent, "the SMS did not go out")
	_, ok := e.whatsapp.Last(phone)
	require.True(t, ok, "WhatsApp delivered it")
	require.Equal(t, ports.CodeActive, e.code(t, res.Process.ID).State, "one active code")

	e.sms.FailNext(1, true)
	e.whatsapp.FailNext(1, true)
	e.email.FailNext(1, true)
	_, err = e.svc.Create(ctx, identification.CreateProcessRequest{Token: tokAdminA, OrgID: "org-a", Actor: e.actor(), Channel: sms})
	require.ErrorIs(t, err, verifykit.ErrUnavailable, "every channel failed")
	require.ErrorIs(t, err, ports.ErrPermanent)

	_, err = identification.NewProcessService(identification.ProcessDeps{}, func() identification.ProcessConfig {
		c := identification.DefaultProcessConfig()
		c.Fallback = []identification.ChannelType{"FAX", identification.ChannelEmail, identification.ChannelEmail}
		return c
	}())
	require.ErrorIs(t, err, verifykit.ErrInvalidInput)
	var ve *verifykit.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "Fallback[0]", ve.Invalid[0].Entry)
	require.Equal(t, "Fallback[2]", ve.Invalid[1].Entry)
}
