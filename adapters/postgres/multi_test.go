package postgres_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/adapters/postgres"
	"github.com/verifykit/verifykit/adapters/postgres/pgtest"
	"github.com/verifykit/verifykit/internal/concurrent"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// instances returns n adapters on one new schema, each on its own pool: n host instances
// sharing one database.
func instances(t *testing.T, n int) []*postgres.DB {
	t.Helper()
	first := pgtest.New(t)
	dbs := []*postgres.DB{first}
	for range n - 1 {
		db, err := postgres.New(pgtest.NewPool(t), postgres.Options{Schema: first.Schema()})
		require.NoError(t, err)
		dbs = append(dbs, db)
	}
	return dbs
}

// newOTP returns an otp engine on db's store and limiter that sends by sms (nil: none), with
// cfg changed by configure.
func newOTP(t testing.TB, db *postgres.DB, clock ports.Clock, sms ports.Sender, configure func(*otp.Config)) *otp.Service {
	t.Helper()
	return memory.NewTestEngine(t, otp.Deps{Store: db.OTPStore(), Limiter: db.RateLimiter(), SMS: sms, Clock: clock}, configure)
}

// twoEngines returns two instances on one schema, an otp engine on each (cfg changed by
// configure), and the clock they share.
func twoEngines(t *testing.T, configure func(*otp.Config)) ([]*postgres.DB, []*otp.Service, *memory.Clock) {
	t.Helper()
	dbs := instances(t, 2)
	clock := memory.NewClock(start)
	return dbs, []*otp.Service{newOTP(t, dbs[0], clock, nil, configure), newOTP(t, dbs[1], clock, nil, configure)}, clock
}

// race runs f(0..n-1) on n goroutines released together and returns their errors by i.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	concurrent.Run(n, func(i int) { errs[i] = f(i) })
	return errs
}

func TestTwoInstancesConsumeACodeOnce(t *testing.T) {
	ctx := context.Background()
	_, svcs, _ := twoEngines(t, nil)
	issued, err := svcs[0].IssueExternal(ctx, otp.IssueRequest{Purpose: "p", Subject: "s"})
	require.NoError(t, err)

	errs := race(100, func(i int) error {
		_, err := svcs[i%2].Verify(ctx, otp.VerifyRequest{Purpose: "p", Subject: "s", Code: issued.Code})
		return err
	})
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		require.ErrorIs(t, err, otp.ErrAlreadyUsed)
	}
	require.Equal(t, 1, wins, "a code is consumed exactly once across instances")
}

func TestTwoInstancesCountAttemptsAtomically(t *testing.T) {
	ctx := context.Background()
	dbs, svcs, _ := twoEngines(t, nil)
	issued, err := svcs[1].IssueExternal(ctx, otp.IssueRequest{Purpose: "p", Subject: "s"})
	require.NoError(t, err)
	wrong := "000000"
	if issued.Code == wrong {
		wrong = "111111"
	}

	errs := race(50, func(i int) error {
		_, err := svcs[i%2].Verify(ctx, otp.VerifyRequest{Purpose: "p", Subject: "s", Code: wrong})
		return err
	})
	wrongCodes := 0
	for _, err := range errs {
		if errors.Is(err, otp.ErrWrongCode) {
			wrongCodes++
		} else {
			require.ErrorIs(t, err, otp.ErrAttemptsExceeded)
		}
	}
	require.Equal(t, 4, wrongCodes, "the 5th wrong attempt blocks the code, whichever instance counts it")
	got, err := dbs[0].OTPStore().Get(ctx, "p", "s")
	require.NoError(t, err)
	require.Equal(t, 5, got.Code.Attempts)
	require.Equal(t, ports.CodeBlocked, got.Code.State)
	require.Len(t, got.Failures, 5, "each counted attempt counts against the failure budget too")
}

func TestTwoInstancesLeaveOneActiveCode(t *testing.T) {
	ctx := context.Background()
	dbs, svcs, _ := twoEngines(t, func(c *otp.Config) { c.SendLimits = nil })

	issued := make([]otp.Issued, 20)
	errs := race(20, func(i int) error {
		var err error
		issued[i], err = svcs[i%2].IssueExternal(ctx, otp.IssueRequest{Purpose: "p", Subject: "s"})
		return err
	})
	for _, err := range errs {
		require.NoError(t, err)
	}
	got, err := dbs[1].OTPStore().Get(ctx, "p", "s")
	require.NoError(t, err)
	require.Equal(t, ports.CodeActive, got.Code.State)
	winner := slices.IndexFunc(issued, func(is otp.Issued) bool { return is.ID == got.Code.ID })
	require.NotEqual(t, -1, winner, "the stored code is one of those issued")
	loser := (winner + 1) % len(issued)
	if issued[loser].Code != issued[winner].Code {
		_, err = svcs[0].Verify(ctx, otp.VerifyRequest{Purpose: "p", Subject: "s", Code: issued[loser].Code})
		require.ErrorIs(t, err, otp.ErrWrongCode, "a superseded code never verifies")
	}
	_, err = svcs[1].Verify(ctx, otp.VerifyRequest{Purpose: "p", Subject: "s", Code: issued[winner].Code})
	require.NoError(t, err, "the one active code is the latest stored")
}

func TestTwoInstancesShareRateLimits(t *testing.T) {
	ctx := context.Background()
	dbs := instances(t, 2)
	limiters := []ports.RateLimiter{dbs[0].RateLimiter(), dbs[1].RateLimiter()}
	limit := ports.RateLimit{Max: 5, Per: 10 * time.Minute}

	allowed := make([]bool, 100)
	errs := race(100, func(i int) error {
		d, err := limiters[i%2].Allow(ctx, "k", start, limit)
		allowed[i] = d.Allowed
		return err
	})
	n := 0
	for i, err := range errs {
		require.NoError(t, err)
		if allowed[i] {
			n++
		}
	}
	require.Equal(t, 5, n, "5 per 10 minutes across both instances")
	for _, l := range limiters {
		d, err := l.Peek(ctx, "k", start.Add(time.Minute), limit)
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.Equal(t, 9*time.Minute, d.RetryAfter)
	}
}

func TestTwoInstancesShareSendLimits(t *testing.T) {
	ctx := context.Background()
	_, svcs, clock := twoEngines(t, nil)

	errs := race(20, func(i int) error {
		_, err := svcs[i%2].IssueExternal(ctx, otp.IssueRequest{Purpose: "p", Subject: "s", Recipient: "+380931234585"})
		return err
	})
	sent := 0
	for _, err := range errs {
		if err == nil {
			sent++
			continue
		}
		require.Equal(t, verifykit.KindRateLimited, verifykit.KindOf(err))
	}
	require.Equal(t, 1, sent, "30 seconds apart, across instances")
	clock.Advance(30 * time.Second)
	_, err := svcs[1].IssueExternal(ctx, otp.IssueRequest{Purpose: "p", Subject: "s", Recipient: "+380931234585"})
	require.NoError(t, err)
}
