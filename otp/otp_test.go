package otp_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

var (
	secretA = memory.TestSecret() // the secret of testConfig
	secretB = []byte("fedcba9876543210fedcba9876543210")
	start   = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
)

const phone = "+380931234585"

// env is a test kit's engine and parts, by the names the tests use.
type env struct {
	kit   *memory.TestKit
	svc   *otp.Service
	store *memory.OTPStore
	sms   *memory.SMSOutbox
	clock *memory.Clock
	logs  *memory.LogBuffer
}

// testConfig is the test kit's engine configuration: secretA, fast delivery retries.
func testConfig() otp.Config { return memory.TestOTPConfig() }

func newEnv(t *testing.T, edit ...func(*otp.Config)) *env {
	t.Helper()
	k := memory.NewTestKit(t, memory.TestKitConfig{Start: start, OTP: func(c *otp.Config) {
		for _, f := range edit {
			f(c)
		}
	}})
	return &env{kit: k, svc: k.OTP, store: k.Codes, sms: k.SMS, clock: k.Clock, logs: k.Logs}
}

// codeOf returns the code of the last SMS sent to phone.
func (e *env) codeOf(t *testing.T, to string) string {
	t.Helper()
	return e.kit.LastSMSCode(t, to)
}

func (e *env) issue(t *testing.T, subject, to string) (otp.Issued, string) {
	t.Helper()
	iss, err := e.svc.Issue(context.Background(), otp.IssueRequest{Purpose: "login", Subject: subject, Recipient: to})
	require.NoError(t, err)
	return iss, e.codeOf(t, to)
}

func (e *env) verify(subject, code string) (otp.VerifyResult, error) {
	return e.svc.Verify(context.Background(), otp.VerifyRequest{Purpose: "login", Subject: subject, Code: code})
}

// stored returns the stored Verification of the login code of subject.
func (e *env) stored(t *testing.T, subject string) ports.Verification {
	t.Helper()
	v, err := e.store.Get(context.Background(), "login", subject)
	require.NoError(t, err)
	return v
}

// requireNoPlaintext checks that no field of the stored Verification holds code.
func requireNoPlaintext(t *testing.T, v ports.Verification, code string) {
	t.Helper()
	require.Len(t, v.Code.Hash, sha256.Size, "an HMAC-SHA256")
	require.NotEqual(t, sha256.Sum256([]byte(code)), [32]byte(v.Code.Hash), "not a plain hash a table could reverse")
	require.NotContains(t, fmt.Sprintf("%+v", v), code, "no field holds the code")
	require.NotContains(t, fmt.Sprintf("%#v", v), code, "no field holds the code")
	require.NotContains(t, string(v.Code.Hash), code)
}

func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func requireVerifyError(t *testing.T, err error, cause error, msg string) {
	t.Helper()
	require.ErrorIs(t, err, verifykit.ErrInvalidInput)
	require.ErrorIs(t, err, cause)
	var ve *verifykit.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, msg, ve.Message)
}

func TestIssueAndVerify(t *testing.T) {
	e := newEnv(t)
	iss, code := e.issue(t, "u1", phone)
	require.Len(t, code, 6)
	require.Equal(t, start.Add(10*time.Minute), iss.ExpiresAt)
	msg, _ := e.sms.Last(phone)
	require.Equal(t, iss.ID, msg.IdempotencyKey)
	require.Equal(t, "Your verification code is "+code+". It is valid for 10 minutes.", msg.Body)

	res, err := e.verify("u1", code)
	require.NoError(t, err)
	require.Equal(t, ports.CodeVerified, res.State)
	require.Equal(t, iss.ID, res.CodeID)

	_, err = e.verify("u1", code)
	requireVerifyError(t, err, otp.ErrAlreadyUsed, otp.MsgAlreadyUsed)
}

func TestStoreHoldsNoPlaintextAndLogsNoCode(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	iss, err := e.svc.IssueExternal(ctx, otp.IssueRequest{Purpose: "login", Subject: "u1", Recipient: phone})
	require.NoError(t, err)
	code := iss.Code
	require.Len(t, code, 6)

	requireNoPlaintext(t, e.stored(t, "u1"), code)
	fromSvc, err := e.svc.Codes(ctx, "login", "u1")
	require.NoError(t, err)
	require.Equal(t, e.stored(t, "u1"), fromSvc)

	// Drive every path that logs, then look for the code and the full phone number.
	_, err = e.verify("u1", wrongCode(code))
	require.Error(t, err)
	requireNoPlaintext(t, e.stored(t, "u1"), code)
	_, err = e.verify("u1", code)
	require.NoError(t, err)
	requireNoPlaintext(t, e.stored(t, "u1"), code)
	e.clock.Advance(time.Minute)
	_, sent := e.issue(t, "u2", phone)
	e.sms.FailNext(1, true)
	e.clock.Advance(time.Minute)
	_, err = e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "u3", Recipient: phone})
	require.Error(t, err)

	logs := e.logs.String()
	require.Contains(t, logs, "otp issued", "the logger was used")
	require.Contains(t, logs, "otp delivery failed")
	require.NotContains(t, logs, code)
	require.NotContains(t, logs, sent)
	require.NotContains(t, logs, phone)
}

