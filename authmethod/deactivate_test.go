package authmethod_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/ports"
)

const (
	msgInvalidToken = "Invalid access token"
	msgMissingScope = "Your scope does not allow to access this resource. Missing allowances: authentication_method_request:deactivate_pis"
)

// TestDeactivateSelf covers an applicant acting for themselves: the age, legal-capacity
// and confidant rules, around birthdays, 29 February and the time zone.
func TestDeactivateSelf(t *testing.T) {
	type rel struct {
		opts []relOpt
	}
	verified := rel{}
	future := today.Add(30 * 24 * time.Hour)
	cases := []struct {
		name    string
		birth   time.Time
		now     time.Time // zero: today
		docs    []string
		rels    []rel
		fullAge int             // FullLegalCapacityAge when not zero
		rule    authmethod.Rule // empty: allowed
		reason  string          // the denial's exact reason, when denied
	}{
		{name: "13, the day before the 14th birthday", birth: date(2012, 6, 16),
			rule: authmethod.RuleSelfMinimumAge, reason: "age 13 is under 14"},
		{name: "13 with a legal-capacity document", birth: date(2012, 6, 16), docs: []string{"MARRIAGE_CERTIFICATE"},
			rule: authmethod.RuleSelfMinimumAge, reason: "age 13 is under 14"},
		{name: "14 on the birthday, no document", birth: date(2012, 6, 15),
			rule: authmethod.RuleSelfLegalCapacity, reason: "age 14 is under 18 and no legal-capacity document"},
		{name: "14 on the birthday, marriage certificate", birth: date(2012, 6, 15), docs: []string{"PASSPORT", "MARRIAGE_CERTIFICATE"}},
		{name: "15, a passport is not a legal-capacity document", birth: date(2011, 1, 10), docs: []string{"PASSPORT"},
			rule: authmethod.RuleSelfLegalCapacity, reason: "age 15 is under 18 and no legal-capacity document"},
		{name: "17, the day before the 18th birthday, no document", birth: date(2008, 6, 16),
			rule: authmethod.RuleSelfLegalCapacity, reason: "age 17 is under 18 and no legal-capacity document"},
		{name: "17 with a court decision", birth: date(2008, 6, 16), docs: []string{"COURT_DECISION_LEGAL_CAPACITY"}},
		{name: "17 with a document and a verified confidant", birth: date(2008, 6, 16), docs: []string{"DIVORCE_CERTIFICATE"}, rels: []rel{verified}},
		{name: "18 on the birthday", birth: date(2008, 6, 15)},
		{name: "18 with an active verified confidant", birth: date(2008, 6, 15), rels: []rel{verified},
			rule: authmethod.RuleSelfNoConfidant, reason: "age 18 is 18 or over but relationship r0 with confidant mother is active and VERIFIED"},
		{name: "18 with a verified confidant until next month", birth: date(2008, 6, 15), rels: []rel{{[]relOpt{relActiveTo(future)}}},
			rule: authmethod.RuleSelfNoConfidant, reason: "age 18 is 18 or over but relationship r0 with confidant mother is active and VERIFIED"},
		{name: "18 with an inactive confidant", birth: date(2008, 6, 15), rels: []rel{{[]relOpt{relInactive}}}},
		{name: "18 with an expired confidant", birth: date(2008, 6, 15), rels: []rel{{[]relOpt{relActiveTo(today.Add(-time.Hour))}}}},
		{name: "18 with a confidant expiring now", birth: date(2008, 6, 15), rels: []rel{{[]relOpt{relActiveTo(today)}}}},
		{name: "18 with an unverified confidant", birth: date(2008, 6, 15), rels: []rel{
			{[]relOpt{relStatus("IN_REVIEW")}}, {[]relOpt{relStatus("VERIFICATION_NEEDED")}},
			{[]relOpt{relStatus("NOT_VERIFIED")}}, {[]relOpt{relStatus("CHANGES_NEEDED")}}}},
		{name: "18 with one expired and one verified", birth: date(2008, 6, 15), rels: []rel{{[]relOpt{relInactive}}, verified},
			rule: authmethod.RuleSelfNoConfidant, reason: "age 18 is 18 or over but relationship r1 with confidant mother is active and VERIFIED"},
		{name: "19 on the birthday", birth: date(2007, 6, 15)},
		{name: "19 with a verified confidant", birth: date(2007, 6, 15), rels: []rel{verified},
			rule: authmethod.RuleSelfNoConfidant, reason: "age 19 is 18 or over but relationship r0 with confidant mother is active and VERIFIED"},
		{name: "29 Feb, 28 Feb of a common year: still 17", birth: date(2008, 2, 29), now: time.Date(2026, 2, 28, 12, 0, 0, 0, kyiv),
			rule: authmethod.RuleSelfLegalCapacity, reason: "age 17 is under 18 and no legal-capacity document"},
		{name: "29 Feb, 1 Mar of a common year: 18", birth: date(2008, 2, 29), now: time.Date(2026, 3, 1, 0, 0, 0, 0, kyiv)},
		{name: "29 Feb born, 28 Feb of a leap year: 15", birth: date(2012, 2, 29), now: time.Date(2028, 2, 28, 12, 0, 0, 0, kyiv),
			rule: authmethod.RuleSelfLegalCapacity, reason: "age 15 is under 18 and no legal-capacity document"},
		{name: "29 Feb born, 28 Feb 23:59 of a common year: still 13", birth: date(2012, 2, 29), now: time.Date(2026, 2, 28, 23, 59, 0, 0, kyiv),
			docs: []string{"LEGAL_CAPACITY_DOCUMENT"}, rule: authmethod.RuleSelfMinimumAge, reason: "age 13 is under 14"},
		{name: "29 Feb born, full capacity at 20, 28 Feb of a leap year: 19", birth: date(2008, 2, 29), fullAge: 20,
			now: time.Date(2028, 2, 28, 23, 59, 0, 0, kyiv), rule: authmethod.RuleSelfLegalCapacity, reason: "age 19 is under 20 and no legal-capacity document"},
		{name: "29 Feb born, full capacity at 20, 29 Feb of a leap year: 20", birth: date(2008, 2, 29), fullAge: 20,
			now: time.Date(2028, 2, 29, 0, 0, 0, 0, kyiv)},
		{name: "29 Feb born, 1 Mar of a common year: 14 with a document", birth: date(2012, 2, 29), now: time.Date(2026, 3, 1, 0, 0, 0, 0, kyiv),
			docs: []string{"LEGAL_CAPACITY_DOCUMENT"}},
		{name: "birthday already in Kyiv, not yet in UTC", birth: date(2008, 6, 15), now: time.Date(2026, 6, 14, 21, 30, 0, 0, time.UTC)},
		{name: "the evening before the birthday in Kyiv", birth: date(2008, 6, 15), now: time.Date(2026, 6, 14, 20, 30, 0, 0, time.UTC),
			rule: authmethod.RuleSelfLegalCapacity, reason: "age 17 is under 18 and no legal-capacity document"},
		{name: "birth date in the future", birth: date(2026, 6, 16),
			rule: authmethod.RuleSelfMinimumAge, reason: "the age cannot be told: birth date 2026-06-16 is after today (2026-06-15 in Europe/Kyiv)"},
		{name: "no birth date", birth: time.Time{},
			rule: authmethod.RuleSelfMinimumAge, reason: "the age cannot be told: birth date is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := authmethod.DefaultConfig()
			if c.fullAge != 0 {
				cfg.FullLegalCapacityAge = c.fullAge
			}
			f := newFixtureWith(t, cfg)
			if !c.now.IsZero() {
				f.clock.Set(c.now)
			}
			f.addPerson(t, "child", c.birth, withDocs(c.docs...))
			f.addStandardMethods(t, "child")
			for i, r := range c.rels {
				f.addRelationship(t, fmt.Sprint("r", i), "child", "mother", r.opts...)
			}
			req := authmethod.DeactivateRequest{Token: f.token(t, "child"), MethodID: "child-tp"}
			if c.rule == "" {
				res, err := f.deactivate(t, req, 0, "", "")
				require.NoError(t, err)
				require.False(t, res.Method.IsActive)
				return
			}
			_, err := f.deactivate(t, req, verifykit.KindConflict, "Request must be authorized by confidant person", c.rule)
			require.Equal(t, c.reason, reasonOf(t, err))
			require.Equal(t, "Request must be authorized by confidant person: "+c.reason, err.Error())
		})
	}
}

