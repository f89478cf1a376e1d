package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
	_ "time/tzdata" // ages are counted in Europe/Kyiv, even on a machine without a zone database

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/ports"
)

// demoAuthMethod shows the deactivation rules: a 16-year-old cannot remove the method that
// goes through her mother, her verified mother can, the primary moves, and the dry run
// tells every rule's outcome beforehand.
func demoAuthMethod(ctx context.Context, w io.Writer) error {
	kyiv, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		return err
	}
	clock := memory.NewClock(time.Date(2026, 6, 15, 9, 0, 0, 0, kyiv))
	tokens := memory.NewTokens()
	persons, methods, confidants := memory.NewPersonStore(), memory.NewAuthMethodStore(), memory.NewConfidantStore()
	svc, err := authmethod.NewService(authmethod.Deps{
		Persons: persons, Methods: methods, Confidants: confidants, Tokens: tokens, Clock: clock,
	}, authmethod.DefaultConfig())
	if err != nil {
		return err
	}

	// Ages are whole years in Kyiv; 29 February birthdays count on 1 March in common years.
	leapling := time.Date(2008, 2, 29, 0, 0, 0, 0, time.UTC)
	before, _ := authmethod.Age(leapling, time.Date(2026, 2, 28, 12, 0, 0, 0, kyiv), kyiv)
	after, _ := authmethod.Age(leapling, time.Date(2026, 3, 1, 12, 0, 0, 0, kyiv), kyiv)
	fmt.Fprintf(w, "Born 29 Feb 2008: %d on 28 Feb 2026, %d on 1 Mar 2026.\n", before, after)

	now := clock.Now()
	for _, p := range []ports.PersonRecord{
		{ID: "olena", BirthDate: time.Date(2010, 3, 1, 0, 0, 0, 0, time.UTC), Status: "active", IsActive: true, VerificationStatus: "VERIFIED",
			Documents: []ports.PersonDocument{{Type: "BIRTH_CERTIFICATE", Number: "I-KB-000000"}}},
		{ID: "iryna", BirthDate: time.Date(1984, 9, 12, 0, 0, 0, 0, time.UTC), Status: "active", IsActive: true, VerificationStatus: "VERIFIED"},
	} {
		if err := persons.CreatePerson(ctx, p); err != nil {
			return err
		}
	}
	if err := confidants.AddConfidantRelationship(ctx, ports.ConfidantRelationship{
		ID: "rel-1", PersonID: "olena", ConfidantPersonID: "iryna", VerificationStatus: "VERIFIED", IsActive: true,
	}); err != nil {
		return err
	}
	const phone = "+380931234585"
	for _, m := range []ports.AuthMethodRecord{
		{ID: "am-otp", PersonID: "olena", Type: authmethod.TypeOTP, Alias: "my phone", Phone: phone, StartedAt: now.AddDate(-1, 0, 0), IsActive: true},
		{ID: "am-mother", PersonID: "olena", Type: authmethod.TypeThirdPerson, Alias: "mum", Value: "iryna", StartedAt: now.AddDate(0, -2, 0), IsActive: true, IsPrimary: true},
	} {
		if err := methods.AddAuthMethod(ctx, m); err != nil {
			return err
		}
	}
	for _, who := range []string{"olena", "iryna"} {
		tokens.Add("token-"+who, ports.Claims{PersonID: who, Scopes: []string{authmethod.Scope}, ExpiresAt: now.Add(time.Hour)})
	}
	fmt.Fprintf(w, "Olena (16) has an OTP method on %s and a THIRD_PERSON method through her mother Iryna (primary).\n", ports.MaskPhone(phone))

	byOlena := authmethod.DeactivateRequest{Token: "token-olena", MethodID: "am-mother"}
	ex, err := svc.Explain(ctx, byOlena)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Dry run for Olena herself: allowed=%t\n", ex.Allowed)
	for _, c := range ex.Checks {
		if c.Outcome != authmethod.NotApplicable {
			fmt.Fprintf(w, "  %-21s %-7s %s\n", c.Rule, c.Outcome, c.Reason)
		}
	}
	_, err = svc.Deactivate(ctx, byOlena)
	explain(w, "Olena deactivates it", err)

	byMother := authmethod.DeactivateRequest{Token: "token-iryna", PersonID: "olena", MethodID: "am-mother"}
	res, err := svc.Deactivate(ctx, byMother)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Iryna deactivates it: ended at %s; the primary moved to %s.\n", res.Method.EndedAt.Format(time.DateTime), res.NewPrimaryID)

	_, err = svc.Deactivate(ctx, byMother)
	explain(w, "Iryna tries again", err)
	_, err = svc.Deactivate(ctx, authmethod.DeactivateRequest{Token: "token-iryna", PersonID: "olena", MethodID: "am-otp"})
	explain(w, "Iryna tries the OTP method", err)
	return nil
}

// explain prints an error's kind, exact message and, when a rule denied, the reason.
func explain(w io.Writer, what string, err error) {
	fmt.Fprintf(w, "%s: %s", what, describe(err))
	var d *authmethod.Denial
	if errors.As(err, &d) {
		fmt.Fprintf(w, " (%s: %s)", d.Rule, d.Reason)
	}
	fmt.Fprintln(w)
}
