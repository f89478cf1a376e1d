package otp_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/internal/otptest"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// Numbers of every type the default rules judge (ports.ParsePhone).
const (
	uaMobile    = "+380931234585"
	esMobile    = "+34600111222"
	usAny       = "+12025550143" // FIXED_LINE_OR_MOBILE
	usPremium   = "+19005550100"
	esShared    = "+34902123456"
	gbVoIP      = "+445612345678"
	gbFixedLine = "+442079460000"
)

// requireNothingIssued checks that a refused issue to subject stored and sent nothing.
func (e *env) requireNothingIssued(t *testing.T, subject string) {
	t.Helper()
	_, err := e.store.Get(context.Background(), "login", subject)
	require.ErrorIs(t, err, ports.ErrNoCode, "nothing stored")
}

func requireEntry(t *testing.T, err error, kind verifykit.Kind, entry, rule string) {
	t.Helper()
	var ve *verifykit.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, kind, ve.Kind, "%v", err)
	require.Len(t, ve.Invalid, 1, "%v", err)
	require.Equal(t, entry, ve.Invalid[0].Entry)
	require.Equal(t, rule, ve.Invalid[0].Rule)
}

func TestPhoneRecipientsAreNormalised(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.Issue(context.Background(), otp.IssueRequest{Purpose: "login", Subject: "u1", Recipient: " +380 93 123-45-85 "})
	require.NoError(t, err)
	msg, ok := e.sms.Last(uaMobile)
	require.True(t, ok, "sent to the E.164 form")
	require.Equal(t, uaMobile, msg.To)
	// One number, however written, has one send limit.
	_, err = e.svc.Issue(context.Background(), otp.IssueRequest{Purpose: "login", Subject: "u2", Recipient: "+380(93)1234585"})
	require.ErrorIs(t, err, verifykit.ErrRateLimited)
}

func TestPhoneRules(t *testing.T) {
	cases := []struct {
		name string
		edit func(*otp.Config)
		to   string
		rule string // "" when allowed
	}{
		{name: "mobile", to: uaMobile},
		{name: "fixed line or mobile", to: usAny},
		{name: "premium rate", to: usPremium, rule: "phone_type"},
		{name: "shared cost", to: esShared, rule: "phone_type"},
		{name: "VoIP", to: gbVoIP, rule: "phone_type"},
		{name: "fixed line", to: gbFixedLine, rule: "phone_type"},
		{name: "fixed line allowed", to: gbFixedLine, edit: func(c *otp.Config) {
			c.Phones.RefusedTypes = []ports.PhoneType{ports.PhoneVoIP}
		}},
		{name: "no such number", to: "+12345678", rule: "format"},
		{name: "national form", to: "0931234585", rule: "format"},
		{name: "allowed region", to: uaMobile, edit: func(c *otp.Config) { c.Phones.AllowedRegions = []string{"UA", "ES"} }},
		{name: "region not allowed", to: usAny, rule: "region", edit: func(c *otp.Config) { c.Phones.AllowedRegions = []string{"UA", "ES"} }},
		{name: "blocked region", to: esMobile, rule: "region", edit: func(c *otp.Config) { c.Phones.BlockedRegions = []string{"ES"} }},
		{name: "region not blocked", to: uaMobile, edit: func(c *otp.Config) { c.Phones.BlockedRegions = []string{"ES"} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var edits []func(*otp.Config)
			if tc.edit != nil {
				edits = append(edits, tc.edit)
			}
			e := newEnv(t, edits...)
			_, err := e.svc.Issue(context.Background(), otp.IssueRequest{Purpose: "login", Subject: "u1", Recipient: tc.to})
			if tc.rule == "" {
				require.NoError(t, err)
				require.Len(t, e.sms.Attempts(), 1)
				return
			}
			requireEntry(t, err, verifykit.KindInvalidInput, "$.recipient", tc.rule)
			require.Empty(t, e.sms.Attempts(), "nothing sent")
			e.requireNothingIssued(t, "u1")
			require.NoError(t, e.svc.CheckSendLimit(context.Background(), tc.to), "no send recorded")
			_, err = e.svc.DrawExternal(context.Background(), otp.IssueRequest{Purpose: "login", Subject: "u1", Recipient: tc.to})
			requireEntry(t, err, verifykit.KindInvalidInput, "$.recipient", tc.rule)
		})
	}
}

