package otp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

func TestChannelFallback(t *testing.T) {
	const email = "olena@example.com"
	cases := []struct {
		name          string
		smsFails      bool
		whatsappFails bool
		emailFails    bool
		transient     bool // the SMS failure is transient: no fallback
		want          string
	}{
		{"SMS delivers", false, false, false, false, "sms"},
		{"SMS permanently failing: WhatsApp delivers", true, false, false, false, "whatsapp"},
		{"SMS and WhatsApp failing: e-mail delivers", true, true, false, false, "email"},
		{"every channel failing: undeliverable", true, true, true, false, ""},
		{"a transient SMS failure does not fall back", true, false, false, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			wa, mail := memory.NewWhatsAppOutbox(), memory.NewEmailOutbox()
			fail := func(o interface{ FailNext(int, bool) }, on bool, permanent bool) {
				if on {
					o.FailNext(100, permanent)
				}
			}
			fail(e.sms, tc.smsFails, !tc.transient)
			fail(wa, tc.whatsappFails, true)
			fail(mail, tc.emailFails, true)
			ctx := context.Background()
			iss, err := e.svc.Issue(ctx, otp.IssueRequest{
				Purpose: "login", Subject: "u", Recipient: phone,
				Fallback: []otp.Channel{
					{Name: "whatsapp", Recipient: phone, Send: wa.Send},
					{Name: "email", Recipient: email, Send: mail.Send},
				},
			})
			v := e.stored(t, "u")
			if tc.want == "" {
				require.ErrorIs(t, err, otp.ErrUndeliverable)
				if tc.transient {
					require.Empty(t, wa.Attempts(), "no fallback after a transient failure")
				} else {
					require.ErrorIs(t, err, ports.ErrPermanent, "the last failure stays reachable")
					require.Len(t, mail.Attempts(), 1, "every channel was tried")
				}
				require.Equal(t, ports.CodeUndeliverable, v.Code.State)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, iss.Channel)
			require.Equal(t, ports.CodeActive, v.Code.State, "one code, still active")
			require.Equal(t, iss.ID, v.Code.ID)
			require.Equal(t, start.Add(10*time.Minute), v.Code.ExpiresAt, "its lifetime unchanged")
			var got ports.Message
			switch tc.want {
			case "sms":
				got, _ = e.sms.Last(phone)
			case "whatsapp":
				got, _ = wa.Last(phone)
				require.Equal(t, iss.ID+"/whatsapp", got.IdempotencyKey)
			case "email":
				got, _ = mail.Last(email)
			}
			require.Equal(t, iss.ID, got.Ref.CodeID)
			code, ok := strings.CutPrefix(got.Body, "Your verification code is ")
			require.True(t, ok, got.Body)
			_, err = e.verify("u", code[:6])
			require.NoError(t, err, "the code that went out on the fallback verifies")
		})
	}
}