// TestDeactivateByConfidant covers an applicant acting for another person.
func TestDeactivateByConfidant(t *testing.T) {
	const (
		cantConfirm = "Can't confirm relationship"
		notVerified = "Confidant person not found or is not verified"
	)
	cases := []struct {
		name      string
		rels      [][]relOpt // relationships child <- mother
		otherRels bool       // a relationship child <- father, and mother <- child
		applicant []personOpt
		noMother  bool
		msg       string // empty: allowed
		rule      authmethod.Rule
		reason    string
	}{
		{name: "verified active relationship", rels: [][]relOpt{nil}},
		{name: "relationship until next month", rels: [][]relOpt{{relActiveTo(today.Add(720 * time.Hour))}}},
		{name: "applicant VERIFICATION_NEEDED is enough", rels: [][]relOpt{nil}, applicant: []personOpt{withVerification("VERIFICATION_NEEDED")}},
		{name: "applicant IN_REVIEW is enough", rels: [][]relOpt{nil}, applicant: []personOpt{withVerification("IN_REVIEW")}},
		{name: "applicant VERIFICATION_NOT_NEEDED is enough", rels: [][]relOpt{nil}, applicant: []personOpt{withVerification("VERIFICATION_NOT_NEEDED")}},
		{name: "one bad and one good relationship", rels: [][]relOpt{{relInactive}, nil}},
		{name: "no relationship", msg: cantConfirm, rule: authmethod.RuleRelationship,
			reason: "no confidant relationship between applicant mother and person child"},
		{name: "only other people's relationships", otherRels: true, msg: cantConfirm, rule: authmethod.RuleRelationship,
			reason: "no confidant relationship between applicant mother and person child"},
		{name: "inactive relationship", rels: [][]relOpt{{relInactive}}, msg: cantConfirm, rule: authmethod.RuleRelationship,
			reason: "relationship r0 is not active"},
		{name: "expired relationship", rels: [][]relOpt{{relActiveTo(today.Add(-time.Second))}}, msg: cantConfirm, rule: authmethod.RuleRelationship,
			reason: "relationship r0 ended at 2026-06-15T05:59:59Z"},
		{name: "relationship ending now", rels: [][]relOpt{{relActiveTo(today)}}, msg: cantConfirm, rule: authmethod.RuleRelationship,
			reason: "relationship r0 ended at 2026-06-15T06:00:00Z"},
		{name: "relationship IN_REVIEW", rels: [][]relOpt{{relStatus("IN_REVIEW")}}, msg: cantConfirm, rule: authmethod.RuleRelationship,
			reason: "relationship r0 is IN_REVIEW, not VERIFIED"},
		{name: "relationship NOT_VERIFIED", rels: [][]relOpt{{relStatus("NOT_VERIFIED")}}, msg: cantConfirm, rule: authmethod.RuleRelationship,
			reason: "relationship r0 is NOT_VERIFIED, not VERIFIED"},
		{name: "relationship VERIFICATION_NEEDED", rels: [][]relOpt{{relStatus("VERIFICATION_NEEDED")}}, msg: cantConfirm, rule: authmethod.RuleRelationship,
			reason: "relationship r0 is VERIFICATION_NEEDED, not VERIFIED"},
		{name: "relationship CHANGES_NEEDED", rels: [][]relOpt{{relStatus("CHANGES_NEEDED")}}, msg: cantConfirm, rule: authmethod.RuleRelationship,
			reason: "relationship r0 is CHANGES_NEEDED, not VERIFIED"},
		{name: "two bad relationships, both reasons", rels: [][]relOpt{{relInactive}, {relStatus("IN_REVIEW")}}, msg: cantConfirm, rule: authmethod.RuleRelationship,
			reason: "relationship r0 is not active; relationship r1 is IN_REVIEW, not VERIFIED"},
		{name: "applicant NOT_VERIFIED", rels: [][]relOpt{nil}, applicant: []personOpt{withVerification("NOT_VERIFIED")},
			msg: notVerified, rule: authmethod.RuleConfidantVerified, reason: "applicant mother is NOT_VERIFIED"},
		{name: "applicant inactive status", rels: [][]relOpt{nil}, applicant: []personOpt{withStatus("inactive", true)},
			msg: notVerified, rule: authmethod.RuleConfidantVerified, reason: `applicant mother is not active (status "inactive", is_active=true)`},
		{name: "applicant not is_active", rels: [][]relOpt{nil}, applicant: []personOpt{withStatus("active", false)},
			msg: notVerified, rule: authmethod.RuleConfidantVerified, reason: `applicant mother is not active (status "active", is_active=false)`},
		{name: "applicant does not exist", rels: [][]relOpt{nil}, noMother: true,
			msg: notVerified, rule: authmethod.RuleConfidantVerified, reason: "applicant mother does not exist"},
		{name: "relationship checked before the applicant", rels: [][]relOpt{{relInactive}}, applicant: []personOpt{withVerification("NOT_VERIFIED")},
			msg: cantConfirm, rule: authmethod.RuleRelationship, reason: "relationship r0 is not active"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			// A 10-year-old: the age rules do not apply when a confidant acts.
			f.addPerson(t, "child", date(2016, 1, 1))
			if !c.noMother {
				f.addPerson(t, "mother", date(1990, 1, 1), c.applicant...)
			}
			f.addStandardMethods(t, "child")
			for i, opts := range c.rels {
				f.addRelationship(t, fmt.Sprint("r", i), "child", "mother", opts...)
			}
			if c.otherRels {
				f.addPerson(t, "father", date(1990, 1, 1))
				f.addRelationship(t, "rf", "child", "father")
				f.addRelationship(t, "rm", "mother", "child")
			}
			req := authmethod.DeactivateRequest{Token: f.token(t, "mother"), PersonID: "child", MethodID: "child-tp"}
			if c.msg == "" {
				res, err := f.deactivate(t, req, 0, "", "")
				require.NoError(t, err)
				require.Equal(t, "child-tp", res.Method.ID)
				return
			}
			_, err := f.deactivate(t, req, verifykit.KindConflict, c.msg, c.rule)
			require.Equal(t, c.reason, reasonOf(t, err))
		})
	}
}

