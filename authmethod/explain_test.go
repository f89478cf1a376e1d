package authmethod_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/ports"
)

// allRules lists every rule in the order Deactivate checks them.
var allRules = []authmethod.Rule{
	authmethod.RuleToken, authmethod.RuleScope, authmethod.RulePersonActive,
	authmethod.RuleSelfMinimumAge, authmethod.RuleSelfLegalCapacity, authmethod.RuleSelfNoConfidant,
	authmethod.RuleRelationship, authmethod.RuleConfidantVerified,
	authmethod.RuleMethodOwned, authmethod.RuleMethodType, authmethod.RuleNotLastMethod, authmethod.RuleMethodActive,
}

// outcomes maps each rule of ex to its outcome, checking that every rule is there once,
// in order.
func outcomes(t *testing.T, ex authmethod.Explanation) map[authmethod.Rule]authmethod.Outcome {
	t.Helper()
	got := make([]authmethod.Rule, len(ex.Checks))
	out := make(map[authmethod.Rule]authmethod.Outcome, len(ex.Checks))
	for i, c := range ex.Checks {
		got[i] = c.Rule
		out[c.Rule] = c.Outcome
		require.NotEmpty(t, c.Reason, "rule %s has a reason", c.Rule)
		if c.Outcome == authmethod.Failed {
			require.NotEmpty(t, c.Message)
		} else {
			require.Empty(t, c.Message)
		}
	}
	require.Equal(t, allRules, got)
	return out
}

func TestExplainAllowed(t *testing.T) {
	f := newFixture(t)
	f.addPerson(t, "adult", date(1990, 1, 1))
	f.addStandardMethods(t, "adult")
	ex, err := f.svc.Explain(context.Background(), authmethod.DeactivateRequest{Token: f.token(t, "adult"), MethodID: "adult-tp"})
	require.NoError(t, err)
	require.True(t, ex.Allowed)
	require.NoError(t, ex.Err)
	require.Equal(t, "adult", ex.ApplicantID)
	require.Equal(t, "adult", ex.PersonID)
	require.Equal(t, "adult-tp", ex.MethodID)
	require.Equal(t, map[authmethod.Rule]authmethod.Outcome{
		authmethod.RuleToken: authmethod.Passed, authmethod.RuleScope: authmethod.Passed, authmethod.RulePersonActive: authmethod.Passed,
		authmethod.RuleSelfMinimumAge: authmethod.Passed, authmethod.RuleSelfLegalCapacity: authmethod.NotApplicable,
		authmethod.RuleSelfNoConfidant: authmethod.Passed, authmethod.RuleRelationship: authmethod.NotApplicable,
		authmethod.RuleConfidantVerified: authmethod.NotApplicable, authmethod.RuleMethodOwned: authmethod.Passed,
		authmethod.RuleMethodType: authmethod.Passed, authmethod.RuleNotLastMethod: authmethod.Passed, authmethod.RuleMethodActive: authmethod.Passed,
	}, outcomes(t, ex))
	ms, err := f.methods.AuthMethods(context.Background(), "adult")
	require.NoError(t, err)
	require.True(t, ms[1].IsActive, "Explain changes nothing")
}

// TestExplainEveryFailure: Explain reports every rule that fails, not only the first.
func TestExplainEveryFailure(t *testing.T) {
	f := newFixture(t)
	f.addPerson(t, "teen", date(2011, 1, 1), withStatus("active", false))
	// The only method: OTP, and already deactivated.
	f.addMethod(t, "teen", "otp", authmethod.TypeOTP, time.Hour, inactive)
	ex, err := f.svc.Explain(context.Background(), authmethod.DeactivateRequest{Token: f.token(t, "teen"), MethodID: "otp"})
	require.NoError(t, err)
	require.False(t, ex.Allowed)
	requireError(t, ex.Err, verifykit.KindNotFound, "Person not found")
	require.Equal(t, map[authmethod.Rule]authmethod.Outcome{
		authmethod.RuleToken: authmethod.Passed, authmethod.RuleScope: authmethod.Passed, authmethod.RulePersonActive: authmethod.Failed,
		authmethod.RuleSelfMinimumAge: authmethod.Passed, authmethod.RuleSelfLegalCapacity: authmethod.Failed,
		authmethod.RuleSelfNoConfidant: authmethod.NotApplicable, authmethod.RuleRelationship: authmethod.NotApplicable,
		authmethod.RuleConfidantVerified: authmethod.NotApplicable, authmethod.RuleMethodOwned: authmethod.Passed,
		authmethod.RuleMethodType: authmethod.Failed, authmethod.RuleNotLastMethod: authmethod.Failed, authmethod.RuleMethodActive: authmethod.Failed,
	}, outcomes(t, ex))
	var reasons []string
	for _, c := range ex.Checks {
		if c.Outcome == authmethod.Failed {
			reasons = append(reasons, c.Reason)
		}
	}
	require.Equal(t, []string{
		"person teen is not active (is_active=false)",
		"age 15 is under 18 and no legal-capacity document",
		"the method is OTP, not THIRD_PERSON",
		"person teen has no other active method",
		"method otp is not active",
	}, reasons)
}

func TestExplainConfidant(t *testing.T) {
	f := newFixture(t)
	f.addPerson(t, "child", date(2016, 1, 1))
	f.addPerson(t, "mother", date(1990, 1, 1), withVerification("NOT_VERIFIED"))
	f.addRelationship(t, "r", "child", "mother", relStatus("IN_REVIEW"))
	f.addStandardMethods(t, "child")
	ex, err := f.svc.Explain(context.Background(), authmethod.DeactivateRequest{Token: f.token(t, "mother"), PersonID: "child", MethodID: "nope"})
	require.NoError(t, err)
	requireError(t, ex.Err, verifykit.KindConflict, "Can't confirm relationship")
	require.Equal(t, map[authmethod.Rule]authmethod.Outcome{
		authmethod.RuleToken: authmethod.Passed, authmethod.RuleScope: authmethod.Passed, authmethod.RulePersonActive: authmethod.Passed,
		authmethod.RuleSelfMinimumAge: authmethod.NotApplicable, authmethod.RuleSelfLegalCapacity: authmethod.NotApplicable,
		authmethod.RuleSelfNoConfidant: authmethod.NotApplicable, authmethod.RuleRelationship: authmethod.Failed,
		authmethod.RuleConfidantVerified: authmethod.Failed, authmethod.RuleMethodOwned: authmethod.Failed,
		authmethod.RuleMethodType: authmethod.NotEvaluated, authmethod.RuleNotLastMethod: authmethod.NotEvaluated,
		authmethod.RuleMethodActive: authmethod.NotEvaluated,
	}, outcomes(t, ex))
}

func TestExplainUnknownPerson(t *testing.T) {
	f := newFixture(t)
	f.tokens.Add("t", ports.Claims{PersonID: "ghost", Scopes: []string{authmethod.Scope}, ExpiresAt: today.Add(time.Hour)})
	ex, err := f.svc.Explain(context.Background(), authmethod.DeactivateRequest{Token: "t", MethodID: "m"})
	require.NoError(t, err)
	requireError(t, ex.Err, verifykit.KindNotFound, "Person not found")
	out := outcomes(t, ex)
	require.Equal(t, authmethod.Failed, out[authmethod.RulePersonActive])
	for _, r := range allRules[3:] {
		require.Equal(t, authmethod.NotEvaluated, out[r], "rule %s", r)
	}
}
