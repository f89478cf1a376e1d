// Package otptest holds tests of the otp engine that every adapter runs on its own store and
// limiter: the memory adapters (in package otp's tests), PostgreSQL and Redis, each through
// one or more engines that share them, as host instances do.
package otptest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/internal/concurrent"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// RecipientBudget is the failure budget per recipient that RecipientBudgetConfig sets, per
// RecipientBudgetWindow.
const (
	RecipientBudget       = 7
	RecipientBudgetWindow = time.Hour
)

// budgetSubjects is how many subjects get a code to the one phone of
// RaceRecipientFailureBudget; budgetGuesses is how many wrong guesses race for the budget.
const (
	budgetSubjects = 20
	budgetGuesses  = 100
)

// RecipientBudgetConfig configures an engine for RaceRecipientFailureBudget: a failure
// budget of RecipientBudget per recipient per RecipientBudgetWindow, codes that live two
// windows with 50 attempts each (so that only the recipient's budget stops the guesses), no
// send limits and no cap on the subjects per recipient.
func RecipientBudgetConfig(c *otp.Config) {
	c.RecipientFailureLimit = ports.RateLimit{Max: RecipientBudget, Per: RecipientBudgetWindow}
	c.TTL = 2 * RecipientBudgetWindow
	c.MaxAttempts = 50
	c.SendLimits = nil
	c.MaxSubjectsPerRecipient = 0
}

// wrongGuess is well-formed and never matches: codes have 6 digits, it has 7.
const wrongGuess = "0000000"

// RaceRecipientFailureBudget is the reverse brute force of one phone: codes of many
// subjects are sent to it, and wrong guesses are sprayed across all of them at once,
// through every engine of svcs (engines configured by RecipientBudgetConfig, sharing one
// store, one limiter and clock). It checks that:
//
//   - exactly RecipientBudget guesses were counted, across all the codes (their attempts
//     and their subjects' failures), and every other one was refused as rate limited
//     (ErrTooManyFailures);
//   - once the budget is used up, every further attempt on those codes is refused, the
//     right code too, and changes nothing: every code and its failures stay as they were;
//   - the refused attempts recorded nothing in the limiter: once the counted guesses have
//     left the window, a right code verifies and exactly RecipientBudget wrong guesses are
//     counted again.
func RaceRecipientFailureBudget(t *testing.T, svcs []*otp.Service, clock *memory.Clock) {
	t.Helper()
	ctx := context.Background()
	const phone = "+380931234585"
	subject := func(i int) string { return fmt.Sprintf("account-%d", i%budgetSubjects) }
	right := make([]string, budgetSubjects)
	for i := range budgetSubjects {
		iss, err := svcs[i%len(svcs)].IssueExternal(ctx, otp.IssueRequest{Purpose: "login", Subject: subject(i), Recipient: phone})
		require.NoError(t, err)
		right[i] = iss.Code
	}
	verify := func(i int, code string) (otp.VerifyResult, error) {
		return svcs[i%len(svcs)].Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: subject(i), Code: code})
	}

	raceGuesses(t, func(i int) (bool, error) {
		res, err := verify(i, wrongGuess)
		return errors.Is(err, otp.ErrWrongCode) && res.Counted, err
	})
	before := make([]ports.Verification, budgetSubjects)
	attempts, failures := 0, 0
	for i := range budgetSubjects {
		v, err := svcs[0].Codes(ctx, "login", subject(i))
		require.NoError(t, err)
		before[i] = v
		attempts += v.Code.Attempts
		failures += len(v.Failures)
		require.Equal(t, ports.CodeActive, v.Code.State)
	}
	require.Equal(t, RecipientBudget, attempts, "the codes counted exactly the budget's attempts")
	require.Equal(t, RecipientBudget, failures, "and their subjects exactly the budget's failures")

	// Used up, the budget refuses every attempt, the right code too, and nothing changes.
	clock.Advance(RecipientBudgetWindow / 2)
	for i := range budgetSubjects {
		_, err := verify(i, right[i])
		requireUsedUp(t, err, RecipientBudgetWindow/2)
		_, err = verify(i, wrongGuess)
		requireUsedUp(t, err, RecipientBudgetWindow/2)
		_, err = svcs[i%len(svcs)].RecordFailure(ctx, "login", subject(i))
		requireUsedUp(t, err, RecipientBudgetWindow/2)
		v, err := svcs[1%len(svcs)].Codes(ctx, "login", subject(i))
		require.NoError(t, err)
		require.Equal(t, before[i], v, "a refused attempt changes nothing")
	}
	_, err := svcs[0].IssueExternal(ctx, otp.IssueRequest{Purpose: "login", Subject: "new", Recipient: phone})
	require.ErrorIs(t, err, otp.ErrTooManyFailures, "no new code goes to the phone either")

	// Had a refused attempt recorded anything (at half the window), it would still count.
	clock.Advance(RecipientBudgetWindow / 2)
	_, err = verify(0, right[0])
	require.NoError(t, err, "the counted guesses left the window: the right code verifies")
	again := 0
	for i := 1; ; i++ {
		res, err := verify(i, wrongGuess)
		if errors.Is(err, otp.ErrTooManyFailures) {
			break
		}
		require.ErrorIs(t, err, otp.ErrWrongCode)
		require.True(t, res.Counted)
		again++
	}
	require.Equal(t, RecipientBudget, again, "the refused attempts left no failure behind")
}

// raceGuesses makes budgetGuesses wrong guesses at once (guess(i) reports whether guess i
// was counted), and checks that exactly RecipientBudget of them were counted and every
// other one refused by the recipient's failure budget.
func raceGuesses(t *testing.T, guess func(i int) (counted bool, err error)) {
	t.Helper()
	var counted, refused, others atomic.Int32
	concurrent.Run(budgetGuesses, func(i int) {
		switch ok, err := guess(i); {
		case ok:
			counted.Add(1)
		case errors.Is(err, otp.ErrTooManyFailures) && errors.Is(err, verifykit.ErrRateLimited):
			refused.Add(1)
		default:
			others.Add(1)
			t.Logf("guess %d: %v", i, err)
		}
	})
	require.Zero(t, others.Load(), "every guess is counted or refused by the recipient's budget")
	require.EqualValues(t, RecipientBudget, counted.Load(), "exactly the budget's guesses were counted")
	require.EqualValues(t, budgetGuesses-RecipientBudget, refused.Load())
}

// requireUsedUp checks that err is the answer of a used-up recipient budget that frees up
// after wait.
func requireUsedUp(t *testing.T, err error, wait time.Duration) {
	t.Helper()
	require.ErrorIs(t, err, otp.ErrTooManyFailures)
	var ve *verifykit.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, verifykit.KindRateLimited, ve.Kind)
	require.Equal(t, wait, ve.RetryAfter)
	require.Contains(t, ve.Message, "for this recipient")
}
