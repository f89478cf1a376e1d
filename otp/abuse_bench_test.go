package otp_test

import (
	"context"
	"testing"
	"time"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// BenchmarkIssueControls measures Issue with every abuse control off (phone numbers are
// still parsed) and on: regions, number types, calling-code budgets, the conversion watch,
// the recipient failure budget and the subjects cap.
func BenchmarkIssueControls(b *testing.B) {
	off := func(c *otp.Config) {
		c.Phones = otp.PhoneRules{}
		c.Pumping = otp.PumpingGuard{}
		c.RecipientFailureLimit = ports.RateLimit{}
		c.MaxSubjectsPerRecipient = 0
	}
	on := func(c *otp.Config) {
		c.Phones.AllowedRegions = []string{"UA", "ES", "PL"}
		c.Pumping = otp.PumpingGuard{
			CallingCodeLimits: []ports.RateLimit{{Max: 1 << 30, Per: time.Hour}, {Max: 1 << 30, Per: 24 * time.Hour}},
			PrefixDigits:      5, MinSends: 50, Window: time.Hour, CoolDown: time.Hour, // samples, never pauses
		}
		c.MaxSubjectsPerRecipient = 3
	}
	// The calling-code budgets count every send to a country in one limiter key, whose
	// event log the memory (and PostgreSQL) limiter scans on each send: their cost grows
	// with the sends their windows hold (here up to 18,000 an hour).
	onNoBudgets := func(c *otp.Config) {
		on(c)
		c.Pumping.CallingCodeLimits = nil
	}
	for _, bc := range []struct {
		name string
		edit func(*otp.Config)
	}{{"off", off}, {"on_without_calling_code_budgets", onNoBudgets}, {"on", on}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := testConfig()
			bc.edit(&cfg)
			svc, err := otp.NewService(otp.Deps{
				Store: memory.NewOTPStore(), SMS: memory.DiscardSender{}, Limiter: memory.NewRateLimiter(),
				Clock: &steppingClock{step: 200 * time.Millisecond},
			}, cfg)
			if err != nil {
				b.Fatal(err)
			}
			to := recipients("093")
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				r := to[i%benchRecipients]
				if _, err := svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: r, Recipient: r}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyControls measures Verify of a right code sent to a phone, with the
// recipient's failure budget off and on (the default): on, the attempt first finds the
// budget of the code's recipient not used up (an Update that writes nothing, a Peek of the
// limiter), then is stored. Codes are issued off the clock, verifyChunk at a time.
func BenchmarkVerifyControls(b *testing.B) {
	for _, bc := range []struct {
		name   string
		budget ports.RateLimit
	}{{"off", ports.RateLimit{}}, {"on", otp.DefaultConfig().RecipientFailureLimit}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := benchConfig()
			cfg.SendLimits, cfg.MaxSubjectsPerRecipient, cfg.RecipientFailureLimit = nil, 0, bc.budget
			clock := memory.NewClock(start)
			svc, err := otp.NewService(otp.Deps{Store: memory.NewOTPStore(), Limiter: memory.NewRateLimiter(), Clock: clock}, cfg)
			if err != nil {
				b.Fatal(err)
			}
			benchVerifyOn(b, svc, clock, 1, "093")
		})
	}
}