// TestDeactivateFindsTheOwner: without PersonID the person is the method's owner, as
// RULES.md §B step 3 says, not the applicant.
func TestDeactivateFindsTheOwner(t *testing.T) {
	f := newFixture(t)
	f.addPerson(t, "child", date(2016, 1, 1))
	f.addPerson(t, "mother", date(1990, 1, 1))
	f.addStandardMethods(t, "child")
	f.addRelationship(t, "r1", "child", "mother")
	res, err := f.deactivate(t, authmethod.DeactivateRequest{Token: f.token(t, "mother"), MethodID: "child-tp"}, 0, "", "")
	require.NoError(t, err)
	require.Equal(t, "child-tp", res.Method.ID)
	require.False(t, res.Method.IsActive)

	// An unknown method without PersonID: the applicant is the person, and step 5 answers.
	_, err = f.deactivate(t, authmethod.DeactivateRequest{Token: f.token(t, "mother"), MethodID: "nope"},
		verifykit.KindNotFound, "Such authentication method does not belong to this person", authmethod.RuleMethodOwned)
	require.Error(t, err)
}

func TestDeactivateToken(t *testing.T) {
	f := newFixture(t)
	f.addPerson(t, "p", date(1990, 1, 1))
	f.addStandardMethods(t, "p")
	now := f.clock.Now()
	f.tokens.Add("expired", ports.Claims{PersonID: "p", Scopes: []string{authmethod.Scope}, ExpiresAt: now})
	f.tokens.Add("expired-no-scope", ports.Claims{PersonID: "p", ExpiresAt: now.Add(-time.Hour)})
	f.tokens.Add("no-expiry", ports.Claims{PersonID: "p", Scopes: []string{authmethod.Scope}})
	f.tokens.Add("no-person", ports.Claims{Subject: "client", Scopes: []string{authmethod.Scope}, ExpiresAt: now.Add(time.Hour)})
	f.tokens.Add("no-person-no-scope", ports.Claims{Subject: "client", ExpiresAt: now.Add(time.Hour)})
	f.tokens.Add("no-scope", ports.Claims{PersonID: "p", Scopes: []string{"person_request:write"}, ExpiresAt: now.Add(time.Hour)})
	cases := []struct {
		token string
		kind  verifykit.Kind
		msg   string
	}{
		{"", verifykit.KindUnauthorized, msgInvalidToken},
		{"unknown", verifykit.KindUnauthorized, msgInvalidToken},
		{"expired", verifykit.KindUnauthorized, msgInvalidToken},
		{"expired-no-scope", verifykit.KindUnauthorized, msgInvalidToken},
		{"no-expiry", verifykit.KindUnauthorized, msgInvalidToken},
		{"no-person", verifykit.KindUnauthorized, msgInvalidToken},
		{"no-person-no-scope", verifykit.KindUnauthorized, msgInvalidToken},
		{"no-scope", verifykit.KindForbidden, msgMissingScope},
	}
	for _, c := range cases {
		t.Run(c.token, func(t *testing.T) {
			req := authmethod.DeactivateRequest{Token: c.token, MethodID: "p-tp"}
			_, err := f.svc.Deactivate(context.Background(), req)
			requireError(t, err, c.kind, c.msg)
			_, err = f.svc.Explain(context.Background(), req)
			requireError(t, err, c.kind, c.msg)
		})
	}
	t.Run("no person_id says why", func(t *testing.T) {
		_, err := f.svc.Deactivate(context.Background(), authmethod.DeactivateRequest{Token: "no-person", MethodID: "p-tp"})
		require.Equal(t, "the token carries no person_id", reasonOf(t, err))
	})
	t.Run("method id is required, after the scope", func(t *testing.T) {
		_, err := f.svc.Deactivate(context.Background(), authmethod.DeactivateRequest{Token: "no-scope"})
		requireError(t, err, verifykit.KindForbidden, msgMissingScope)
		_, err = f.svc.Deactivate(context.Background(), authmethod.DeactivateRequest{Token: f.token(t, "p"), MethodID: " "})
		requireError(t, err, verifykit.KindInvalidInput, "Validation failed.")
		var e *verifykit.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, []verifykit.InvalidEntry{{Entry: "id", EntryType: verifykit.EntryPathParameter, Rule: "required", Description: "is required"}}, e.Invalid)
	})
	ms, err := f.methods.AuthMethods(context.Background(), "p")
	require.NoError(t, err)
	require.True(t, ms[1].IsActive, "no failed call changed anything")
}

