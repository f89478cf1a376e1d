package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// demoProcess runs OTP identification processes end to end on the memory adapters: an
// organisation opens one by e-mail with a document-number second factor, the actor
// validates it; another is opened with an external channel and cancelled; another org
// cannot see either.
func demoProcess(ctx context.Context, w io.Writer) error {
	clock := memory.NewClock(time.Now().UTC().Truncate(time.Second))
	email := memory.NewEmailOutbox()
	ocfg := otp.DefaultConfig()
	ocfg.Secrets = [][]byte{[]byte("quickstart-secret-0123456789abcdef")}
	codes, err := otp.NewService(otp.Deps{Store: memory.NewOTPStore(), SMS: memory.NewSMSOutbox(), Limiter: memory.NewRateLimiter(), Clock: clock}, ocfg)
	if err != nil {
		return err
	}
	tokens := memory.NewTokens()
	exp := clock.Now().Add(time.Hour)
	tokens.Add("acme-admin", ports.Claims{OrgID: "acme", Scopes: []string{otpprocess.DefaultAdminScope}, ExpiresAt: exp})
	tokens.Add("acme-actor", ports.Claims{OrgID: "acme", Scopes: []string{otpprocess.DefaultActorScope}, ExpiresAt: exp})
	tokens.Add("globex-admin", ports.Claims{OrgID: "globex", Scopes: []string{otpprocess.DefaultAdminScope}, ExpiresAt: exp})
	svc, err := otpprocess.NewService(otpprocess.Deps{
		Store: memory.NewProcessStore(), OTP: codes, Tokens: tokens, Email: email, Clock: clock,
	}, otpprocess.DefaultConfig())
	if err != nil {
		return err
	}
	say := func(format string, args ...any) { fmt.Fprintf(w, "  "+format+"\n", args...) }
	fmt.Fprintln(w, "OTP identification processes")

	jane := otpprocess.Actor{
		Name: "Jane", LastName: "Doe", Email: "jane.doe@example.com", Language: "en",
		IdentityDocument: otpprocess.IdentityDocument{DocumentType: "PASSPORT", DocumentNumber: "XK 123 456", Country: "GB"},
	}
	created, err := svc.Create(ctx, otpprocess.CreateRequest{
		Token: "acme-admin", OrgID: "acme", Actor: jane, ExpiresIn: "P7D",
		TwoFactorType: otpprocess.TwoFactorDocumentNumber,
		Channel:       otpprocess.Channel{Type: otpprocess.ChannelEmail},
	})
	if err != nil {
		return err
	}
	p := created.Process
	say("acme opens a process for Jane by e-mail, second factor DOCUMENT_NUMBER: %s, expires in %s",
		p.State, otpprocess.FormatISODuration(p.ExpiresAt.Sub(clock.Now())))

	_, err = svc.Get(ctx, otpprocess.Request{Token: "globex-admin", OrgID: "globex", ID: p.ID})
	say("globex asks for it: %s", describe(err))

	md, err := svc.Metadata(ctx, otpprocess.Request{Token: "acme-actor", OrgID: "acme", ID: p.ID})
	if err != nil {
		return err
	}
	say("Jane opens her link and sees: %s, code sent to %s, second factor %s", md.State, md.MaskedContact, md.TwoFactorType)

	msg, ok := email.Last(jane.Email)
	if !ok {
		return errors.New("no e-mail was delivered")
	}
	code := strings.TrimSuffix(strings.TrimPrefix(msg.Body, "Your identification code is "), ".")
	say("an e-mail with a %d-digit code arrives (not shown)", len(code))

	validate := func(twoFactor string) error {
		_, err := svc.Validate(ctx, otpprocess.ValidateRequest{Token: "acme-actor", OrgID: "acme", ID: p.ID, Code: code, TwoFactor: twoFactor})
		return err
	}
	say("Jane types the code and a wrong passport number: %s", describe(validate("XK 999 999")))
	if err := validate("xk123456"); err != nil {
		return err
	}
	got, err := svc.Get(ctx, otpprocess.Request{Token: "acme-admin", OrgID: "acme", ID: p.ID})
	if err != nil {
		return err
	}
	say("she types it again as \"xk123456\" (case and spaces do not matter): %s after %d failed attempt", got.State, got.FailedAttempts)

	clock.Advance(time.Minute)
	ext, err := svc.Create(ctx, otpprocess.CreateRequest{
		Token: "acme-admin", OrgID: "acme", Actor: otpprocess.Actor{Name: "John", MSISDN: ports.ProcessPhone{CountryCode: "44", PhoneNumber: "7911123456"}},
		Channel: otpprocess.Channel{Type: otpprocess.ChannelWhatsApp, External: true},
	})
	if err != nil {
		return err
	}
	say("acme opens one for John on its own WhatsApp channel: the code (%d digits) is returned once, expiry defaults to %s",
		len(ext.Code), otpprocess.FormatISODuration(ext.Process.ExpiresAt.Sub(clock.Now())))
	cancelled, err := svc.Cancel(ctx, otpprocess.CancelRequest{Token: "acme-admin", OrgID: "acme", ID: ext.Process.ID, Reason: "opened by mistake"})
	if err != nil {
		return err
	}
	say("acme cancels it (%q): %s", cancelled.CancelReason, cancelled.State)
	_, err = svc.Delete(ctx, otpprocess.DeleteRequest{Token: "acme-admin", OrgID: "acme", ID: ext.Process.ID, Force: true})
	say("deleting a CANCELLED process needs force=true and the %s permission: %v", otpprocess.DefaultForceDeletePermission, describe(err))

	list, err := svc.List(ctx, otpprocess.ListRequest{Token: "acme-admin", OrgID: "acme"})
	if err != nil {
		return err
	}
	for _, lp := range list.Processes {
		say("acme's list: %s %s via %s", lp.Actor.Name, lp.State, lp.Channel.Type)
	}
	return nil
}
