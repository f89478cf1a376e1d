package memory_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/internal/otptest"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// budgetToken is the token of the flows of the recipient-budget tests: every scope of
// person requests, and of the processes of otptest.ProcessOrg.
const budgetToken = "tok-budget"

// budgetHosts is two host instances sharing the memory stores, limiter and outboxes: an otp
// engine on each (otptest.RecipientBudgetConfig), for the flows built on them.
type budgetHosts struct {
	clock   *memory.Clock
	sms     *memory.SMSOutbox
	tokens  *memory.Tokens
	events  *memory.Outbox
	engines []*otp.Service
}

func newBudgetHosts(t *testing.T) *budgetHosts {
	h := &budgetHosts{clock: memory.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), sms: memory.NewSMSOutbox(),
		tokens: memory.NewTokens(), events: memory.NewOutbox()}
	h.tokens.Add(budgetToken, ports.Claims{
		Subject: "operator", OrgID: otptest.ProcessOrg, ExpiresAt: h.clock.Now().Add(365 * 24 * time.Hour),
		Scopes: []string{personrequest.ScopeWrite, personrequest.ScopeRead, otpprocess.DefaultAdminScope, otpprocess.DefaultActorScope},
	})
	codes, limiter := memory.NewOTPStore(), memory.NewRateLimiter()
	for range 2 {
		h.engines = append(h.engines, memory.NewTestEngine(t, otp.Deps{Store: codes, Limiter: limiter, SMS: h.sms, Clock: h.clock}, otptest.RecipientBudgetConfig))
	}
	return h
}

// TestConcurrentWrongCodesAcrossPersonRequestsKeepThePhoneBudget: wrong codes sprayed at
// once across many person requests aimed at one phone, through two instances, count
// exactly the phone's failure budget; then every approval of those requests is refused
// and changes nothing (internal/otptest, run on PostgreSQL too).
func TestConcurrentWrongCodesAcrossPersonRequestsKeepThePhoneBudget(t *testing.T) {
	h := newBudgetHosts(t)
	store := memory.NewPersonRequestStore()
	store.PublishTo(h.events)
	cfg := personrequest.DefaultConfig()
	cfg.CodeTTL, cfg.CodeMaxAttempts = 2*otptest.RecipientBudgetWindow, otptest.FlowCodeAttempts
	var svcs []*personrequest.Service
	for _, engine := range h.engines {
		svc, err := personrequest.NewService(personrequest.Deps{
			Store: store, OTP: engine, Tokens: h.tokens, Uploads: memory.NewUploadSigner(), Clock: h.clock,
		}, cfg)
		require.NoError(t, err)
		svcs = append(svcs, svc)
	}
	otptest.RaceFlowRecipientFailureBudget(t, otptest.PersonRequests(svcs, store, h.sms, otptest.MemoryEvents(h.events), budgetToken), h.clock)
}

// TestConcurrentWrongAttemptsAcrossProcessesKeepThePhoneBudget: wrong codes and wrong
// second factors sprayed at once across many OTP identification processes aimed at one
// phone, through two instances, count exactly the phone's failure budget; then every
// validation of those processes is refused and changes nothing (internal/otptest, run on
// PostgreSQL too).
func TestConcurrentWrongAttemptsAcrossProcessesKeepThePhoneBudget(t *testing.T) {
	h := newBudgetHosts(t)
	store := memory.NewProcessStore()
	store.PublishTo(h.events)
	cfg := otpprocess.DefaultConfig()
	cfg.MaxAttempts = otptest.FlowCodeAttempts
	var svcs []*otpprocess.Service
	for _, engine := range h.engines {
		svc, err := otpprocess.NewService(otpprocess.Deps{Store: store, OTP: engine, Tokens: h.tokens, Clock: h.clock}, cfg)
		require.NoError(t, err)
		svcs = append(svcs, svc)
	}
	otptest.RaceFlowRecipientFailureBudget(t, otptest.Processes(svcs, store, h.sms, otptest.MemoryEvents(h.events), budgetToken), h.clock)
}
