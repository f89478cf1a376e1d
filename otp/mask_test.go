package otp_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// TestLogsMaskRecipientsByKind: the engine's logs name a recipient masked by its kind
// (ports.MaskRecipient), never in full.
func TestLogsMaskRecipientsByKind(t *testing.T) {
	cases := []struct{ name, to, masked string }{
		{name: "phone", to: phone, masked: "+38093*****85"},
		{name: "e-mail", to: "jane.doe@example.com", masked: "j***@e***.com"},
		{name: "non-ASCII e-mail", to: "олена@приклад.укр", masked: "о***@п***.укр"},
		{name: "US phone", to: "+12025550143", masked: "+1202*****43"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			fail := false
			send := func(context.Context, ports.Message) error {
				if fail {
					return fmt.Errorf("gateway refused %s: %w", tc.to, ports.ErrPermanent)
				}
				return nil
			}
			_, err := e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "u1", Recipient: tc.to, Send: send})
			require.NoError(t, err)
			e.clock.Advance(time.Minute)
			fail = true
			_, err = e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "u1", Recipient: tc.to, Send: send})
			require.Error(t, err)

			logs := e.logs.String()
			require.Contains(t, logs, `msg="otp issued"`)
			require.Contains(t, logs, `msg="otp delivery failed"`)
			require.Contains(t, logs, "recipient="+tc.masked+" ")
			require.NotContains(t, logs, tc.to)
		})
	}
}
