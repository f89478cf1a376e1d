package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/adapters/postgres"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/internal/otptest"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// abuseEnv is two otp engines (two host instances) on one schema, sending into one outbox.
type abuseEnv struct {
	dbs   []*postgres.DB
	svcs  []*otp.Service
	sms   *memory.SMSOutbox
	clock *memory.Clock
}

func newAbuseEnv(t *testing.T, configure func(*otp.Config)) *abuseEnv {
	t.Helper()
	e := &abuseEnv{dbs: instances(t, 2), sms: memory.NewSMSOutbox(), clock: memory.NewClock(start)}
	for _, db := range e.dbs {
		e.svcs = append(e.svcs, newOTP(t, db, e.clock, e.sms, configure))
	}
	return e
}

func (e *abuseEnv) issue(i int, subject, to string) error {
	_, err := e.svcs[i%2].Issue(context.Background(), otp.IssueRequest{Purpose: "login", Subject: subject, Recipient: to})
	return err
}

// requireNothingStored checks that a refused issue stored nothing for subject.
func (e *abuseEnv) requireNothingStored(t *testing.T, subject string) {
	t.Helper()
	_, err := e.dbs[0].OTPStore().Get(context.Background(), "login", subject)
	require.ErrorIs(t, err, ports.ErrNoCode)
}

// TestAbusePhoneRules: regions and number types, on PostgreSQL: allowed, refused, and a
// refusal stores and sends nothing.
func TestAbusePhoneRules(t *testing.T) {
	e := newAbuseEnv(t, func(c *otp.Config) { c.Phones.AllowedRegions = []string{"UA", "GB"} })
	require.NoError(t, e.issue(0, "ok", "+380 93 123-45-85"))
	for _, tc := range []struct{ to, rule string }{
		{"+34600111222", "region"},
		{"+445612345678", "phone_type"}, // VoIP
		{"+442079460000", "phone_type"}, // fixed line
		{"+12345678", "format"},
	} {
		err := e.issue(1, "bad", tc.to)
		var ve *verifykit.Error
		require.ErrorAs(t, err, &ve, tc.to)
		require.Equal(t, verifykit.KindInvalidInput, ve.Kind)
		require.Equal(t, "$.recipient", ve.Invalid[0].Entry)
		require.Equal(t, tc.rule, ve.Invalid[0].Rule, tc.to)
	}
	e.requireNothingStored(t, "bad")
	require.Len(t, e.sms.Attempts(), 1)
	_, ok := e.sms.Last("+380931234585")
	require.True(t, ok, "stored and sent in E.164 form")
}

// TestAbusePumpingGuardAcrossInstances: sends to one prefix through two instances fill one
// sample; none verified, the prefix pauses on both, other prefixes keep working, and it
// resumes after the cool-down.
func TestAbusePumpingGuardAcrossInstances(t *testing.T) {
	e := newAbuseEnv(t, func(c *otp.Config) {
		c.SendLimits = nil
		c.Pumping = otp.PumpingGuard{PrefixDigits: 5, MinSends: 6, MinConversion: 0.5, Window: time.Hour, CoolDown: time.Hour}
	})
	for i := range 6 {
		require.NoError(t, e.issue(i, fmt.Sprintf("bot-%d", i), fmt.Sprintf("+3809300%05d", i)))
		e.clock.Advance(time.Second)
	}
	require.ErrorIs(t, e.issue(0, "bot-6", "+380930000006"), verifykit.ErrRateLimited)
	require.ErrorIs(t, e.issue(1, "bot-7", "+380930000007"), verifykit.ErrRateLimited, "the other instance sees the pause")
	e.requireNothingStored(t, "bot-6")
	require.Len(t, e.sms.Attempts(), 6)
	require.NoError(t, e.issue(1, "other", "+380671234567"), "another prefix")
	e.clock.Advance(time.Hour)
	require.NoError(t, e.issue(0, "bot-8", "+380930000008"), "resumed")
}

// TestAbuseConcurrentBudget: concurrent sends through two instances never pass a calling
// code's budget.
func TestAbuseConcurrentBudget(t *testing.T) {
	e := newAbuseEnv(t, func(c *otp.Config) {
		c.Pumping.CallingCodeLimits = []ports.RateLimit{{Max: 4, Per: time.Hour}}
	})
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if e.issue(i, fmt.Sprintf("u%d", i), fmt.Sprintf("+3809300%05d", i)) == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, int32(4), ok.Load())
	require.Len(t, e.sms.Attempts(), 4)
}

// TestAbuseRecipientBudgets: the recipient failure budget and the subjects cap hold across
// instances.
func TestAbuseRecipientBudgets(t *testing.T) {
	e := newAbuseEnv(t, func(c *otp.Config) {
		c.SendLimits = nil
		c.RecipientFailureLimit = ports.RateLimit{Max: 2, Per: time.Hour}
		c.MaxSubjectsPerRecipient = 3
	})
	ctx := context.Background()
	const phone = "+380931234585"
	for i := range 2 {
		require.NoError(t, e.issue(i, fmt.Sprintf("v%d", i), phone))
		_, err := e.svcs[(i+1)%2].Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: fmt.Sprintf("v%d", i), Code: "0000"})
		require.Error(t, err)
	}
	err := e.issue(0, "v2", phone)
	require.ErrorIs(t, err, otp.ErrTooManyFailures)
	e.requireNothingStored(t, "v2")

	const other = "+380501112233"
	for i := range 3 {
		require.NoError(t, e.issue(i, fmt.Sprintf("s%d", i), other))
	}
	require.ErrorIs(t, e.issue(1, "s3", other), verifykit.ErrRateLimited, "a fourth subject aimed at one phone")
	e.requireNothingStored(t, "s3")
}