func TestNewCodeSupersedesOlderOfSameSubjectOnly(t *testing.T) {
	e := newEnv(t)
	_, old := e.issue(t, "u1", phone)
	_, other := e.issue(t, "u2", "+380501112233")
	e.clock.Advance(31 * time.Second)
	iss, fresh := e.issue(t, "u1", phone)
	require.Equal(t, 1, iss.Superseded)

	require.Equal(t, iss.ID, e.stored(t, "u1").Code.ID, "the Verification holds the newest code only")
	if old != fresh {
		_, err := e.verify("u1", old)
		requireVerifyError(t, err, otp.ErrWrongCode, otp.MsgInvalidCode)
	}
	_, err := e.verify("u1", fresh)
	require.NoError(t, err)
	_, err = e.verify("u2", other)
	require.NoError(t, err, "another subject's code is untouched")
}

func TestExpiryBoundary(t *testing.T) {
	e := newEnv(t)
	iss, code := e.issue(t, "u1", phone)
	e.clock.Set(iss.ExpiresAt.Add(-time.Nanosecond))
	_, err := e.verify("u1", wrongCode(code))
	requireVerifyError(t, err, otp.ErrWrongCode, otp.MsgInvalidCode)

	e.clock.Set(iss.ExpiresAt)
	_, err = e.verify("u1", code)
	requireVerifyError(t, err, otp.ErrExpired, otp.MsgExpired)
}

func TestPerRequestOverrides(t *testing.T) {
	e := newEnv(t)
	iss, err := e.svc.IssueExternal(context.Background(), otp.IssueRequest{
		Purpose: "person_request", Subject: "r1", TTL: 15 * time.Minute, MaxAttempts: 3, Digits: 4,
	})
	require.NoError(t, err)
	require.Len(t, iss.Code, 4)
	require.Equal(t, start.Add(15*time.Minute), iss.ExpiresAt)
	verify := func(code string) error {
		_, err := e.svc.Verify(context.Background(), otp.VerifyRequest{Purpose: "person_request", Subject: "r1", Code: code})
		return err
	}
	wrong := "0000"
	if iss.Code == wrong {
		wrong = "0001"
	}
	require.Error(t, verify(wrong))
	require.Error(t, verify(wrong))
	requireVerifyError(t, verify(wrong), otp.ErrAttemptsExceeded, otp.MsgAttemptsExceeded)
	requireVerifyError(t, verify(iss.Code), otp.ErrAttemptsExceeded, otp.MsgAttemptsExceeded)
}

func TestWrongCodeReportsAttemptsLeft(t *testing.T) {
	e := newEnv(t)
	_, code := e.issue(t, "u1", phone)
	for left := 4; left >= 1; left-- {
		res, err := e.verify("u1", wrongCode(code))
		requireVerifyError(t, err, otp.ErrWrongCode, otp.MsgInvalidCode)
		require.Equal(t, left, res.AttemptsLeft)
		require.True(t, res.Counted)
		var ve *verifykit.Error
		require.ErrorAs(t, err, &ve)
		require.Contains(t, ve.Invalid[0].Description, "attempts left")
	}
	res, err := e.verify("u1", wrongCode(code))
	requireVerifyError(t, err, otp.ErrAttemptsExceeded, otp.MsgAttemptsExceeded)
	require.Equal(t, ports.CodeBlocked, res.State)
	require.True(t, res.Counted, "the attempt that blocks the code is counted")
	res, err = e.verify("u1", code)
	requireVerifyError(t, err, otp.ErrAttemptsExceeded, otp.MsgAttemptsExceeded)
	require.False(t, res.Counted, "an attempt on a blocked code is refused, not counted")
}