// pumpingConfig watches prefixes of 5 digits: a sample of 10 sends an hour, 20% verified.
func pumpingConfig(c *otp.Config) {
	c.SendLimits = nil
	c.Pumping = otp.PumpingGuard{PrefixDigits: 5, MinSends: 10, MinConversion: 0.2, Window: time.Hour, CoolDown: time.Hour}
}

// TestPumpingGuardPausesAPrefix: a scripted attack (many sends to one prefix, none
// verified) pauses that prefix once a sample is full, while other prefixes keep working;
// the prefix resumes after the cool-down.
func TestPumpingGuardPausesAPrefix(t *testing.T) {
	e := newEnv(t, pumpingConfig)
	ctx := context.Background()
	attack := func(i int) error {
		_, err := e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: fmt.Sprintf("bot-%d", i), Recipient: fmt.Sprintf("+3809300%05d", i)})
		return err
	}
	for i := range 10 {
		require.NoError(t, attack(i), "the sample fills")
		e.clock.Advance(time.Second)
	}
	err := attack(10)
	require.ErrorIs(t, err, verifykit.ErrRateLimited, "a full sample, nothing verified: paused")
	requireRateLimited(t, err, time.Hour)
	require.Contains(t, e.logs.String(), "otp sends to a prefix paused")
	require.Contains(t, e.logs.String(), "prefix=+38093")
	e.requireNothingIssued(t, "bot-10")
	require.Len(t, e.sms.Attempts(), 10, "the paused send was not sent")

	e.clock.Advance(30 * time.Minute)
	require.ErrorIs(t, attack(11), verifykit.ErrRateLimited, "still paused")
	_, err = e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "someone", Recipient: "+380671234567"})
	require.NoError(t, err, "another prefix keeps working")

	e.clock.Advance(30 * time.Minute)
	require.NoError(t, attack(12), "resumed after the cool-down")
}

// TestPumpingGuardSparesAConvertingPrefix: a prefix whose codes are verified stays open.
func TestPumpingGuardSparesAConvertingPrefix(t *testing.T) {
	e := newEnv(t, pumpingConfig)
	ctx := context.Background()
	for i := range 12 {
		to, subject := fmt.Sprintf("+3809300%05d", i), fmt.Sprintf("u%d", i)
		_, err := e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: subject, Recipient: to})
		require.NoError(t, err, "send %d", i)
		if i%3 == 0 {
			_, err := e.verify(subject, e.codeOf(t, to))
			require.NoError(t, err)
		}
		e.clock.Advance(time.Second)
	}
}

// TestCallingCodeBudget: sends per calling code are limited; others are not.
func TestCallingCodeBudget(t *testing.T) {
	e := newEnv(t, func(c *otp.Config) {
		c.Pumping.CallingCodeLimits = []ports.RateLimit{{Max: 3, Per: time.Hour}, {Max: 5, Per: 24 * time.Hour}}
	})
	ctx := context.Background()
	issue := func(subject, to string) error {
		_, err := e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: subject, Recipient: to})
		return err
	}
	for i := range 3 {
		require.NoError(t, issue(fmt.Sprintf("u%d", i), fmt.Sprintf("+3809300%05d", i)))
	}
	err := issue("u3", "+380930000999")
	require.ErrorIs(t, err, verifykit.ErrRateLimited)
	requireRateLimited(t, err, time.Hour)
	e.requireNothingIssued(t, "u3")
	require.Len(t, e.sms.Attempts(), 3)
	require.NoError(t, issue("es", esMobile), "another calling code has its own budget")

	e.clock.Advance(time.Hour)
	require.NoError(t, issue("u3", "+380930000999"))
	require.NoError(t, issue("u4", "+380930000998"))
	require.ErrorIs(t, issue("u5", "+380930000997"), verifykit.ErrRateLimited, "5 a day")
}

