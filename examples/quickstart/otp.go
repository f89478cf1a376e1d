package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// demoOTP issues a code, reads it from the SMS outbox, verifies it, and shows a wrong code
// and a resend that invalidates the older code.
func demoOTP(ctx context.Context, w io.Writer) error {
	clock := memory.NewClock(time.Now())
	sms := memory.NewSMSOutbox()
	store := memory.NewOTPStore()
	cfg := otp.DefaultConfig()
	cfg.Secrets = [][]byte{randomSecret()}
	codes, err := otp.NewService(otp.Deps{Store: store, SMS: sms, Limiter: memory.NewRateLimiter(), Clock: clock}, cfg)
	if err != nil {
		return err
	}
	const phone = "+380931234585"
	req := otp.IssueRequest{Purpose: "login", Subject: "user-42", Recipient: phone}

	issued, err := codes.Issue(ctx, req)
	if err != nil {
		return err
	}
	first := lastCode(sms, phone)
	fmt.Fprintf(w, "Sent a %d-digit code to %s, valid until %s.\n", len(first), ports.MaskPhone(phone), issued.ExpiresAt.Format(time.TimeOnly))
	msg, _ := sms.Last(phone)
	fmt.Fprintf(w, "The SMS reads: %q\n", msg.Body)
	stored, err := store.Get(ctx, "login", "user-42")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "The store keeps only a %d-byte HMAC of it, state %q.\n", len(stored.Code.Hash), stored.Code.State)

	wrong := "000000"
	if first == wrong {
		wrong = "000001"
	}
	_, err = codes.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-42", Code: wrong})
	fmt.Fprintf(w, "Typing %s instead: %s.\n", wrong, describe(err))

	_, err = codes.Issue(ctx, req)
	fmt.Fprintf(w, "Asking for another code right away: %s.\n", describe(err))
	clock.Advance(31 * time.Second)
	resent, err := codes.Issue(ctx, req)
	if err != nil {
		return err
	}
	second := lastCode(sms, phone)
	fmt.Fprintf(w, "31 seconds later: a new code is sent, and %d older code no longer works.\n", resent.Superseded)

	if first != second {
		_, err = codes.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-42", Code: first})
		fmt.Fprintf(w, "The first code now: %s.\n", describe(err))
	}
	if _, err = codes.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-42", Code: second}); err != nil {
		return err
	}
	fmt.Fprintln(w, "The new code: verified.")
	_, err = codes.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-42", Code: second})
	fmt.Fprintf(w, "The new code a second time: %s.\n", describe(err))
	return demoBoundCode(ctx, w, codes, clock, sms, phone)
}

// demoBoundCode issues a code bound to the payment it confirms (PSD2 dynamic linking): the
// code does not match with another amount, and matches with the one it was sent for.
func demoBoundCode(ctx context.Context, w io.Writer, codes *otp.Service, clock *memory.Clock, sms *memory.SMSOutbox, phone string) error {
	clock.Advance(31 * time.Second)
	paid := []byte("amount=100.00 EUR;payee=ACME")
	pay := otp.IssueRequest{Purpose: "payment", Subject: "payment-7", Recipient: phone, Binding: paid}
	if _, err := codes.Issue(ctx, pay); err != nil {
		return err
	}
	code := lastCode(sms, phone)
	fmt.Fprintf(w, "A code bound to %q is sent.\n", paid)
	_, err := codes.Verify(ctx, otp.VerifyRequest{Purpose: "payment", Subject: "payment-7", Code: code,
		Binding: []byte("amount=900.00 EUR;payee=ACME")})
	fmt.Fprintf(w, "That code for 900.00 EUR instead: %s.\n", describe(err))
	if _, err := codes.Verify(ctx, otp.VerifyRequest{Purpose: "payment", Subject: "payment-7", Code: code, Binding: paid}); err != nil {
		return err
	}
	fmt.Fprintln(w, "That code for 100.00 EUR: verified.")
	return nil
}

// lastCode reads the code out of the last SMS sent to phone.
func lastCode(sms *memory.SMSOutbox, phone string) string {
	msg, _ := sms.Last(phone)
	for _, f := range strings.Fields(msg.Body) {
		f = strings.TrimSuffix(f, ".")
		if len(f) >= otp.MinDigits && strings.Trim(f, "0123456789") == "" {
			return f
		}
	}
	return ""
}

// randomSecret returns a fresh 32-byte HMAC secret. A real host loads its secrets from
// its secret store, so that codes survive a restart.
func randomSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}