func TestVerifyRejectsMalformedInputWithoutCountingAnAttempt(t *testing.T) {
	e := newEnv(t)
	_, code := e.issue(t, "u1", phone)
	for _, bad := range []string{"", "  ", "12a456", "123", "12345678901", "123 456", "１２３４５６", "+123456"} {
		_, err := e.verify("u1", bad)
		var ve *verifykit.Error
		require.ErrorAs(t, err, &ve, "input %q", bad)
		require.Equal(t, verifykit.KindInvalidInput, ve.Kind)
		require.Equal(t, "$.code", ve.Invalid[0].Entry)
	}
	_, err := e.svc.Verify(context.Background(), otp.VerifyRequest{Code: code})
	var ve *verifykit.Error
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Invalid, 2, "purpose and subject are both reported")

	v := e.stored(t, "u1")
	require.Zero(t, v.Code.Attempts)
	require.Empty(t, v.Failures)
	_, err = e.verify("u1", " "+code+"\n")
	require.NoError(t, err, "surrounding white space is trimmed")
}

func TestIssueValidation(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.Issue(context.Background(), otp.IssueRequest{TTL: -time.Second, Digits: 3})
	var ve *verifykit.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, verifykit.KindInvalidInput, ve.Kind)
	var entries []string
	for _, in := range ve.Invalid {
		entries = append(entries, in.Entry)
	}
	require.ElementsMatch(t, []string{"$.purpose", "$.subject", "$.recipient", "$.ttl", "$.digits"}, entries)
	require.Empty(t, e.sms.Attempts(), "nothing was sent")
}

func TestConcurrentRightCodeSucceedsOnce(t *testing.T) {
	e := newEnv(t)
	_, code := e.issue(t, "u1", phone)
	var ok, used atomic.Int32
	run(100, func() {
		_, err := e.verify("u1", code)
		switch {
		case err == nil:
			ok.Add(1)
		case errors.Is(err, otp.ErrAlreadyUsed):
			used.Add(1)
		}
	})
	require.EqualValues(t, 1, ok.Load())
	require.EqualValues(t, 99, used.Load())
}

func TestConcurrentWrongCodesNeverPassTheLimit(t *testing.T) {
	e := newEnv(t)
	_, code := e.issue(t, "u1", phone)
	var wrong, exceeded atomic.Int32
	run(50, func() {
		_, err := e.verify("u1", wrongCode(code))
		switch {
		case errors.Is(err, otp.ErrWrongCode):
			wrong.Add(1)
		case errors.Is(err, otp.ErrAttemptsExceeded):
			exceeded.Add(1)
		}
	})
	require.EqualValues(t, 4, wrong.Load())
	require.EqualValues(t, 46, exceeded.Load())
	v := e.stored(t, "u1")
	require.Equal(t, 5, v.Code.Attempts, "the attempt count never passes the limit")
	require.Len(t, v.Failures, 5, "only counted attempts count against the budget")
	_, err := e.verify("u1", code)
	requireVerifyError(t, err, otp.ErrAttemptsExceeded, otp.MsgAttemptsExceeded)
}

func run(n int, f func()) {
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			f()
		}()
	}
	close(gate)
	wg.Wait()
}

func requireRateLimited(t *testing.T, err error, retryAfter time.Duration) {
	t.Helper()
	var ve *verifykit.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, verifykit.KindRateLimited, ve.Kind)
	require.Equal(t, retryAfter, ve.RetryAfter)
}

func TestSendLimits(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	issue := func(subject string) error {
		_, err := e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: subject, Recipient: phone})
		return err
	}
	require.NoError(t, issue("u1"))
	e.clock.Advance(10 * time.Second)
	requireRateLimited(t, issue("u2"), 20*time.Second)
	require.Len(t, e.sms.Attempts(), 1, "a refused send sends nothing")

	for range 4 {
		e.clock.Advance(30 * time.Second)
		require.NoError(t, issue("u1"))
	}
	// Five sends so far, the first at start; the sixth within 10 minutes is refused.
	e.clock.Advance(30 * time.Second)
	now := e.clock.Now()
	requireRateLimited(t, issue("u1"), start.Add(10*time.Minute).Sub(now))
	require.Len(t, e.sms.Attempts(), 5)

	// Another recipient is not limited by this one.
	_, err := e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "u9", Recipient: "+380501112233"})
	require.NoError(t, err)

	e.clock.Set(start.Add(10 * time.Minute))
	require.NoError(t, issue("u1"))
}

