package otpprocess_test

import (
	"context"
	"testing"

	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/otp"
)

// noSendLimits lets a benchmark send many codes to one recipient: no send limits, no cap
// on the subjects (processes) with a code to it, and no pumping guard (the benchmarks send
// thousands of codes to one number and verify few).
func noSendLimits(_ *otpprocess.Deps, _ *otpprocess.Config, c *otp.Config) {
	c.SendLimits = nil
	c.MaxSubjectsPerRecipient = 0
	c.Pumping = otp.PumpingGuard{}
}

// BenchmarkCreateOTPIdentification opens SMS processes on the memory adapters: token
// check, input validation, store, code issue (HMAC, store, delivery to the outbox).
func BenchmarkCreateOTPIdentification(b *testing.B) {
	e := newEnv(b, noSendLimits)
	req := otpprocess.CreateRequest{Token: tokAdminA, OrgID: "org-a", Actor: e.actor(), ExpiresIn: "P7D",
		TwoFactorType: otpprocess.TwoFactorDocumentNumber, Channel: sms}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.svc.Create(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateOTPIdentification validates processes with their code and second
// factor: token check, second factor, code verification, the VALIDATED transition. The
// processes are created outside the timer.
func BenchmarkValidateOTPIdentification(b *testing.B) {
	e := newEnv(b, noSendLimits)
	ctx := context.Background()
	req := otpprocess.CreateRequest{Token: tokAdminA, OrgID: "org-a", Actor: e.actor(), TwoFactorType: otpprocess.TwoFactorDocumentNumber, Channel: sms}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		res, err := e.svc.Create(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		code := e.codeOf(b, res.Process, "")
		b.StartTimer()
		if _, err := e.validate(res.Process, code, "1234 5678 z"); err != nil {
			b.Fatal(err)
		}
	}
}