// TestConcurrentSendsKeepTheBudget: concurrent sends to one calling code never pass its
// budget.
func TestConcurrentSendsKeepTheBudget(t *testing.T) {
	e := newEnv(t, func(c *otp.Config) {
		c.Pumping.CallingCodeLimits = []ports.RateLimit{{Max: 5, Per: time.Hour}}
		c.Pumping.PrefixDigits, c.Pumping.MinSends, c.Pumping.Window, c.Pumping.CoolDown = 5, 100, time.Hour, time.Hour
	})
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.Issue(context.Background(), otp.IssueRequest{Purpose: "login", Subject: fmt.Sprintf("u%d", i), Recipient: fmt.Sprintf("+3809300%05d", i)})
			if err == nil {
				ok.Add(1)
			} else {
				require.ErrorIs(t, err, verifykit.ErrRateLimited)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, int32(5), ok.Load())
	require.Len(t, e.sms.Attempts(), 5)
}

// TestRecipientFailureBudget: wrong guesses on codes of many subjects sent to one phone
// use up that phone's budget; then no new code goes to it.
func TestRecipientFailureBudget(t *testing.T) {
	e := newEnv(t, func(c *otp.Config) {
		c.SendLimits = nil
		c.RecipientFailureLimit = ports.RateLimit{Max: 3, Per: 24 * time.Hour}
	})
	ctx := context.Background()
	for i := range 3 {
		subject := fmt.Sprintf("victim-%d", i)
		_, code := e.issue(t, subject, uaMobile)
		_, err := e.verify(subject, wrongCode(code))
		require.ErrorIs(t, err, otp.ErrWrongCode)
	}
	_, err := e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "victim-3", Recipient: uaMobile})
	require.ErrorIs(t, err, otp.ErrTooManyFailures)
	require.ErrorIs(t, err, verifykit.ErrRateLimited)
	e.requireNothingIssued(t, "victim-3")
	require.Len(t, e.sms.Attempts(), 3)
	_, err = e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "victim-3", Recipient: esMobile})
	require.NoError(t, err, "another phone has its own budget")
	e.clock.Advance(24 * time.Hour)
	_, err = e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "victim-4", Recipient: uaMobile})
	require.NoError(t, err, "failures leave the window")
}

// TestRecipientFailureBudgetAtVerify: wrong guesses on codes of many subjects sent to one
// phone use up its budget at verify time; then every attempt on a code sent to it is
// refused, the right code too, and changes nothing, while other phones keep theirs; the
// budget frees up with its window.
func TestRecipientFailureBudgetAtVerify(t *testing.T) {
	e := newEnv(t, func(c *otp.Config) {
		c.SendLimits = nil
		c.RecipientFailureLimit = ports.RateLimit{Max: 3, Per: 5 * time.Minute}
	})
	ctx := context.Background()
	codes := map[string]string{}
	for i := range 5 {
		subject := fmt.Sprintf("victim-%d", i)
		_, codes[subject] = e.issue(t, subject, uaMobile)
	}
	_, codes["other"] = e.issue(t, "other", esMobile)
	for i := range 3 {
		res, err := e.verify(fmt.Sprintf("victim-%d", i), "0000000")
		require.ErrorIs(t, err, otp.ErrWrongCode)
		require.True(t, res.Counted)
	}
	for _, attempt := range []func() error{
		func() error { _, err := e.verify("victim-3", "0000000"); return err },
		func() error { _, err := e.verify("victim-4", codes["victim-4"]); return err },
		func() error { _, err := e.svc.RecordFailure(ctx, "login", "victim-3"); return err },
	} {
		before3, before4 := e.stored(t, "victim-3"), e.stored(t, "victim-4")
		err := attempt()
		require.ErrorIs(t, err, otp.ErrTooManyFailures)
		requireRateLimited(t, err, 5*time.Minute)
		require.Equal(t, before3, e.stored(t, "victim-3"), "a refused attempt changes nothing")
		require.Equal(t, before4, e.stored(t, "victim-4"))
	}
	require.Zero(t, e.stored(t, "victim-3").Code.Attempts)
	require.Empty(t, e.stored(t, "victim-4").Failures)
	_, err := e.verify("other", "0000000")
	require.ErrorIs(t, err, otp.ErrWrongCode, "another phone has its own budget")

	e.clock.Advance(5 * time.Minute)
	_, err = e.verify("victim-4", codes["victim-4"])
	require.NoError(t, err, "the failures left the window")
}

// replacingStore runs replace once, before the third Update of a subject: after an issue
// (the first) and the first pass of an attempt (the second), as if a new code replaced the
// one that pass saw while the attempt decided its recipient's budget.
type replacingStore struct {
	ports.OTPStore
	subject string
	updates atomic.Int32
	replace func()
}