func TestFailureBudgetBlocksVerification(t *testing.T) {
	e := newEnv(t, func(c *otp.Config) { c.FailureLimit = ports.RateLimit{Max: 3, Per: 24 * time.Hour} })
	_, code := e.issue(t, "u1", phone)
	for range 2 {
		_, err := e.verify("u1", wrongCode(code))
		require.ErrorIs(t, err, otp.ErrWrongCode)
	}
	// A new code does not reset the subject's failure budget.
	e.clock.Advance(time.Minute)
	_, code = e.issue(t, "u1", phone)
	_, err := e.verify("u1", wrongCode(code))
	require.ErrorIs(t, err, otp.ErrWrongCode)

	_, err = e.verify("u1", code)
	require.ErrorIs(t, err, verifykit.ErrRateLimited)
	require.ErrorIs(t, err, otp.ErrTooManyFailures)
	requireRateLimited(t, err, 24*time.Hour-time.Minute)
	v := e.stored(t, "u1")
	require.Equal(t, 1, v.Code.Attempts, "a refused attempt is not counted on the code")
	require.Len(t, v.Failures, 3, "nor on the budget")
	require.Equal(t, ports.CodeActive, v.Code.State)

	e.clock.Set(start.Add(24 * time.Hour))
	e.clock.Advance(time.Minute)
	_, code = e.issue(t, "u1", phone)
	_, err = e.verify("u1", code)
	require.NoError(t, err, "the budget refills as failures leave the window")
}

// TestFailuresAtALaterTimeCount: failures stored with times later than this call's clock
// (a concurrent call that read the clock after this one, or an instance whose clock is
// ahead) count against the budget; RetryAfter is measured from this call's clock.
func TestFailuresAtALaterTimeCount(t *testing.T) {
	e := newEnv(t, func(c *otp.Config) { c.FailureLimit = ports.RateLimit{Max: 3, Per: 24 * time.Hour} })
	_, code := e.issue(t, "u1", phone)
	later := start.Add(time.Minute)
	_, err := e.store.Update(context.Background(), "login", "u1", func(v *ports.Verification) error {
		v.Failures = append(v.Failures, later, later, later)
		return nil
	})
	require.NoError(t, err)

	_, err = e.verify("u1", code)
	require.ErrorIs(t, err, otp.ErrTooManyFailures, "three failures a minute ahead use up the budget now")
	requireRateLimited(t, err, 24*time.Hour+time.Minute)
	require.Len(t, e.stored(t, "u1").Failures, 3)
}

func TestDeliveryRetriesTransientFailures(t *testing.T) {
	e := newEnv(t)
	e.sms.FailNext(2, false)
	iss, err := e.svc.Issue(context.Background(), otp.IssueRequest{Purpose: "login", Subject: "u1", Recipient: phone})
	require.NoError(t, err)
	attempts := e.sms.Attempts()
	require.Len(t, attempts, 3)
	for _, a := range attempts {
		require.Equal(t, iss.ID, a.IdempotencyKey, "one idempotency key for every try")
	}
	require.Len(t, e.sms.Messages(), 1, "delivered once")
	_, err = e.verify("u1", e.codeOf(t, phone))
	require.NoError(t, err)
}

func TestDeliveryGivesUpAfterMaxRetries(t *testing.T) {
	e := newEnv(t)
	e.sms.FailNext(10, false)
	_, err := e.svc.Issue(context.Background(), otp.IssueRequest{Purpose: "login", Subject: "u1", Recipient: phone})
	require.ErrorIs(t, err, verifykit.ErrUnavailable)
	require.ErrorIs(t, err, otp.ErrUndeliverable)
	require.Len(t, e.sms.Attempts(), 4, "the first try and three retries")
}

func TestPermanentDeliveryFailure(t *testing.T) {
	e := newEnv(t)
	oldIss, old := e.issue(t, "u1", phone)
	e.clock.Advance(time.Minute)
	e.sms.FailNext(1, true)
	_, err := e.svc.Issue(context.Background(), otp.IssueRequest{Purpose: "login", Subject: "u1", Recipient: phone})
	require.ErrorIs(t, err, verifykit.ErrUnavailable)
	require.ErrorIs(t, err, otp.ErrUndeliverable)
	require.ErrorIs(t, err, ports.ErrPermanent)
	require.Len(t, e.sms.Attempts(), 2, "a permanent failure is not retried")

	v := e.stored(t, "u1")
	require.Equal(t, ports.CodeUndeliverable, v.Code.State)
	require.NotEqual(t, oldIss.ID, v.Code.ID, "the older code is gone: it stays invalid")
	_, err = e.verify("u1", old)
	requireVerifyError(t, err, otp.ErrNoActiveCode, otp.MsgInvalidCode)
}

