package personrequest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// TestApprovalFailuresCountAgainstTheRecipient: wrong codes typed into approvals count on
// the recipient's failure budget once their write is stored, so a new code to that phone
// is refused when the budget is used up, even for another request.
func TestApprovalFailuresCountAgainstTheRecipient(t *testing.T) {
	k := newKit(t, func(_ *personrequest.Config, c *otp.Config) {
		c.RecipientFailureLimit = ports.RateLimit{Max: 2, Per: time.Hour}
		c.SendLimits = nil
	})
	r := k.newRequest(t)
	code := k.lastCode(t, phonePerson)
	wrong := "000000"
	if code == wrong {
		wrong = "000001"
	}
	for range 2 {
		_, err := k.approve(r.ID, wrong)
		require.ErrorIs(t, err, verifykit.ErrInvalidInput)
	}
	_, err := k.resend(r.ID, "", "")
	require.ErrorIs(t, err, verifykit.ErrRateLimited, "the phone's failure budget is used up")
	require.ErrorIs(t, err, otp.ErrTooManyFailures)
}