func (s *replacingStore) Update(ctx context.Context, purpose, subject string, fn func(*ports.Verification) error) (ports.Verification, error) {
	if subject == s.subject && s.updates.Add(1) == 3 {
		s.replace()
	}
	return s.OTPStore.Update(ctx, purpose, subject, fn)
}

// TestRecipientBudgetFollowsTheCodeThatIsChecked: when a new code to another phone
// replaces the code an attempt reserved a failure for, the reservation is given back and
// the new code's recipient is counted in its place.
func TestRecipientBudgetFollowsTheCodeThatIsChecked(t *testing.T) {
	cfg := testConfig()
	cfg.SendLimits = nil
	cfg.RecipientFailureLimit = ports.RateLimit{Max: 1, Per: time.Hour}
	sms, clock := memory.NewSMSOutbox(), memory.NewClock(start)
	store := &replacingStore{OTPStore: memory.NewOTPStore(), subject: "u1"}
	svc, err := otp.NewService(otp.Deps{Store: store, SMS: sms, Limiter: memory.NewRateLimiter(), Clock: clock}, cfg)
	require.NoError(t, err)
	ctx := context.Background()
	issue := func(subject, to string) {
		_, err := svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: subject, Recipient: to})
		require.NoError(t, err)
	}
	issue("u1", uaMobile) // the first Update of u1
	store.replace = func() { issue("u1", esMobile) }
	res, err := svc.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "u1", Code: "0000000"})
	require.ErrorIs(t, err, otp.ErrWrongCode)
	require.True(t, res.Counted)
	v, err := store.Get(ctx, "login", "u1")
	require.NoError(t, err)
	require.Equal(t, res.CodeID, v.Code.ID, "the guess was counted on the code to the second phone")
	require.Equal(t, 1, v.Code.Attempts)

	issue("ua", uaMobile)
	_, err = svc.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "ua", Code: "0000000"})
	require.ErrorIs(t, err, otp.ErrWrongCode, "the first phone's reservation was given back")
	_, err = svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "es", Recipient: esMobile})
	require.ErrorIs(t, err, otp.ErrTooManyFailures, "the second phone's budget counted the guess")
}

// TestConcurrentWrongGuessesNeverPassTheRecipientBudget: wrong guesses sprayed at once
// across codes of many subjects sent to one phone, through two engines on one memory
// store and limiter, never pass the phone's budget (internal/otptest, run by every
// adapter).
func TestConcurrentWrongGuessesNeverPassTheRecipientBudget(t *testing.T) {
	cfg := testConfig()
	otptest.RecipientBudgetConfig(&cfg)
	store, limiter, clock := memory.NewOTPStore(), memory.NewRateLimiter(), memory.NewClock(start)
	var svcs []*otp.Service
	for range 2 {
		svc, err := otp.NewService(otp.Deps{Store: slowStore{store}, Limiter: limiter, Clock: clock}, cfg)
		require.NoError(t, err)
		svcs = append(svcs, svc)
	}
	otptest.RaceRecipientFailureBudget(t, svcs, clock)
}

// TestSettleCountsFlowFailures: a flow that checks codes in its own record settles the
// attempt, and the recipient's budget counts it.
func TestSettleCountsFlowFailures(t *testing.T) {
	e := newEnv(t, func(c *otp.Config) {
		c.SendLimits = nil
		c.RecipientFailureLimit = ports.RateLimit{Max: 2, Per: time.Hour}
	})
	ctx := context.Background()
	for i := range 2 {
		var v ports.Verification
		d, err := e.svc.Draw(ctx, otp.IssueRequest{Purpose: "record", Subject: fmt.Sprintf("r%d", i), Recipient: uaMobile})
		require.NoError(t, err)
		e.svc.Put(&v, d)
		require.NoError(t, e.svc.Send(ctx, d))
		res, err := e.svc.Check(&v, wrongCode(e.codeOf(t, uaMobile)), e.clock.Now())
		require.ErrorIs(t, err, otp.ErrWrongCode)
		e.svc.Settle(ctx, v, res, err)
	}
	_, err := e.svc.Draw(ctx, otp.IssueRequest{Purpose: "record", Subject: "r2", Recipient: uaMobile})
	require.ErrorIs(t, err, otp.ErrTooManyFailures)
}