func TestCustomSender(t *testing.T) {
	e := newEnv(t)
	var got []ports.Message
	_, err := e.svc.Issue(context.Background(), otp.IssueRequest{
		Purpose: "login", Subject: "u1", Recipient: "jane@example.com",
		Send:    func(_ context.Context, m ports.Message) error { got = append(got, m); return nil },
		Message: func(code string, _ time.Duration) string { return "code:" + code },
	})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Empty(t, e.sms.Attempts(), "the SMS sender was not used")
	_, err = e.verify("u1", strings.TrimPrefix(got[0].Body, "code:"))
	require.NoError(t, err)
}

func TestSecretRotation(t *testing.T) {
	store := memory.NewOTPStore()
	clock := memory.NewClock(start)
	newSvc := func(secrets ...[]byte) *otp.Service {
		cfg := testConfig()
		cfg.Secrets = secrets
		s, err := otp.NewService(otp.Deps{Store: store, Limiter: memory.NewRateLimiter(), Clock: clock}, cfg)
		require.NoError(t, err)
		return s
	}
	ctx := context.Background()
	issue := func(s *otp.Service, subject string) string {
		iss, err := s.IssueExternal(ctx, otp.IssueRequest{Purpose: "login", Subject: subject})
		require.NoError(t, err)
		return iss.Code
	}
	verify := func(s *otp.Service, subject, code string) error {
		_, err := s.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: subject, Code: code})
		return err
	}
	oldSvc := newSvc(secretA)
	c1 := issue(oldSvc, "u1")
	c2 := issue(oldSvc, "u2")

	rotated := newSvc(secretB, secretA)
	require.NoError(t, verify(rotated, "u1", c1), "codes hashed with an older secret still verify")
	c3 := issue(rotated, "u3")
	require.NoError(t, verify(newSvc(secretB), "u3", c3), "new codes use the first secret")
	require.ErrorIs(t, verify(newSvc(secretB), "u2", c2), otp.ErrWrongCode, "a removed secret's codes no longer verify")
}

func TestInvalidate(t *testing.T) {
	e := newEnv(t)
	_, code := e.issue(t, "u1", phone)
	n, err := e.svc.Invalidate(context.Background(), "login", "u1")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, ports.CodeSuperseded, e.stored(t, "u1").Code.State)
	_, err = e.verify("u1", code)
	requireVerifyError(t, err, otp.ErrNoActiveCode, otp.MsgInvalidCode)
	n, err = e.svc.Invalidate(context.Background(), "login", "u1")
	require.NoError(t, err)
	require.Zero(t, n, "nothing active is left to invalidate")
	n, err = e.svc.Invalidate(context.Background(), "login", "nobody")
	require.NoError(t, err)
	require.Zero(t, n)
	_, err = e.store.Get(context.Background(), "login", "nobody")
	require.ErrorIs(t, err, ports.ErrNoCode, "invalidating nothing stores nothing")
	_, err = e.svc.Invalidate(context.Background(), "", "u1")
	require.ErrorIs(t, err, verifykit.ErrInvalidInput)
}

func TestSweepPurgesExpiredCodes(t *testing.T) {
	e := newEnv(t)
	e.issue(t, "u1", phone)
	_, err := e.svc.Sweep(context.Background(), 0)
	require.ErrorIs(t, err, verifykit.ErrInvalidInput)
	n, err := e.svc.Sweep(context.Background(), 100)
	require.NoError(t, err)
	require.Zero(t, n)
	e.clock.Advance(10 * time.Minute)
	n, err = e.svc.Sweep(context.Background(), 100)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = e.store.Get(context.Background(), "login", "u1")
	require.ErrorIs(t, err, ports.ErrNoCode)
	_, err = e.svc.Codes(context.Background(), "login", "u1")
	require.ErrorIs(t, err, verifykit.ErrNotFound)
	require.ErrorIs(t, err, ports.ErrNoCode)
}

