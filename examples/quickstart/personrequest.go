package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// demoPersonRequest runs a person request end to end on the memory adapters: a registrar
// creates it and the code goes to the person's phone; the code is resent to the person's
// mother (a THIRD_PERSON method), which kills the first code and the first upload URLs;
// the request is approved with her code and signed; another request is left to expire.
func demoPersonRequest(ctx context.Context, w io.Writer) error {
	clock := memory.NewClock(time.Now().UTC().Truncate(time.Second))
	sms := memory.NewSMSOutbox()
	ocfg := otp.DefaultConfig()
	ocfg.Secrets = [][]byte{randomSecret()}
	codes, err := otp.NewService(otp.Deps{Store: memory.NewOTPStore(), SMS: sms, Limiter: memory.NewRateLimiter(), Clock: clock}, ocfg)
	if err != nil {
		return err
	}
	tokens := memory.NewTokens()
	tokens.Add("registrar", ports.Claims{
		Subject:   "registrar",
		Scopes:    []string{personrequest.ScopeWrite, personrequest.ScopeRead},
		ExpiresAt: clock.Now().Add(365 * 24 * time.Hour),
	})
	svc, err := personrequest.NewService(personrequest.Deps{
		Store: memory.NewPersonRequestStore(), OTP: codes, Tokens: tokens,
		Uploads: memory.NewUploadSigner(), Clock: clock,
	}, personrequest.DefaultConfig())
	if err != nil {
		return err
	}

	const ownPhone, motherPhone = "+380931234585", "+380501112233"
	create := personrequest.CreateRequest{
		Token: "registrar",
		Person: personrequest.Person{
			FirstName: "Petro", LastName: "Ivanenko",
			Documents: []personrequest.Document{{Type: "BIRTH_CERTIFICATE", Number: "I-AB 123456"}},
			AuthMethods: []personrequest.AuthMethod{
				{Type: personrequest.AuthOTP, Alias: "own phone", Phone: ownPhone, Primary: true},
				{Type: personrequest.AuthThirdPerson, Alias: "mother"},
			},
		},
		ThirdPerson: personrequest.Person{
			FirstName: "Olena", LastName: "Ivanenko",
			Documents:   []personrequest.Document{{Type: "PASSPORT", Number: "CD654321"}},
			AuthMethods: []personrequest.AuthMethod{{Type: personrequest.AuthOTP, Phone: motherPhone, Primary: true}},
		},
	}
	r, err := svc.Create(ctx, create)
	if err != nil {
		return err
	}
	firstCode := lastCode(sms, ownPhone)
	firstURL := r.Urgent.Documents[0].URL
	fmt.Fprintf(w, "Created person request %s…: %s; a %d-digit code went by SMS to %s.\n",
		r.ID[:8], r.Status, len(firstCode), r.Urgent.AuthenticationMethodCurrent.PhoneNumber)
	for _, m := range r.Urgent.AuthenticationMethods {
		fmt.Fprintf(w, "  auth method %-12s alias %-10q phone %q primary=%v\n", m.Type, m.Alias, m.PhoneNumber, m.Primary)
	}
	for _, d := range r.Urgent.Documents {
		fmt.Fprintf(w, "  upload %s at %s\n", d.Type, shortURL(d.URL))
	}

	_, err = svc.ResendAuthMethod(ctx, personrequest.ResendRequest{Token: "registrar", ID: r.ID})
	fmt.Fprintf(w, "Resend at once: %v\n", describe(err))
	clock.Advance(time.Minute)
	r, err = svc.ResendAuthMethod(ctx, personrequest.ResendRequest{Token: "registrar", ID: r.ID, Alias: "mother"})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Resent a minute later to alias \"mother\": the code went to %s (%s).\n",
		r.Urgent.AuthenticationMethodCurrent.PhoneNumber, r.Urgent.AuthenticationMethodCurrent.Type)
	oldValid, err := svc.UploadURLValid(ctx, r.ID, firstURL)
	if err != nil {
		return err
	}
	newValid, err := svc.UploadURLValid(ctx, r.ID, r.Urgent.Documents[0].URL)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "New upload URLs were issued: the first one valid=%v, the new one valid=%v.\n", oldValid, newValid)

	_, err = svc.ResendAuthMethod(ctx, personrequest.ResendRequest{Token: "registrar", ID: r.ID, Alias: "nobody"})
	fmt.Fprintf(w, "Resend to an unknown alias: %v\n", describe(err))
	_, err = svc.Approve(ctx, personrequest.ApproveRequest{Token: "registrar", ID: r.ID, Code: firstCode})
	fmt.Fprintf(w, "Approve with the first code: %v\n", describe(err))
	r, err = svc.Approve(ctx, personrequest.ApproveRequest{Token: "registrar", ID: r.ID, Code: lastCode(sms, motherPhone)})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Approve with the mother's code: %s.\n", r.Status)
	_, err = svc.ResendAuthMethod(ctx, personrequest.ResendRequest{Token: "registrar", ID: r.ID})
	fmt.Fprintf(w, "Resend on an approved request: %v\n", describe(err))
	if r, err = svc.Sign(ctx, personrequest.ActionRequest{Token: "registrar", ID: r.ID}); err != nil {
		return err
	}
	fmt.Fprintf(w, "Signed: %s.\n", r.Status)

	clock.Advance(time.Minute)
	stale, err := svc.Create(ctx, create)
	if err != nil {
		return err
	}
	clock.Advance(time.Duration(svc.Config().LifetimeDays)*24*time.Hour + time.Second)
	swept, err := svc.ExpireSweep(ctx, personrequest.ExpireSweepRequest{Batch: 100})
	if err != nil {
		return err
	}
	_, err = svc.Get(ctx, personrequest.GetRequest{Token: "registrar", ID: stale.ID})
	fmt.Fprintf(w, "%d days later the sweep expired %d open request(s), wiping their personal data; get: %v\n",
		svc.Config().LifetimeDays, swept.Expired, describe(err))
	return nil
}

// shortURL shows an upload URL without its signature.
func shortURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "?"
	}
	return u.Host + u.Path + "?v=" + u.Query().Get("v") + "&sig=…"
}
