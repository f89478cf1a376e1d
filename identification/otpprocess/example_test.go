package otpprocess_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// An organisation opens an OTP identification process for an actor, who validates it with
// the code received by SMS and the number of their identity document.
func ExampleService() {
	ctx := context.Background()
	clock := memory.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	outbox := memory.NewSMSOutbox()
	ocfg := otp.DefaultConfig()
	ocfg.Secrets = [][]byte{[]byte("example-secret-of-at-least-32-bytes!")}
	codes, err := otp.NewService(otp.Deps{Store: memory.NewOTPStore(), SMS: outbox, Limiter: memory.NewRateLimiter(), Clock: clock}, ocfg)
	if err != nil {
		panic(err)
	}
	tokens := memory.NewTokens()
	expires := clock.Now().Add(time.Hour)
	tokens.Add("admin", ports.Claims{OrgID: "acme", Scopes: []string{otpprocess.DefaultAdminScope}, ExpiresAt: expires})
	tokens.Add("actor", ports.Claims{OrgID: "acme", Scopes: []string{otpprocess.DefaultActorScope}, ExpiresAt: expires})
	svc, err := otpprocess.NewService(otpprocess.Deps{
		Store: memory.NewProcessStore(), OTP: codes, Tokens: tokens, Clock: clock,
	}, otpprocess.DefaultConfig())
	if err != nil {
		panic(err)
	}

	created, err := svc.Create(ctx, otpprocess.CreateRequest{
		Token: "admin", OrgID: "acme",
		Actor: otpprocess.Actor{
			Name: "Jane", LastName: "Doe",
			MSISDN:           ports.ProcessPhone{CountryCode: "34", PhoneNumber: "600111222"},
			IdentityDocument: otpprocess.IdentityDocument{DocumentType: "DNI", DocumentNumber: "12345678Z", Country: "ES"},
		},
		ExpiresIn:     "P7D",
		TwoFactorType: otpprocess.TwoFactorDocumentNumber,
		Channel:       otpprocess.Channel{Type: otpprocess.ChannelSMS},
	})
	if err != nil {
		panic(err)
	}
	p := created.Process
	fmt.Println("created:", p.State, "expires", p.ExpiresAt.Format(time.DateOnly))

	md, _ := svc.Metadata(ctx, otpprocess.Request{Token: "actor", OrgID: "acme", ID: p.ID})
	fmt.Println("the actor sees:", md.State, md.TwoFactorType, md.MaskedContact)

	sms, _ := outbox.Last("+34600111222")
	code := strings.TrimSuffix(strings.TrimPrefix(sms.Body, "Your identification code is "), ".")
	_, err = svc.Validate(ctx, otpprocess.ValidateRequest{Token: "actor", OrgID: "acme", ID: p.ID, Code: code, TwoFactor: "1234 5678 x"})
	fmt.Println("wrong document number:", err)
	md, err = svc.Validate(ctx, otpprocess.ValidateRequest{Token: "actor", OrgID: "acme", ID: p.ID, Code: code, TwoFactor: "1234 5678 z"})
	fmt.Println("validated:", md.State, err)
	// Output:
	// created: CREATED expires 2026-03-08
	// the actor sees: CREATED DOCUMENT_NUMBER +3460*****22
	// wrong document number: Invalid second factor: $.two_factor does not match; 4 attempts left: otpprocess: second factor does not match
	// validated: VALIDATED <nil>
}