func TestStoreFailureIsUnavailable(t *testing.T) {
	cfg := testConfig()
	cfg.SendLimits = []ports.RateLimit{{Max: 1, Per: time.Hour}}
	limiter, sms := memory.NewRateLimiter(), memory.NewSMSOutbox()
	svc, err := otp.NewService(otp.Deps{Store: failingStore{}, Limiter: limiter, SMS: sms, Clock: memory.NewClock(start)}, cfg)
	require.NoError(t, err)
	ctx := context.Background()
	for range 2 {
		_, err = svc.Issue(ctx, otp.IssueRequest{Purpose: "p", Subject: "s", Recipient: phone})
		require.ErrorIs(t, err, verifykit.ErrUnavailable)
		require.ErrorIs(t, err, errDown)
		require.NoError(t, svc.CheckSendLimit(ctx, phone), "the send reserved for a code never stored is given back")
	}
	_, err = svc.IssueExternal(ctx, otp.IssueRequest{Purpose: "p", Subject: "s"})
	require.ErrorIs(t, err, verifykit.ErrUnavailable)
	require.Empty(t, sms.Attempts(), "a code that was not stored is not sent")
	_, err = svc.Verify(ctx, otp.VerifyRequest{Purpose: "p", Subject: "s", Code: "123456"})
	require.ErrorIs(t, err, verifykit.ErrUnavailable)
	_, err = svc.RecordFailure(ctx, "p", "s")
	require.ErrorIs(t, err, verifykit.ErrUnavailable)
	_, err = svc.Invalidate(ctx, "p", "s")
	require.ErrorIs(t, err, verifykit.ErrUnavailable)
	_, err = svc.Codes(ctx, "p", "s")
	require.ErrorIs(t, err, verifykit.ErrUnavailable)
	_, err = svc.Sweep(ctx, 10)
	require.ErrorIs(t, err, verifykit.ErrUnavailable)
}

// failingStore is an OTPStore whose database is down.
type failingStore struct{}

var errDown = errors.New("database down")

func (failingStore) Get(context.Context, string, string) (ports.Verification, error) {
	return ports.Verification{}, errDown
}

func (failingStore) Update(context.Context, string, string, func(*ports.Verification) error) (ports.Verification, error) {
	return ports.Verification{}, errDown
}

func (failingStore) PurgeExpired(context.Context, time.Time, int) (int, error) { return 0, errDown }

func TestBadConfig(t *testing.T) {
	deps := otp.Deps{Store: memory.NewOTPStore(), Limiter: memory.NewRateLimiter()}
	cases := []struct {
		name  string
		edit  func(*otp.Config)
		entry string
	}{
		{"no secret", func(c *otp.Config) { c.Secrets = nil }, "Secrets"},
		{"short secret", func(c *otp.Config) { c.Secrets = [][]byte{[]byte("short")} }, "Secrets[0]"},
		{"short second secret", func(c *otp.Config) { c.Secrets = append(c.Secrets, make([]byte, 31)) }, "Secrets[1]"},
		{"3 digits", func(c *otp.Config) { c.Digits = 3 }, "Digits"},
		{"11 digits", func(c *otp.Config) { c.Digits = 11 }, "Digits"},
		{"zero TTL", func(c *otp.Config) { c.TTL = 0 }, "TTL"},
		{"zero attempts", func(c *otp.Config) { c.MaxAttempts = 0 }, "MaxAttempts"},
		{"bad send limit", func(c *otp.Config) { c.SendLimits = []ports.RateLimit{{Max: 0, Per: time.Minute}} }, "SendLimits[0]"},
		{"bad failure limit", func(c *otp.Config) { c.FailureLimit = ports.RateLimit{} }, "FailureLimit"},
		{"zero backoff", func(c *otp.Config) { c.Delivery.BaseDelay = 0 }, "Delivery.BaseDelay"},
		{"no message", func(c *otp.Config) { c.Message = nil }, "Message"},
		{"zero config", func(c *otp.Config) { *c = otp.Config{} }, "Digits"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.edit(&cfg)
			var svc *otp.Service
			var err error
			require.NotPanics(t, func() { svc, err = otp.NewService(deps, cfg) })
			require.Nil(t, svc)
			var ve *verifykit.Error
			require.ErrorAs(t, err, &ve)
			require.Equal(t, verifykit.KindInvalidInput, ve.Kind)
			var entries []string
			for _, in := range ve.Invalid {
				entries = append(entries, in.Entry)
			}
			require.Contains(t, entries, tc.entry)
		})
	}
	_, err := otp.NewService(otp.Deps{}, testConfig())
	require.ErrorIs(t, err, verifykit.ErrInvalidInput, "missing store and limiter")
}

func TestConfigHidesSecrets(t *testing.T) {
	e := newEnv(t)
	require.Nil(t, e.svc.Config().Secrets)
	require.Equal(t, 6, e.svc.Config().Digits)
}