// TestSubjectsPerRecipient: at most MaxSubjectsPerRecipient subjects get a code to one
// recipient within the code's lifetime; a resend to a subject that has one is no new one.
func TestSubjectsPerRecipient(t *testing.T) {
	e := newEnv(t, func(c *otp.Config) {
		c.SendLimits = nil
		c.MaxSubjectsPerRecipient = 2
	})
	ctx := context.Background()
	issue := func(subject string) error {
		_, err := e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: subject, Recipient: uaMobile})
		return err
	}
	require.NoError(t, issue("a"))
	require.NoError(t, issue("b"))
	require.NoError(t, issue("a"), "a resend to a subject that has a code")
	err := issue("c")
	require.ErrorIs(t, err, verifykit.ErrRateLimited)
	e.requireNothingIssued(t, "c")
	require.Len(t, e.sms.Attempts(), 3)
	_, err = e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "c", Recipient: esMobile})
	require.NoError(t, err, "another recipient")
	e.clock.Advance(10 * time.Minute)
	require.NoError(t, issue("c"), "the codes' lifetime has passed")
}

// TestConcurrentDrawsOfOneSubjectCountItOnce: concurrent codes for one subject to one
// recipient count one subject against the cap, never one per draw.
func TestConcurrentDrawsOfOneSubjectCountItOnce(t *testing.T) {
	e := newEnv(t, func(c *otp.Config) {
		c.SendLimits = nil
		c.MaxSubjectsPerRecipient = 2
	})
	ctx := context.Background()
	var refused atomic.Int32
	run(30, func() {
		if _, err := e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "a", Recipient: uaMobile}); err != nil {
			refused.Add(1)
		}
	})
	require.Zero(t, refused.Load(), "one subject, however many codes at once")
	_, err := e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "b", Recipient: uaMobile})
	require.NoError(t, err, "the second subject")
	_, err = e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "c", Recipient: uaMobile})
	require.ErrorIs(t, err, verifykit.ErrRateLimited, "a was counted once: c is the third")
}

// TestTestRecipients: a test recipient gets its fixed code, stored only hashed, without any
// message, until its date; the fixed code never works for another recipient.
func TestTestRecipients(t *testing.T) {
	const fixed = "424242"
	until := start.Add(48 * time.Hour)
	e := newEnv(t, func(c *otp.Config) {
		c.TestRecipients = []otp.TestRecipient{{Phone: "+380 50 111 22 33", Code: fixed, Until: until}}
	})
	require.Contains(t, e.logs.String(), "otp test mode")
	require.Contains(t, e.logs.String(), "+38050*****33")
	require.NotContains(t, e.logs.String(), fixed, "the fixed code is never logged")
	require.Empty(t, e.svc.Config().TestRecipients[0].Code, "nor handed out")
	ctx := context.Background()

	_, err := e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "reviewer", Recipient: "+380501112233"})
	require.NoError(t, err)
	require.Empty(t, e.sms.Attempts(), "no message to a test recipient")
	requireNoPlaintext(t, e.stored(t, "reviewer"), fixed)
	_, err = e.verify("reviewer", fixed)
	require.NoError(t, err)

	_, code := e.issue(t, "someone", uaMobile)
	if code != fixed {
		_, err = e.verify("someone", fixed)
		require.ErrorIs(t, err, otp.ErrWrongCode, "the fixed code is no code of another recipient")
	}

	e.clock.Set(until)
	_, err = e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "reviewer", Recipient: "+380501112233"})
	require.NoError(t, err)
	require.Len(t, e.sms.Attempts(), 2, "test mode ended on its date: the code is sent")
	if sent := e.codeOf(t, "+380501112233"); sent != fixed {
		_, err = e.verify("reviewer", fixed)
		require.ErrorIs(t, err, otp.ErrWrongCode)
	}
}

func TestNoTestModeByDefault(t *testing.T) {
	require.Empty(t, otp.DefaultConfig().TestRecipients)
	e := newEnv(t)
	require.NotContains(t, e.logs.String(), "test mode")
}

