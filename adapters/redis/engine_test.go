package redis_test

import (
	"context"
	"errors"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/adapters/redis"
	"github.com/verifykit/verifykit/internal/concurrent"
	"github.com/verifykit/verifykit/internal/otptest"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// newEngine returns an otp engine on db with clock (the system's when nil), delivering to sms, with cfg changed by configure.
func newEngine(t testing.TB, db *redis.DB, clock ports.Clock, sms ports.Sender, configure func(*otp.Config)) *otp.Service {
	t.Helper()
	return memory.NewTestEngine(t, otp.Deps{Store: db.OTPStore(), Limiter: db.RateLimiter(), SMS: sms, Clock: clock}, configure)
}

// twoEngines returns two otp engines on one prefix of the deployment, each with a client of
// its own (two *redis.ClusterClient on a cluster), the outbox they deliver to and their
// clock. It stands still at the time of the call (until a test advances it), so every attempt of a race counts at one
// instant (with a moving clock, an attempt whose time was read before another's was
// stored does not count that one, by the rule of ports.DecideRate).
func twoEngines(t *testing.T, tg target, configure func(*otp.Config)) ([]*otp.Service, *memory.SMSOutbox, *memory.Clock) {
	t.Helper()
	sms := memory.NewSMSOutbox()
	clock := memory.NewClock(time.Now())
	first := tg.client(t)
	prefix := newPrefix(t, first)
	var svcs []*otp.Service
	for _, c := range []goredis.UniversalClient{first, tg.client(t)} {
		db := newDB(t, c, redis.Options{Prefix: prefix})
		svcs = append(svcs, newEngine(t, db, clock, sms, configure))
	}
	return svcs, sms, clock
}

var codeRE = regexp.MustCompile(`code is ([0-9]+)`)

// sentCode returns the last code sent to phone.
func sentCode(t testing.TB, sms *memory.SMSOutbox, phone string) string {
	t.Helper()
	msg, ok := sms.Last(phone)
	require.True(t, ok, "a code was sent to %s", phone)
	m := codeRE.FindStringSubmatch(msg.Body)
	require.Len(t, m, 2)
	return m[1]
}

func TestConcurrentVerifiesAcrossTwoClientsSucceedOnce(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		ctx := context.Background()
		svcs, sms, _ := twoEngines(t, tg, nil)
		const phone = "+380931112233"
		_, err := svcs[0].Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "user-1", Recipient: phone})
		require.NoError(t, err)
		code := sentCode(t, sms, phone)

		const n = 100
		var wins, used, others atomic.Int32
		concurrent.Run(n, func(i int) {
			_, err := svcs[i%2].Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-1", Code: code})
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, otp.ErrAlreadyUsed):
				used.Add(1)
			default:
				others.Add(1)
				t.Logf("verify %d: %v", i, err)
			}
		})
		require.EqualValues(t, 1, wins.Load(), "exactly one verify succeeds")
		require.EqualValues(t, n-1, used.Load(), "every other one finds the code used")
		require.Zero(t, others.Load())
	})
}

func TestConcurrentWrongGuessesNeverPassTheLimits(t *testing.T) {
	for _, c := range []struct {
		name        string
		maxAttempts int
		budget      int
		// wantState is the code's state after the guesses.
		wantState ports.CodeState
	}{
		{name: "TheAttemptsOfACode", maxAttempts: 5, budget: 100, wantState: ports.CodeBlocked},
		{name: "TheFailureBudget", maxAttempts: 50, budget: 7, wantState: ports.CodeActive},
	} {
		t.Run(c.name, func(t *testing.T) {
			forEachTarget(t, func(t *testing.T, tg target) {
				ctx := context.Background()
				svcs, sms, _ := twoEngines(t, tg, func(cfg *otp.Config) {
					cfg.MaxAttempts = c.maxAttempts
					cfg.FailureLimit = ports.RateLimit{Max: c.budget, Per: time.Hour}
				})
				const phone = "+380931112244"
				_, err := svcs[0].Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "user-2", Recipient: phone})
				require.NoError(t, err)
				right := sentCode(t, sms, phone)
				wrong := "000000"
				if right == wrong {
					wrong = "111111"
				}
				var wrongs, limited, blocked, others atomic.Int32
				concurrent.Run(100, func(i int) {
					_, err := svcs[i%2].Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-2", Code: wrong})
					switch {
					case errors.Is(err, otp.ErrWrongCode):
						wrongs.Add(1)
					case errors.Is(err, otp.ErrAttemptsExceeded):
						blocked.Add(1)
					case errors.Is(err, verifykit.ErrRateLimited):
						limited.Add(1)
					default:
						others.Add(1)
						t.Logf("guess %d: %v", i, err)
					}
				})
				require.Zero(t, others.Load(), "every guess is refused as wrong, blocked or limited")
				v, err := svcs[1].Codes(ctx, "login", "user-2")
				require.NoError(t, err)
				limit := min(c.maxAttempts, c.budget)
				require.Equal(t, limit, v.Code.Attempts, "exactly as many attempts counted as the limit allows")
				require.Len(t, v.Failures, limit, "exactly as many failures counted as the limit allows")
				require.LessOrEqual(t, int(wrongs.Load()), limit)
				require.Equal(t, c.wantState, v.Code.State)
				_, err = svcs[0].Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-2", Code: right})
				require.Error(t, err, "the right code no longer passes once a limit is reached")
			})
		})
	}
}

// TestConcurrentWrongGuessesNeverPassTheRecipientBudget: wrong guesses sprayed at once
// across the codes of many subjects sent to one phone, through two clients, never pass the
// phone's failure budget, and a refused attempt changes nothing (internal/otptest).
func TestConcurrentWrongGuessesNeverPassTheRecipientBudget(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		svcs, _, clock := twoEngines(t, tg, otptest.RecipientBudgetConfig)
		otptest.RaceRecipientFailureBudget(t, svcs, clock)
	})
}