func TestRecordFailureCountsLikeAWrongCode(t *testing.T) {
	e := newEnv(t, func(c *otp.Config) { c.FailureLimit = ports.RateLimit{Max: 10, Per: time.Hour} })
	ctx := context.Background()
	_, code := e.issue(t, "u1", phone)
	res, err := e.svc.RecordFailure(ctx, "login", "u1")
	requireVerifyError(t, err, otp.ErrWrongCode, otp.MsgInvalidCode)
	require.Equal(t, 4, res.AttemptsLeft)
	for range 3 {
		_, err = e.svc.RecordFailure(ctx, "login", "u1")
		require.ErrorIs(t, err, otp.ErrWrongCode)
	}
	_, err = e.svc.RecordFailure(ctx, "login", "u1")
	requireVerifyError(t, err, otp.ErrAttemptsExceeded, otp.MsgAttemptsExceeded)
	_, err = e.verify("u1", code)
	requireVerifyError(t, err, otp.ErrAttemptsExceeded, otp.MsgAttemptsExceeded)

	// Nothing to count against: nothing is counted.
	_, err = e.svc.RecordFailure(ctx, "login", "nobody")
	requireVerifyError(t, err, otp.ErrNoActiveCode, otp.MsgInvalidCode)
	_, err = e.svc.RecordFailure(ctx, "", "u1")
	require.ErrorIs(t, err, verifykit.ErrInvalidInput)

	// The failures counted against the subject's budget: 5 of 10.
	e.clock.Advance(time.Minute)
	_, code = e.issue(t, "u1", phone)
	for range 5 {
		_, err = e.svc.RecordFailure(ctx, "login", "u1")
		require.Error(t, err)
		e.clock.Advance(time.Second)
	}
	_, err = e.verify("u1", code)
	require.ErrorIs(t, err, otp.ErrTooManyFailures)
}

func TestDefaultMessage(t *testing.T) {
	for ttl, want := range map[time.Duration]string{
		time.Minute:         "valid for 1 minute.",
		15 * time.Minute:    "valid for 15 minutes.",
		119 * time.Minute:   "valid for 119 minutes.",
		3 * time.Hour:       "valid for 3 hours.",
		30 * 24 * time.Hour: "valid for 30 days.",
	} {
		require.Equal(t, "Your verification code is 0042. It is "+want, otp.DefaultMessage("0042", ttl))
	}
}

func TestCheckSendLimitRecordsNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for range 3 {
		require.NoError(t, e.svc.CheckSendLimit(ctx, phone))
	}
	e.issue(t, "u1", phone)
	e.clock.Advance(10 * time.Second)
	requireRateLimited(t, e.svc.CheckSendLimit(ctx, phone), 20*time.Second)
	require.NoError(t, e.svc.CheckSendLimit(ctx, "+380501112233"))
	require.ErrorIs(t, e.svc.CheckSendLimit(ctx, ""), verifykit.ErrInvalidInput)
}

// slowStore widens the gap between the rules' decision and the write that stores it, as a
// shared database's round trip does: fn's answer is held for a while before the store
// writes what fn left.
type slowStore struct{ ports.OTPStore }

func (s slowStore) Update(ctx context.Context, purpose, subject string, fn func(*ports.Verification) error) (ports.Verification, error) {
	return s.OTPStore.Update(ctx, purpose, subject, func(v *ports.Verification) error {
		err := fn(v)
		time.Sleep(100 * time.Microsecond)
		return err
	})
}

func TestConcurrentWrongGuessesNeverPassTheFailureBudget(t *testing.T) {
	cfg := testConfig()
	cfg.FailureLimit = ports.RateLimit{Max: 3, Per: 24 * time.Hour}
	store, clock := memory.NewOTPStore(), memory.NewClock(start)
	svc, err := otp.NewService(otp.Deps{
		Store: slowStore{store}, Limiter: memory.NewRateLimiter(), Clock: clock,
	}, cfg)
	require.NoError(t, err)
	ctx := context.Background()
	iss, err := svc.IssueExternal(ctx, otp.IssueRequest{Purpose: "login", Subject: "u1"})
	require.NoError(t, err)

	var wrong, limited atomic.Int32
	run(50, func() {
		_, err := svc.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "u1", Code: wrongCode(iss.Code)})
		switch {
		case errors.Is(err, otp.ErrWrongCode):
			wrong.Add(1)
		case errors.Is(err, otp.ErrTooManyFailures):
			limited.Add(1)
		}
	})
	require.EqualValues(t, 3, wrong.Load(), "exactly the budget's wrong guesses reached the code")
	require.EqualValues(t, 47, limited.Load())
	v, err := store.Get(ctx, "login", "u1")
	require.NoError(t, err)
	require.Equal(t, 3, v.Code.Attempts)
	require.Len(t, v.Failures, 3)

	// A right code is never a failure: right codes never use up the budget.
	for range 5 {
		clock.Advance(time.Minute)
		iss, err := svc.IssueExternal(ctx, otp.IssueRequest{Purpose: "login", Subject: "u2"})
		require.NoError(t, err)
		_, err = svc.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "u2", Code: iss.Code})
		require.NoError(t, err)
		_, err = svc.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "u2", Code: iss.Code})
		require.ErrorIs(t, err, otp.ErrAlreadyUsed, "a refused reuse is not a failure either")
	}
	v, err = store.Get(ctx, "login", "u2")
	require.NoError(t, err)
	require.Empty(t, v.Failures)
}