func TestDeactivatePersonNotFound(t *testing.T) {
	cases := []struct {
		name   string
		opts   []personOpt
		absent bool
		reason string
	}{
		{name: "no such person", absent: true, reason: "person ghost does not exist"},
		{name: "status inactive", opts: []personOpt{withStatus("inactive", true)}, reason: `person ghost has status "inactive", not "active"`},
		{name: "is_active false", opts: []personOpt{withStatus("active", false)}, reason: "person ghost is not active (is_active=false)"},
		// Checked before the applicant rules: a 10-year-old acting alone still gets 404.
		{name: "inactive child", opts: []personOpt{withStatus("active", false)}, reason: "person ghost is not active (is_active=false)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			if !c.absent {
				f.addPerson(t, "ghost", date(2016, 1, 1), c.opts...)
			}
			f.addStandardMethods(t, "ghost")
			_, err := f.deactivate(t, authmethod.DeactivateRequest{Token: f.token(t, "ghost"), MethodID: "ghost-tp"},
				verifykit.KindNotFound, "Person not found", authmethod.RulePersonActive)
			require.Equal(t, c.reason, reasonOf(t, err))
		})
	}
	t.Run("a confidant asking for an unknown person", func(t *testing.T) {
		f := newFixture(t)
		f.addPerson(t, "mother", date(1990, 1, 1))
		f.addRelationship(t, "r", "ghost", "mother")
		f.addStandardMethods(t, "ghost")
		f.deactivate(t, authmethod.DeactivateRequest{Token: f.token(t, "mother"), PersonID: "ghost", MethodID: "ghost-tp"},
			verifykit.KindNotFound, "Person not found", authmethod.RulePersonActive)
	})
}