func TestAbuseConfigValidation(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*otp.Config)
		entry string
	}{
		{"region", func(c *otp.Config) { c.Phones.AllowedRegions = []string{"ua"} }, "Phones.AllowedRegions[0]"},
		{"unknown region", func(c *otp.Config) { c.Phones.BlockedRegions = []string{"XX"} }, "Phones.BlockedRegions[0]"},
		{"allowed and blocked", func(c *otp.Config) {
			c.Phones.AllowedRegions, c.Phones.BlockedRegions = []string{"UA"}, []string{"UA"}
		}, "Phones.BlockedRegions[0]"},
		{"type", func(c *otp.Config) { c.Phones.RefusedTypes = []ports.PhoneType{"SATELLITE"} }, "Phones.RefusedTypes[0]"},
		{"calling code limit", func(c *otp.Config) { c.Pumping.CallingCodeLimits = []ports.RateLimit{{}} }, "Pumping.CallingCodeLimits[0]"},
		{"cool-down", func(c *otp.Config) { pumpingConfig(c); c.Pumping.CoolDown = time.Minute }, "Pumping.CoolDown"},
		{"conversion", func(c *otp.Config) { pumpingConfig(c); c.Pumping.MinConversion = 2 }, "Pumping.MinConversion"},
		{"recipient failures", func(c *otp.Config) { c.RecipientFailureLimit = ports.RateLimit{Max: 1} }, "RecipientFailureLimit"},
		{"subjects", func(c *otp.Config) { c.MaxSubjectsPerRecipient = -1 }, "MaxSubjectsPerRecipient"},
		{"test phone", func(c *otp.Config) {
			c.TestRecipients = []otp.TestRecipient{{Phone: "+12345678", Code: "123456", Until: start}}
		}, "TestRecipients[0].Phone"},
		{"test code", func(c *otp.Config) {
			c.TestRecipients = []otp.TestRecipient{{Phone: uaMobile, Code: "12", Until: start}}
		}, "TestRecipients[0].Code"},
		{"test date", func(c *otp.Config) {
			c.TestRecipients = []otp.TestRecipient{{Phone: uaMobile, Code: "123456"}}
		}, "TestRecipients[0].Until"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.edit(&cfg)
			_, err := otp.NewService(otp.Deps{Store: memory.NewOTPStore(), Limiter: memory.NewRateLimiter()}, cfg)
			var ve *verifykit.Error
			require.ErrorAs(t, err, &ve)
			require.Len(t, ve.Invalid, 1, "%v", err)
			require.Equal(t, tc.entry, ve.Invalid[0].Entry)
			require.Equal(t, verifykit.EntryConfig, ve.Invalid[0].EntryType)
		})
	}
}

// TestDefaultsTurnTheAbuseControlsOn: the default config guards against pumping and caps
// the subjects per recipient, meets both presets, and each control can be switched off
// on its own, which Validate accepts.
func TestDefaultsTurnTheAbuseControlsOn(t *testing.T) {
	cfg := otp.DefaultConfig()
	require.Equal(t, otp.DefaultPumpingGuard(), cfg.Pumping)
	require.NotEmpty(t, cfg.Pumping.CallingCodeLimits, "calling-code budgets on")
	require.Positive(t, cfg.Pumping.PrefixDigits, "conversion watch on")
	require.Positive(t, cfg.Pumping.MinConversion, "a watch that can pause")
	require.Equal(t, otp.DefaultMaxSubjectsPerRecipient, cfg.MaxSubjectsPerRecipient)
	require.Positive(t, cfg.RecipientFailureLimit.Max)
	cfg = testConfig()
	require.NoError(t, cfg.Validate())
	require.NoError(t, cfg.Check(otp.NIST80063B4()))
	require.NoError(t, cfg.Check(otp.ASVSLevel2()))

	for _, tc := range []struct {
		name string
		off  func(*otp.Config)
	}{
		{"pumping guard", func(c *otp.Config) { c.Pumping = otp.PumpingGuard{} }},
		{"calling-code budgets", func(c *otp.Config) { c.Pumping.CallingCodeLimits = nil }},
		{"conversion watch", func(c *otp.Config) { c.Pumping.PrefixDigits = 0 }},
		{"subjects per recipient", func(c *otp.Config) { c.MaxSubjectsPerRecipient = 0 }},
		{"recipient failure budget", func(c *otp.Config) { c.RecipientFailureLimit = ports.RateLimit{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.off(&cfg)
			require.NoError(t, cfg.Validate(), "switching it off is a valid config")
			require.NoError(t, newEnvErr(cfg))
		})
	}
}

func newEnvErr(cfg otp.Config) error {
	_, err := otp.NewService(otp.Deps{Store: memory.NewOTPStore(), Limiter: memory.NewRateLimiter()}, cfg)
	return err
}

// TestDefaultPumpingGuardPausesAScriptedAttack: on the default config, many sends to one
// prefix with none verified pause that prefix once the default sample (100) is full, while
// other prefixes keep working; it resumes after the default cool-down.
func TestDefaultPumpingGuardPausesAScriptedAttack(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	g := otp.DefaultPumpingGuard()
	attack := func(i int) error {
		_, err := e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: fmt.Sprintf("bot-%d", i), Recipient: fmt.Sprintf("+3809300%05d", i)})
		return err
	}
	for i := range g.MinSends {
		require.NoError(t, attack(i), "send %d: the sample fills", i)
	}
	err := attack(g.MinSends)
	require.ErrorIs(t, err, verifykit.ErrRateLimited, "a full sample, nothing verified: paused")
	requireRateLimited(t, err, g.CoolDown)
	require.Contains(t, e.logs.String(), "prefix=+380930")
	e.requireNothingIssued(t, fmt.Sprintf("bot-%d", g.MinSends))
	require.Len(t, e.sms.Attempts(), g.MinSends, "the paused send was not sent")
	_, err = e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "someone", Recipient: "+380671234567"})
	require.NoError(t, err, "another prefix keeps working")

	e.clock.Advance(g.CoolDown)
	require.NoError(t, attack(g.MinSends+1), "resumed after the cool-down")

	// Switched off, the same attack is not paused.
	e = newEnv(t, func(c *otp.Config) { c.Pumping.PrefixDigits = 0 })
	for i := range g.MinSends + 1 {
		require.NoError(t, attack(i), "send %d with the watch off", i)
	}
}