// TestAbuseConcurrentGuessesKeepTheRecipientBudget: wrong guesses sprayed at once across
// the codes of many subjects sent to one phone, through two instances, never pass the
// phone's failure budget, and a refused attempt changes nothing (internal/otptest).
func TestAbuseConcurrentGuessesKeepTheRecipientBudget(t *testing.T) {
	_, svcs, clock := twoEngines(t, otptest.RecipientBudgetConfig)
	otptest.RaceRecipientFailureBudget(t, svcs, clock)
}

// TestAbuseTestMode: a test recipient gets its fixed code without a message until its
// date, on PostgreSQL too.
func TestAbuseTestMode(t *testing.T) {
	until := start.Add(time.Hour)
	e := newAbuseEnv(t, func(c *otp.Config) {
		c.TestRecipients = []otp.TestRecipient{{Phone: "+380501112233", Code: "135790", Until: until}}
	})
	ctx := context.Background()
	require.NoError(t, e.issue(0, "reviewer", "+380501112233"))
	require.Empty(t, e.sms.Attempts())
	_, err := e.svcs[1].Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "reviewer", Code: "135790"})
	require.NoError(t, err)
	e.clock.Set(until)
	require.NoError(t, e.issue(1, "reviewer", "+380501112233"))
	require.Len(t, e.sms.Attempts(), 1, "expired on its date")
}

// budgetFlowHosts is two host instances on one schema with an otp engine each
// (otptest.RecipientBudgetConfig), sharing the clock, the SMS outbox and the tokens.
type budgetFlowHosts struct {
	dbs     []*postgres.DB
	engines []*otp.Service
	clock   *memory.Clock
	sms     *memory.SMSOutbox
	tokens  *memory.Tokens
}

// budgetFlowToken is the token of the flows of budgetFlowHosts: every scope of person
// requests, and of the processes of otptest.ProcessOrg.
const budgetFlowToken = "tok-budget"

func newBudgetFlowHosts(t *testing.T) *budgetFlowHosts {
	t.Helper()
	h := &budgetFlowHosts{dbs: instances(t, 2), clock: memory.NewClock(start), sms: memory.NewSMSOutbox(), tokens: memory.NewTokens()}
	for _, db := range h.dbs {
		h.engines = append(h.engines, newOTP(t, db, h.clock, h.sms, otptest.RecipientBudgetConfig))
	}
	h.tokens.Add(budgetFlowToken, ports.Claims{
		Subject: "operator", OrgID: otptest.ProcessOrg, ExpiresAt: start.Add(365 * 24 * time.Hour),
		Scopes: []string{personrequest.ScopeWrite, personrequest.ScopeRead, otpprocess.DefaultAdminScope, otpprocess.DefaultActorScope},
	})
	return h
}

// events tells how many events the outbox holds for the record id.
func (h *budgetFlowHosts) events(t *testing.T) func(id string) any {
	table := pgx.Identifier{h.dbs[0].Schema(), "outbox"}.Sanitize()
	return func(id string) any {
		var n int
		require.NoError(t, h.dbs[0].Pool().QueryRow(context.Background(), "select count(*) from "+table+" where aggregate_id = $1", id).Scan(&n))
		return n
	}
}

// TestAbuseConcurrentCodesAcrossPersonRequestsKeepThePhoneBudget: wrong codes sprayed at
// once across many person requests aimed at one phone, through two instances, count
// exactly the phone's failure budget; then every approval of those requests is refused and
// changes nothing: request, code, events, limiter (internal/otptest).
func TestAbuseConcurrentCodesAcrossPersonRequestsKeepThePhoneBudget(t *testing.T) {
	h := newBudgetFlowHosts(t)
	cfg := personrequest.DefaultConfig()
	cfg.CodeTTL, cfg.CodeMaxAttempts = 2*otptest.RecipientBudgetWindow, otptest.FlowCodeAttempts
	var svcs []*personrequest.Service
	for i, db := range h.dbs {
		svc, err := personrequest.NewService(personrequest.Deps{
			Store: db.PersonRequestStore(), OTP: h.engines[i], Tokens: h.tokens, Uploads: memory.NewUploadSigner(), Clock: h.clock,
		}, cfg)
		require.NoError(t, err)
		svcs = append(svcs, svc)
	}
	flow := otptest.PersonRequests(svcs, h.dbs[0].PersonRequestStore(), h.sms, h.events(t), budgetFlowToken)
	otptest.RaceFlowRecipientFailureBudget(t, flow, h.clock)
}

// TestAbuseConcurrentAttemptsAcrossProcessesKeepThePhoneBudget: wrong codes and wrong
// second factors sprayed at once across many OTP identification processes aimed at one
// phone, through two instances, count exactly the phone's failure budget; then every
// validation of those processes is refused and changes nothing (internal/otptest).
func TestAbuseConcurrentAttemptsAcrossProcessesKeepThePhoneBudget(t *testing.T) {
	h := newBudgetFlowHosts(t)
	cfg := otpprocess.DefaultConfig()
	cfg.MaxAttempts = otptest.FlowCodeAttempts
	var svcs []*otpprocess.Service
	for i, db := range h.dbs {
		svc, err := otpprocess.NewService(otpprocess.Deps{Store: db.ProcessStore(), OTP: h.engines[i], Tokens: h.tokens, Clock: h.clock}, cfg)
		require.NoError(t, err)
		svcs = append(svcs, svc)
	}
	flow := otptest.Processes(svcs, h.dbs[0].ProcessStore(), h.sms, h.events(t), budgetFlowToken)
	otptest.RaceFlowRecipientFailureBudget(t, flow, h.clock)
}