func TestDeactivateMethodRules(t *testing.T) {
	const (
		notOwned    = "Such authentication method does not belong to this person"
		onlyThird   = "Only THIRD_PERSON authentication method type could be deactivated"
		last        = "You can't deactivate the last authentication method"
		deactivated = "Authentication method is already deactivated"
	)
	past := today.Add(-time.Hour)
	cases := []struct {
		name    string
		methods func(t *testing.T, f *fixture)
		method  string
		kind    verifykit.Kind
		msg     string
		rule    authmethod.Rule
		reason  string
	}{
		{name: "unknown method", method: "nope", kind: verifykit.KindNotFound, msg: notOwned, rule: authmethod.RuleMethodOwned,
			reason: "method nope is not one of person adult's 2 methods"},
		{name: "another person's method", method: "other-tp", kind: verifykit.KindNotFound, msg: notOwned, rule: authmethod.RuleMethodOwned,
			reason: "method other-tp is not one of person adult's 2 methods"},
		{name: "an OTP method", method: "adult-otp", kind: verifykit.KindForbidden, msg: onlyThird, rule: authmethod.RuleMethodType,
			reason: "the method is OTP, not THIRD_PERSON"},
		{name: "an OFFLINE method", method: "off", kind: verifykit.KindForbidden, msg: onlyThird, rule: authmethod.RuleMethodType,
			reason:  "the method is OFFLINE, not THIRD_PERSON",
			methods: func(t *testing.T, f *fixture) { f.addMethod(t, "adult", "off", authmethod.TypeOffline, time.Hour) }},
		{name: "the last active method", method: "only", kind: verifykit.KindForbidden, msg: last, rule: authmethod.RuleNotLastMethod,
			reason: "person adult has no other active method",
			methods: func(t *testing.T, f *fixture) {
				f.addMethod(t, "adult", "only", authmethod.TypeThirdPerson, time.Hour, primary)
			}},
		{name: "the others have ended", method: "only", kind: verifykit.KindForbidden, msg: last, rule: authmethod.RuleNotLastMethod,
			reason: "person adult has no other active method",
			methods: func(t *testing.T, f *fixture) {
				f.addMethod(t, "adult", "old-otp", authmethod.TypeOTP, 2*time.Hour, inactive)
				f.addMethod(t, "adult", "old-tp", authmethod.TypeThirdPerson, 2*time.Hour, func(m *ports.AuthMethodRecord) { m.EndedAt = past })
				f.addMethod(t, "adult", "only", authmethod.TypeThirdPerson, time.Hour, primary)
			}},
		{name: "type is checked before the last method", method: "otp", kind: verifykit.KindForbidden, msg: onlyThird, rule: authmethod.RuleMethodType,
			reason: "the method is OTP, not THIRD_PERSON",
			methods: func(t *testing.T, f *fixture) {
				f.addMethod(t, "adult", "otp", authmethod.TypeOTP, time.Hour, primary)
			}},
		{name: "already deactivated", method: "gone", kind: verifykit.KindConflict, msg: deactivated, rule: authmethod.RuleMethodActive,
			reason: "method gone is not active",
			methods: func(t *testing.T, f *fixture) {
				f.addMethod(t, "adult", "otp", authmethod.TypeOTP, time.Hour, primary)
				f.addMethod(t, "adult", "gone", authmethod.TypeThirdPerson, time.Hour, inactive)
			}},
		{name: "ended by its end date", method: "gone", kind: verifykit.KindConflict, msg: deactivated, rule: authmethod.RuleMethodActive,
			reason: "method gone ended at 2026-06-15T05:00:00Z",
			methods: func(t *testing.T, f *fixture) {
				f.addMethod(t, "adult", "otp", authmethod.TypeOTP, time.Hour, primary)
				f.addMethod(t, "adult", "gone", authmethod.TypeThirdPerson, 2*time.Hour, func(m *ports.AuthMethodRecord) { m.EndedAt = past })
			}},
		{name: "an ended method with no other active: the last-method rule first", method: "gone", kind: verifykit.KindForbidden, msg: last,
			rule: authmethod.RuleNotLastMethod, reason: "person adult has no other active method",
			methods: func(t *testing.T, f *fixture) {
				f.addMethod(t, "adult", "gone", authmethod.TypeThirdPerson, time.Hour, inactive)
				f.addMethod(t, "adult", "otp", authmethod.TypeOTP, time.Hour, inactive)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.addPerson(t, "adult", date(1990, 1, 1))
			f.addPerson(t, "other", date(1990, 1, 1))
			f.addStandardMethods(t, "other")
			if c.methods != nil {
				c.methods(t, f)
			} else {
				f.addStandardMethods(t, "adult")
			}
			// The request names the person, so step 5 judges ownership (without a PersonID
			// the person would be the method's owner: TestDeactivateFindsTheOwner).
			req := authmethod.DeactivateRequest{Token: f.token(t, "adult"), PersonID: "adult", MethodID: c.method}
			_, err := f.deactivate(t, req, c.kind, c.msg, c.rule)
			require.Equal(t, c.reason, reasonOf(t, err))
		})
	}
	t.Run("another person's method, the person not named: the owner's confidant rules", func(t *testing.T) {
		f := newFixture(t)
		f.addPerson(t, "adult", date(1990, 1, 1))
		f.addPerson(t, "other", date(1990, 1, 1))
		f.addStandardMethods(t, "adult")
		f.addStandardMethods(t, "other")
		f.deactivate(t, authmethod.DeactivateRequest{Token: f.token(t, "adult"), MethodID: "other-tp"},
			verifykit.KindConflict, "Can't confirm relationship", authmethod.RuleRelationship)
	})
	t.Run("a method with a future end date is still active", func(t *testing.T) {
		f := newFixture(t)
		f.addPerson(t, "adult", date(1990, 1, 1))
		f.addMethod(t, "adult", "otp", authmethod.TypeOTP, time.Hour, primary, func(m *ports.AuthMethodRecord) { m.EndedAt = today.Add(time.Hour) })
		f.addMethod(t, "adult", "tp", authmethod.TypeThirdPerson, time.Hour, func(m *ports.AuthMethodRecord) { m.EndedAt = today.Add(time.Hour) })
		f.deactivate(t, authmethod.DeactivateRequest{Token: f.token(t, "adult"), MethodID: "tp"}, 0, "", "")
	})
	t.Run("deactivating twice", func(t *testing.T) {
		f := newFixture(t)
		f.addPerson(t, "adult", date(1990, 1, 1))
		f.addStandardMethods(t, "adult")
		f.addMethod(t, "adult", "tp2", authmethod.TypeThirdPerson, time.Hour)
		req := authmethod.DeactivateRequest{Token: f.token(t, "adult"), MethodID: "adult-tp"}
		f.deactivate(t, req, 0, "", "")
		f.clock.Advance(time.Minute)
		f.deactivate(t, req, verifykit.KindConflict, deactivated, authmethod.RuleMethodActive)
	})
}

