package personrequest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
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

// TestApprovalRefusedOnceThePhoneBudgetIsUsedUp: once wrong codes used up the failure
// budget of a phone, an approval of another request open for that phone is refused, its
// right code too, as Verify refuses (KindRateLimited, ErrTooManyFailures, RetryAfter), and
// changes nothing: the request, its code, its events.
func TestApprovalRefusedOnceThePhoneBudgetIsUsedUp(t *testing.T) {
	k := newKit(t, func(pc *personrequest.Config, c *otp.Config) {
		pc.CodeTTL = 2 * time.Hour // the codes outlive the budget's window
		c.RecipientFailureLimit = ports.RateLimit{Max: 2, Per: time.Hour}
		c.SendLimits = nil
		c.MaxSubjectsPerRecipient = 0
	})
	events := memory.NewOutbox()
	k.store.PublishTo(events)
	first := k.newRequest(t)
	firstCode := k.lastCode(t, phonePerson)
	second := k.newRequest(t)
	secondCode := k.lastCode(t, phonePerson)
	for range 2 {
		_, err := k.approve(first.ID, wrongCode(firstCode))
		require.ErrorIs(t, err, otp.ErrWrongCode)
	}
	before, err := k.store.Get(k.ctx, second.ID)
	require.NoError(t, err)
	eventsBefore, sent := len(events.Events()), len(k.sms.Attempts())
	k.clock.Advance(10 * time.Minute)
	for _, code := range []string{secondCode, wrongCode(secondCode)} {
		_, err := k.approve(second.ID, code)
		require.ErrorIs(t, err, otp.ErrTooManyFailures)
		var ve *verifykit.Error
		require.ErrorAs(t, err, &ve)
		require.Equal(t, verifykit.KindRateLimited, ve.Kind)
		require.Equal(t, 50*time.Minute, ve.RetryAfter, "until the first failure leaves the window")
		require.Equal(t, "Too many wrong codes were entered for this recipient; try again in 3000s.", ve.Message, "the answer of Verify")
	}
	after, err := k.store.Get(k.ctx, second.ID)
	require.NoError(t, err)
	require.Equal(t, before, after, "a refused approval changes nothing")
	require.Len(t, events.Events(), eventsBefore, "and writes no event")
	require.Len(t, k.sms.Attempts(), sent)

	k.clock.Advance(time.Hour)
	r, err := k.approve(second.ID, secondCode)
	require.NoError(t, err, "once the failures left the window, the right code approves")
	require.Equal(t, personrequest.StatusApproved, r.Status)
}

// wrongCode is a well-formed code that is not code.
func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}
