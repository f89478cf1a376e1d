package otp_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// TestPresetsCatchEveryWeakSetting: each preset passes the defaults and names each setting
// that falls short of it.
func TestPresetsCatchEveryWeakSetting(t *testing.T) {
	weak := map[string]func(*otp.Config){
		"Digits":                  func(c *otp.Config) { c.Digits = 5 },
		"TTL":                     func(c *otp.Config) { c.TTL = 15 * time.Minute },
		"MaxAttempts":             func(c *otp.Config) { c.MaxAttempts = 20 },
		"FailureLimit":            func(c *otp.Config) { c.FailureLimit.Max = 101 },
		"RecipientFailureLimit":   func(c *otp.Config) { c.RecipientFailureLimit = ports.RateLimit{} },
		"SendLimits":              func(c *otp.Config) { c.SendLimits = nil },
		"MaxSubjectsPerRecipient": func(c *otp.Config) { c.MaxSubjectsPerRecipient = 0 },
		"Phones.RefusedTypes":     func(c *otp.Config) { c.Phones.RefusedTypes = []ports.PhoneType{ports.PhonePremiumRate} },
		"TestRecipients": func(c *otp.Config) {
			c.TestRecipients = []otp.TestRecipient{{Phone: uaMobile, Code: "123456", Until: start}}
		},
	}
	for _, p := range []otp.Preset{otp.NIST80063B4(), otp.ASVSLevel2()} {
		t.Run(p.Name, func(t *testing.T) {
			require.NoError(t, testConfig().Check(p), "the defaults meet it")
			for _, req := range p.Requirements() {
				t.Run(req.Field, func(t *testing.T) {
					edit, ok := weak[req.Field]
					require.True(t, ok, "a weak setting for %s", req.Field)
					cfg := testConfig()
					edit(&cfg)
					err := cfg.Check(p)
					var ve *verifykit.Error
					require.ErrorAs(t, err, &ve)
					require.Equal(t, verifykit.KindInvalidInput, ve.Kind)
					require.Contains(t, ve.Message, p.Name)
					require.Len(t, ve.Invalid, 1, "%v", err)
					require.Equal(t, req.Field, ve.Invalid[0].Entry)
					require.Equal(t, verifykit.EntryConfig, ve.Invalid[0].EntryType)
					require.Contains(t, ve.Invalid[0].Description, req.Ref)
				})
			}
			// Every weak setting at once: every one is listed.
			cfg := testConfig()
			for _, edit := range weak {
				edit(&cfg)
			}
			var ve *verifykit.Error
			require.ErrorAs(t, cfg.Check(p), &ve)
			require.Len(t, ve.Invalid, len(p.Requirements()))
		})
	}
}

func TestPresetRequirementsNameTheirStandard(t *testing.T) {
	nist, asvs := otp.NIST80063B4().Requirements(), otp.ASVSLevel2().Requirements()
	require.NotEmpty(t, nist)
	require.NotEmpty(t, asvs)
	for _, r := range nist {
		require.Contains(t, r.Ref, "SP 800-63B-4")
	}
	for _, r := range asvs {
		require.Contains(t, r.Ref, "ASVS 5.0")
	}
}