func TestDeactivateEffect(t *testing.T) {
	f := newFixture(t)
	f.addPerson(t, "adult", date(1990, 1, 1))
	f.addStandardMethods(t, "adult")
	f.addMethod(t, "adult", "adult-tp2", authmethod.TypeThirdPerson, 12*time.Hour)
	res, err := f.deactivate(t, authmethod.DeactivateRequest{Token: f.token(t, "adult"), MethodID: "adult-tp"}, 0, "", "")
	require.NoError(t, err)
	require.Equal(t, "adult-tp", res.Method.ID)
	require.False(t, res.Method.IsActive)
	require.True(t, today.Equal(res.Method.EndedAt))
	require.Empty(t, res.NewPrimaryID, "a method that was not the primary leaves the primary alone")
	stored, err := f.methods.AuthMethods(context.Background(), "adult")
	require.NoError(t, err)
	require.Equal(t, "+380931234585", stored[0].Phone, "the store keeps the phone whole")
	shown := slices.Clone(stored)
	shown[0].Phone = "+38093*****85"
	require.Equal(t, shown, res.Methods, "the answer masks the phones")
	require.True(t, stored[0].IsPrimary)
	require.True(t, stored[0].IsActive)
	require.False(t, stored[1].IsPrimary)
	require.True(t, stored[2].IsActive)
}

