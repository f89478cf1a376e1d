package otpprocess_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/otp"
)

// TestProcessCodesSpeakTheActorsLanguage: without a Config.Message, the engine's
// templates render the code in the actor's language, falling back to the default.
func TestProcessCodesSpeakTheActorsLanguage(t *testing.T) {
	e := newEnv(t, func(_ *otpprocess.Deps, c *otpprocess.Config, o *otp.Config) {
		c.Message = nil
		o.Templates = &otp.Templates{ServiceName: "Acme"}
	})
	res, err := e.svc.Create(context.Background(), otpprocess.CreateRequest{
		Token: tokAdminA, OrgID: "org-a", Actor: e.actor(), ExpiresIn: "P7D", Channel: sms,
	})
	require.NoError(t, err)
	msg, ok := e.sms.Last(res.Process.Actor.MSISDN.E164())
	require.True(t, ok)
	require.Regexp(t, `^[0-9]{6} es tu codigo de verificacion de Acme\.`, msg.Body, "the actor's language is es")

	defaulted := newEnv(t)
	p, code := defaulted.create(t, sms, "")
	msg, _ = defaulted.sms.Last(p.Actor.MSISDN.E164())
	require.Contains(t, msg.Body, code, "Config.Message still renders by default")
}