// TestDefaultCallingCodeBudgetStopsAFlood: an attack that verifies enough codes to pass
// the conversion watch is still stopped by the default budget of its calling code, at
// exactly the budget; other calling codes keep working.
func TestDefaultCallingCodeBudgetStopsAFlood(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	budget := otp.DefaultCallingCodeLimits()[0]
	sent := 0
	for i := 0; ; i++ {
		to, subject := fmt.Sprintf("+3809300%05d", i), fmt.Sprintf("bot-%d", i)
		_, err := e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: subject, Recipient: to})
		if err != nil {
			require.ErrorIs(t, err, verifykit.ErrRateLimited)
			require.Contains(t, err.Error(), "sent to this country")
			requireRateLimited(t, err, budget.Per)
			e.requireNothingIssued(t, subject)
			break
		}
		sent++
		if i%10 == 0 { // one code in ten verified: the conversion watch lets it pass
			_, err := e.verify(subject, e.codeOf(t, to))
			require.NoError(t, err)
		}
	}
	require.Equal(t, budget.Max, sent)
	require.Len(t, e.sms.Attempts(), budget.Max)
	_, err := e.svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "es", Recipient: esMobile})
	require.NoError(t, err, "another calling code has its own budget")
}

// TestDefaultSubjectsCap: by default at most DefaultMaxSubjectsPerRecipient subjects get a
// code to one phone at once; with the cap switched off, any number do.
func TestDefaultSubjectsCap(t *testing.T) {
	for _, off := range []bool{false, true} {
		t.Run(fmt.Sprintf("off=%v", off), func(t *testing.T) {
			e := newEnv(t, func(c *otp.Config) {
				c.SendLimits = nil
				if off {
					c.MaxSubjectsPerRecipient = 0
				}
			})
			issue := func(i int) error {
				_, err := e.svc.Issue(context.Background(), otp.IssueRequest{Purpose: "login", Subject: fmt.Sprintf("account-%d", i), Recipient: uaMobile})
				return err
			}
			for i := range otp.DefaultMaxSubjectsPerRecipient {
				require.NoError(t, issue(i))
			}
			err := issue(otp.DefaultMaxSubjectsPerRecipient)
			if off {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, verifykit.ErrRateLimited)
			e.requireNothingIssued(t, fmt.Sprintf("account-%d", otp.DefaultMaxSubjectsPerRecipient))
			require.Len(t, e.sms.Attempts(), otp.DefaultMaxSubjectsPerRecipient)
		})
	}
}