func TestDeactivatePrimaryMoves(t *testing.T) {
	cases := []struct {
		name    string
		methods func(t *testing.T, f *fixture)
		want    string
	}{
		{name: "to the method with the latest start", want: "newest", methods: func(t *testing.T, f *fixture) {
			f.addMethod(t, "adult", "newest", authmethod.TypeOffline, time.Hour)
			f.addMethod(t, "adult", "tp", authmethod.TypeThirdPerson, 5*time.Hour, primary)
			f.addMethod(t, "adult", "oldest", authmethod.TypeOTP, 10*time.Hour)
			f.addMethod(t, "adult", "middle", authmethod.TypeThirdPerson, 3*time.Hour)
		}},
		{name: "skipping inactive and ended methods", want: "middle", methods: func(t *testing.T, f *fixture) {
			f.addMethod(t, "adult", "oldest", authmethod.TypeOTP, 10*time.Hour)
			f.addMethod(t, "adult", "middle", authmethod.TypeThirdPerson, 3*time.Hour)
			f.addMethod(t, "adult", "tp", authmethod.TypeThirdPerson, 5*time.Hour, primary)
			f.addMethod(t, "adult", "newest-off", authmethod.TypeOffline, time.Hour, inactive)
			f.addMethod(t, "adult", "newest-ended", authmethod.TypeOTP, 2*time.Hour, func(m *ports.AuthMethodRecord) { m.EndedAt = today })
		}},
		{name: "the later added on a tie", want: "second", methods: func(t *testing.T, f *fixture) {
			f.addMethod(t, "adult", "tp", authmethod.TypeThirdPerson, 5*time.Hour, primary)
			f.addMethod(t, "adult", "first", authmethod.TypeOTP, time.Hour)
			f.addMethod(t, "adult", "second", authmethod.TypeOTP, time.Hour)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.addPerson(t, "adult", date(1990, 1, 1))
			c.methods(t, f)
			res, err := f.deactivate(t, authmethod.DeactivateRequest{Token: f.token(t, "adult"), MethodID: "tp"}, 0, "", "")
			require.NoError(t, err)
			require.Equal(t, c.want, res.NewPrimaryID)
			require.False(t, res.Method.IsPrimary, "the ended method is no longer primary")
			primaries := 0
			for _, m := range res.Methods {
				if m.IsPrimary {
					primaries++
					require.Equal(t, c.want, m.ID)
				}
			}
			require.Equal(t, 1, primaries)
		})
	}
}

// TestDeactivateConcurrentLastTwo deactivates a person's last two methods at once, many
// times over: exactly one wins and one method stays active.
func TestDeactivateConcurrentLastTwo(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const rounds = 100
	for r := range rounds {
		id := fmt.Sprint("p", r)
		f.addPerson(t, id, date(1990, 1, 1))
		f.addMethod(t, id, id+"-a", authmethod.TypeThirdPerson, 2*time.Hour, primary)
		f.addMethod(t, id, id+"-b", authmethod.TypeThirdPerson, time.Hour)
	}
	tokens := make([]string, rounds)
	for r := range rounds {
		tokens[r] = f.token(t, fmt.Sprint("p", r))
	}
	errs := make([][2]error, rounds)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for r := range rounds {
		for i, m := range []string{"-a", "-b"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[r][i] = f.svc.Deactivate(ctx, authmethod.DeactivateRequest{Token: tokens[r], MethodID: fmt.Sprint("p", r) + m})
			}()
		}
	}
	close(start)
	wg.Wait()
	for r := range rounds {
		ok := 0
		for _, err := range errs[r] {
			if err == nil {
				ok++
				continue
			}
			requireError(t, err, verifykit.KindForbidden, "You can't deactivate the last authentication method")
		}
		require.Equal(t, 1, ok, "round %d: exactly one deactivation wins", r)
		ms, err := f.methods.AuthMethods(ctx, fmt.Sprint("p", r))
		require.NoError(t, err)
		active, primaries := 0, 0
		for _, m := range ms {
			if m.IsActive {
				active++
				require.True(t, m.IsPrimary, "the one left is primary")
			}
			if m.IsPrimary {
				primaries++
			}
		}
		require.Equal(t, 1, active)
		require.Equal(t, 1, primaries)
	}
}