func TestConcurrentWrongGuessesAcrossResendsNeverPassTheFailureBudget(t *testing.T) {
	const budget = 12
	cfg := testConfig()
	cfg.SendLimits = nil // resend as often as the goroutines like
	cfg.FailureLimit = ports.RateLimit{Max: budget, Per: 24 * time.Hour}
	store, clock := memory.NewOTPStore(), memory.NewClock(start)
	svc, err := otp.NewService(otp.Deps{
		Store: slowStore{store}, Limiter: memory.NewRateLimiter(), Clock: clock,
	}, cfg)
	require.NoError(t, err)
	ctx := context.Background()
	resend := func() error {
		_, err := svc.IssueExternal(ctx, otp.IssueRequest{Purpose: "login", Subject: "u1"})
		return err
	}
	// Codes have 6 digits: a 7-digit guess is well-formed and never matches.
	const guess = "0000000"
	var counted atomic.Int32
	attempt := func() {
		res, err := svc.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "u1", Code: guess})
		assert.Error(t, err)
		if res.Counted {
			counted.Add(1)
		}
	}
	require.NoError(t, resend())
	var i atomic.Int32
	run(120, func() {
		if i.Add(1)%4 == 0 {
			assert.NoError(t, resend())
			return
		}
		attempt()
	})
	v, err := store.Get(ctx, "login", "u1")
	require.NoError(t, err)
	require.LessOrEqual(t, int(counted.Load()), budget)
	require.Len(t, v.Failures, int(counted.Load()), "every counted attempt is on the budget, once")

	// Keep guessing, resending each blocked code: the budget stops it at exactly budget.
	for range 100 {
		res, err := svc.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "u1", Code: guess})
		if errors.Is(err, otp.ErrTooManyFailures) {
			break
		}
		if res.Counted {
			counted.Add(1)
		}
		if res.State != ports.CodeActive {
			require.NoError(t, resend())
		}
	}
	require.EqualValues(t, budget, counted.Load())
	v, err = store.Get(ctx, "login", "u1")
	require.NoError(t, err)
	require.Len(t, v.Failures, budget)
	require.NoError(t, resend())
	_, err = svc.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "u1", Code: guess})
	require.ErrorIs(t, err, otp.ErrTooManyFailures, "a new code does not refill the budget")
	require.ErrorIs(t, err, verifykit.ErrRateLimited)
}

// leakySMS fails the way real gateways do: naming the number, quoting the message.
type leakySMS struct{ permanent bool }

func (l leakySMS) Send(_ context.Context, m ports.Message) error {
	err := errors.New("gateway refused " + m.To + ": " + m.Body)
	if l.permanent {
		return fmt.Errorf("%w: %w", err, ports.ErrPermanent)
	}
	return err
}

func TestSenderErrorTextNeverLeaks(t *testing.T) {
	for _, permanent := range []bool{true, false} {
		var logs bytes.Buffer
		cfg := testConfig()
		svc, err := otp.NewService(otp.Deps{
			Store: memory.NewOTPStore(), SMS: leakySMS{permanent}, Limiter: memory.NewRateLimiter(),
			Clock: memory.NewClock(start), Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		}, cfg)
		require.NoError(t, err)
		_, err = svc.Issue(context.Background(), otp.IssueRequest{Purpose: "p", Subject: "s", Recipient: phone})
		require.ErrorIs(t, err, otp.ErrUndeliverable)
		require.Equal(t, permanent, errors.Is(err, ports.ErrPermanent), "the cause stays reachable")
		for _, text := range []string{err.Error(), logs.String()} {
			require.NotContains(t, text, phone)
			require.NotContains(t, text, "verification code is")
			require.Contains(t, text, "delivery failed")
		}
	}
}
