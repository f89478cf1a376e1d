package authmethod_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/ports"
)

// A 16-year-old without a legal-capacity document cannot deactivate a method alone; their
// verified mother can, and the primary moves to the most recently added active method.
func ExampleService_Deactivate() {
	ctx := context.Background()
	clock := memory.NewClock(time.Date(2026, 6, 15, 9, 0, 0, 0, time.UTC))
	tokens := memory.NewTokens()
	persons, methods, confidants := memory.NewPersonStore(), memory.NewAuthMethodStore(), memory.NewConfidantStore()
	svc, err := authmethod.NewService(authmethod.Deps{
		Persons: persons, Methods: methods, Confidants: confidants, Tokens: tokens, Clock: clock,
	}, authmethod.DefaultConfig())
	if err != nil {
		panic(err)
	}

	born := time.Date(2010, 3, 1, 0, 0, 0, 0, time.UTC)
	_ = persons.CreatePerson(ctx, ports.PersonRecord{ID: "teen", BirthDate: born, Status: "active", IsActive: true, VerificationStatus: "VERIFIED"})
	_ = persons.CreatePerson(ctx, ports.PersonRecord{ID: "mother", BirthDate: born.AddDate(-30, 0, 0), Status: "active", IsActive: true, VerificationStatus: "VERIFIED"})
	_ = confidants.AddConfidantRelationship(ctx, ports.ConfidantRelationship{ID: "r1", PersonID: "teen", ConfidantPersonID: "mother", VerificationStatus: "VERIFIED", IsActive: true})
	now := clock.Now()
	_ = methods.AddAuthMethod(ctx, ports.AuthMethodRecord{ID: "otp", PersonID: "teen", Type: authmethod.TypeOTP, StartedAt: now.AddDate(-1, 0, 0), IsActive: true})
	_ = methods.AddAuthMethod(ctx, ports.AuthMethodRecord{ID: "via-mother", PersonID: "teen", Type: authmethod.TypeThirdPerson, Value: "mother", StartedAt: now.AddDate(0, -1, 0), IsActive: true, IsPrimary: true})
	for _, who := range []string{"teen", "mother"} {
		tokens.Add("token-"+who, ports.Claims{PersonID: who, Scopes: []string{authmethod.Scope}, ExpiresAt: now.Add(time.Hour)})
	}

	_, err = svc.Deactivate(ctx, authmethod.DeactivateRequest{Token: "token-teen", MethodID: "via-mother"})
	var d *authmethod.Denial
	if errors.As(err, &d) {
		fmt.Printf("teen: %s %q\n  denied by %s: %s\n", verifykit.KindOf(err), err.(*verifykit.Error).Message, d.Rule, d.Reason)
	}

	res, err := svc.Deactivate(ctx, authmethod.DeactivateRequest{Token: "token-mother", PersonID: "teen", MethodID: "via-mother"})
	if err != nil {
		panic(err)
	}
	fmt.Printf("mother: %s ended at %s, primary now %s\n", res.Method.ID, res.Method.EndedAt.Format(time.DateOnly), res.NewPrimaryID)
	// Output:
	// teen: conflict "Request must be authorized by confidant person"
	//   denied by self_legal_capacity: age 16 is under 18 and no legal-capacity document
	// mother: via-mother ended at 2026-06-15, primary now otp
}