func TestDeactivateConcurrentSameMethod(t *testing.T) {
	f := newFixture(t)
	f.addPerson(t, "adult", date(1990, 1, 1))
	f.addStandardMethods(t, "adult")
	f.addMethod(t, "adult", "spare", authmethod.TypeThirdPerson, time.Hour)
	tok := f.token(t, "adult")
	const n = 30
	var ok, conflict atomic.Int32
	var other atomic.Value
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.svc.Deactivate(context.Background(), authmethod.DeactivateRequest{Token: tok, MethodID: "adult-tp"})
			switch {
			case err == nil:
				ok.Add(1)
			case verifykit.KindOf(err) == verifykit.KindConflict:
				conflict.Add(1)
			default:
				other.Store(err)
			}
		}()
	}
	wg.Wait()
	require.Nil(t, other.Load())
	require.Equal(t, int32(1), ok.Load())
	require.Equal(t, int32(n-1), conflict.Load())
}

// failingStores fail every call with a plain error.
type failingStores struct {
	ports.PersonStore
	ports.AuthMethodStore
	ports.ConfidantStore
	failPersons, failMethods, failConfidants bool
}

var errDown = errors.New("store is down")

func (s *failingStores) Person(ctx context.Context, id string) (ports.PersonRecord, error) {
	if s.failPersons {
		return ports.PersonRecord{}, errDown
	}
	return s.PersonStore.Person(ctx, id)
}

func (s *failingStores) AuthMethods(ctx context.Context, personID string) ([]ports.AuthMethodRecord, error) {
	if s.failMethods {
		return nil, errDown
	}
	return s.AuthMethodStore.AuthMethods(ctx, personID)
}

func (s *failingStores) UpdateAuthMethods(ctx context.Context, personID string, fn func([]ports.AuthMethodRecord) error) ([]ports.AuthMethodRecord, error) {
	if s.failMethods {
		return nil, errDown
	}
	return s.AuthMethodStore.UpdateAuthMethods(ctx, personID, fn)
}

func (s *failingStores) ConfidantRelationships(ctx context.Context, personID string) ([]ports.ConfidantRelationship, error) {
	if s.failConfidants {
		return nil, errDown
	}
	return s.ConfidantStore.ConfidantRelationships(ctx, personID)
}

func TestDeactivateStoreFailures(t *testing.T) {
	for _, which := range []string{"persons", "methods", "confidants"} {
		t.Run(which, func(t *testing.T) {
			f := newFixture(t)
			f.addPerson(t, "adult", date(1990, 1, 1))
			f.addStandardMethods(t, "adult")
			fs := &failingStores{PersonStore: f.persons, AuthMethodStore: f.methods, ConfidantStore: f.confidants,
				failPersons: which == "persons", failMethods: which == "methods", failConfidants: which == "confidants"}
			svc, err := authmethod.NewService(authmethod.Deps{Persons: fs, Methods: fs, Confidants: fs, Tokens: f.tokens, Clock: f.clock},
				authmethod.DefaultConfig())
			require.NoError(t, err)
			req := authmethod.DeactivateRequest{Token: f.token(t, "adult"), MethodID: "adult-tp"}
			_, err = svc.Deactivate(context.Background(), req)
			require.ErrorIs(t, err, verifykit.ErrUnavailable)
			require.ErrorIs(t, err, errDown)
			_, err = svc.Explain(context.Background(), req)
			require.ErrorIs(t, err, verifykit.ErrUnavailable)
			ms, err := f.methods.AuthMethods(context.Background(), "adult")
			require.NoError(t, err)
			require.True(t, ms[1].IsActive)
		})
	}
}

func TestDeactivateLogs(t *testing.T) {
	var buf bytes.Buffer
	f := newFixture(t)
	svc, err := authmethod.NewService(authmethod.Deps{Persons: f.persons, Methods: f.methods, Confidants: f.confidants,
		Tokens: f.tokens, Clock: f.clock, Logger: slog.New(slog.NewTextHandler(&buf, nil))}, authmethod.DefaultConfig())
	require.NoError(t, err)
	f.addPerson(t, "teen", date(2011, 1, 1), withDocs("PASSPORT"))
	f.addStandardMethods(t, "teen")
	f.addPerson(t, "adult", date(1990, 1, 1), withDocs("PASSPORT"))
	f.addStandardMethods(t, "adult")
	_, err = svc.Deactivate(context.Background(), authmethod.DeactivateRequest{Token: f.token(t, "teen"), MethodID: "teen-tp"})
	requireError(t, err, verifykit.KindConflict, "Request must be authorized by confidant person")
	_, err = svc.Deactivate(context.Background(), authmethod.DeactivateRequest{Token: f.token(t, "adult"), MethodID: "adult-tp"})
	require.NoError(t, err)
	out := buf.String()
	require.Contains(t, out, "rule=self_legal_capacity")
	require.Contains(t, out, `reason="age 15 is under 18 and no legal-capacity document"`)
	require.Contains(t, out, "authentication method deactivated")
	for _, secret := range []string{"NUM-SECRET", "+380931234585", "token-"} {
		require.False(t, strings.Contains(out, secret), "the log holds %q:\n%s", secret, out)
	}
}
