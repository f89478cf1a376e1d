package authmethod

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/internal/logid"
	"github.com/verifykit/verifykit/ports"
)

// Scope is the scope a token needs to deactivate an authentication method.
const Scope = "authentication_method_request:deactivate_pis"

// Authentication method types: the ports.AuthMethodType values (AuthMethod.Type).
const (
	TypeOTP         = ports.AuthMethodOTP
	TypeOffline     = ports.AuthMethodOffline
	TypeThirdPerson = ports.AuthMethodThirdPerson
	TypeNA          = ports.AuthMethodNA
)

// PersonStatusActive is the PersonRecord.Status of a person who may be acted for.
const PersonStatusActive = "active"

// Verification statuses. Relationships use VERIFIED, VERIFICATION_NEEDED, NOT_VERIFIED,
// IN_REVIEW and CHANGES_NEEDED; persons use those and VERIFICATION_NOT_NEEDED.
const (
	StatusVerified              = "VERIFIED"
	StatusNotVerified           = "NOT_VERIFIED"
	StatusVerificationNeeded    = "VERIFICATION_NEEDED"
	StatusVerificationNotNeeded = "VERIFICATION_NOT_NEEDED"
	StatusInReview              = "IN_REVIEW"
	StatusChangesNeeded         = "CHANGES_NEEDED"
)

// The messages of the errors Deactivate returns, exactly as the eHealth API words them.
// Token and scope failures use the messages of package internal/authz ("Invalid access
// token", "Your scope does not allow to access this resource. Missing allowances: ...").
const (
	MsgPersonNotFound          = "Person not found"
	MsgConfidantRequired       = "Request must be authorized by confidant person"
	MsgCantConfirmRelationship = "Can't confirm relationship"
	MsgConfidantNotVerified    = "Confidant person not found or is not verified"
	MsgMethodNotOwned          = "Such authentication method does not belong to this person"
	MsgOnlyThirdPerson         = "Only THIRD_PERSON authentication method type could be deactivated"
	MsgLastMethod              = "You can't deactivate the last authentication method"
	MsgAlreadyDeactivated      = "Authentication method is already deactivated"
)

// Rule names one rule of the deactivation flow. Rules are checked in the order of the
// constants; the first that fails decides the error.
type Rule string

// The rules of the deactivation flow, in the order they are checked.
const (
	// RuleToken: the token is valid, not expired, and carries a person_id
	// (KindUnauthorized).
	RuleToken Rule = "token"
	// RuleScope: the token carries Scope (KindForbidden).
	RuleScope Rule = "scope"
	// RulePersonActive: the person exists, with status active and is_active (KindNotFound).
	RulePersonActive Rule = "person_active"
	// RuleSelfMinimumAge: an applicant acting for themselves is at least
	// NoSelfRegistrationAge (KindConflict MsgConfidantRequired).
	RuleSelfMinimumAge Rule = "self_minimum_age"
	// RuleSelfLegalCapacity: an applicant acting for themselves, aged from
	// NoSelfRegistrationAge to under FullLegalCapacityAge, holds a legal-capacity document
	// (KindConflict MsgConfidantRequired).
	RuleSelfLegalCapacity Rule = "self_legal_capacity"
	// RuleSelfNoConfidant: an adult applicant acting for themselves has no active,
	// VERIFIED confidant relationship (KindConflict MsgConfidantRequired).
	RuleSelfNoConfidant Rule = "self_no_confidant"
	// RuleRelationship: an applicant acting for someone else is their confidant in an
	// active, unexpired, VERIFIED relationship (KindConflict MsgCantConfirmRelationship).
	RuleRelationship Rule = "confidant_relationship"
	// RuleConfidantVerified: that applicant exists, is active and is not NOT_VERIFIED
	// (KindConflict MsgConfidantNotVerified).
	RuleConfidantVerified Rule = "confidant_verified"
	// RuleMethodOwned: the method is one of the person's (KindNotFound MsgMethodNotOwned).
	RuleMethodOwned Rule = "method_owned"
	// RuleMethodType: the method is THIRD_PERSON (KindForbidden MsgOnlyThirdPerson).
	RuleMethodType Rule = "method_type"
	// RuleNotLastMethod: the person keeps another active method (KindForbidden
	// MsgLastMethod).
	RuleNotLastMethod Rule = "not_last_method"
	// RuleMethodActive: the method has not ended already (KindConflict
	// MsgAlreadyDeactivated).
	RuleMethodActive Rule = "method_active"
)

// Outcome is what one rule said about one request.
type Outcome string

// The outcomes of a rule.
const (
	// Passed: the rule holds.
	Passed Outcome = "passed"
	// Failed: the rule denies the request.
	Failed Outcome = "failed"
	// NotApplicable: the rule does not apply to this request (e.g. the age rules when the
	// applicant acts for someone else).
	NotApplicable Outcome = "not_applicable"
	// NotEvaluated: the rule could not be checked because what it needs is missing (e.g.
	// the person does not exist).
	NotEvaluated Outcome = "not_evaluated"
)

// Check is one rule's outcome, with the reason in words.
type Check struct {
	// Rule is the rule checked.
	Rule Rule
	// Outcome is what it said.
	Outcome Outcome
	// Reason says why, for a support team, e.g. "age 15 is under 18 and no legal-capacity
	// document". It is logged with every denial, so the ids it names are bounded: an id
	// that is not 1 to 64 plain characters (letters, digits, '-', '_', '.', ':') reads
	// "[malformed id: N bytes]" instead of its value.
	Reason string
	// Kind is the kind of the error the rule gives when it fails; KindNone otherwise.
	Kind verifykit.Kind
	// Message is the exact message of that error; empty unless Failed.
	Message string
}

// err returns the error a failed check gives: Message as the message, a *Denial as the
// cause.
func (c Check) err() error {
	return verifykit.Wrap(c.Kind, c.Message, &Denial{Rule: c.Rule, Reason: c.Reason})
}

// Denial is the cause of every error that a rule of the flow gives: errors.As finds it in
// the errors of Deactivate and Explain. Its Error is the reason alone, so the error of
// Deactivate reads "Request must be authorized by confidant person: age 15 is under 18 and
// no legal-capacity document" while its Message stays exact.
type Denial struct {
	// Rule is the rule that denied.
	Rule Rule
	// Reason says why, in words a support team can act on.
	Reason string
}

// Error returns the reason.
func (d *Denial) Error() string { return d.Reason }

func passed(r Rule, reason string) Check { return Check{Rule: r, Outcome: Passed, Reason: reason} }

func failed(r Rule, kind verifykit.Kind, msg, reason string) Check {
	return Check{Rule: r, Outcome: Failed, Reason: reason, Kind: kind, Message: msg}
}

func notApplicable(r Rule, reason string) Check {
	return Check{Rule: r, Outcome: NotApplicable, Reason: reason}
}

func notEvaluated(reason string, rules ...Rule) []Check {
	out := make([]Check, len(rules))
	for i, r := range rules {
		out[i] = Check{Rule: r, Outcome: NotEvaluated, Reason: reason}
	}
	return out
}

// firstFailure returns the first failed check, if any.
func firstFailure(checks []Check) (Check, bool) {
	for _, c := range checks {
		if c.Outcome == Failed {
			return c, true
		}
	}
	return Check{}, false
}

// personChecks checks that the person may be acted for.
func personChecks(p ports.PersonRecord, found bool) Check {
	switch {
	case !found:
		return failed(RulePersonActive, verifykit.KindNotFound, MsgPersonNotFound, fmt.Sprintf("person %s does not exist", logid.Of(p.ID)))
	case p.Status != PersonStatusActive:
		return failed(RulePersonActive, verifykit.KindNotFound, MsgPersonNotFound, fmt.Sprintf("person %s has status %q, not %q", logid.Of(p.ID), p.Status, PersonStatusActive))
	case !p.IsActive:
		return failed(RulePersonActive, verifykit.KindNotFound, MsgPersonNotFound, fmt.Sprintf("person %s is not active (is_active=false)", logid.Of(p.ID)))
	}
	return passed(RulePersonActive, fmt.Sprintf("person %s is active", logid.Of(p.ID)))
}

// selfChecks are the three rules for an applicant acting for themselves, given their age.
// confidants is called only when the applicant is an adult.
func (s *Service) selfChecks(p ports.PersonRecord, age int, confidants func() ([]ports.ConfidantRelationship, error), now time.Time) ([]Check, error) {
	minAge, fullAge := s.cfg.NoSelfRegistrationAge, s.cfg.FullLegalCapacityAge
	checks := make([]Check, 0, 3)
	if age < minAge {
		checks = append(checks,
			failed(RuleSelfMinimumAge, verifykit.KindConflict, MsgConfidantRequired, fmt.Sprintf("age %d is under %d", age, minAge)),
			notApplicable(RuleSelfLegalCapacity, fmt.Sprintf("age %d is under %d", age, minAge)),
			notApplicable(RuleSelfNoConfidant, fmt.Sprintf("age %d is under %d", age, fullAge)))
		return checks, nil
	}
	checks = append(checks, passed(RuleSelfMinimumAge, fmt.Sprintf("age %d is %d or over", age, minAge)))
	if age < fullAge {
		if doc, ok := s.legalCapacityDocument(p); ok {
			checks = append(checks, passed(RuleSelfLegalCapacity, fmt.Sprintf("age %d is under %d and has a %s", age, fullAge, doc)))
		} else {
			checks = append(checks, failed(RuleSelfLegalCapacity, verifykit.KindConflict, MsgConfidantRequired,
				fmt.Sprintf("age %d is under %d and no legal-capacity document", age, fullAge)))
		}
		return append(checks, notApplicable(RuleSelfNoConfidant, fmt.Sprintf("age %d is under %d", age, fullAge))), nil
	}
	checks = append(checks, notApplicable(RuleSelfLegalCapacity, fmt.Sprintf("age %d is %d or over", age, fullAge)))
	rels, err := confidants()
	if err != nil {
		return nil, err
	}
	for _, r := range rels {
		if ok, _ := usable(r, now); ok {
			return append(checks, failed(RuleSelfNoConfidant, verifykit.KindConflict, MsgConfidantRequired,
				fmt.Sprintf("age %d is %d or over but relationship %s with confidant %s is active and VERIFIED", age, fullAge, logid.Of(r.ID), logid.Of(r.ConfidantPersonID)))), nil
		}
	}
	return append(checks, passed(RuleSelfNoConfidant, "no active VERIFIED confidant relationship")), nil
}

// legalCapacityDocument returns the type of the person's first legal-capacity document.
func (s *Service) legalCapacityDocument(p ports.PersonRecord) (string, bool) {
	for _, d := range p.Documents {
		if slices.Contains(s.cfg.LegalCapacityDocumentTypes, d.Type) {
			return d.Type, true
		}
	}
	return "", false
}

// usable reports whether a relationship is active, unexpired at now and VERIFIED, and if
// not, why.
func usable(r ports.ConfidantRelationship, now time.Time) (bool, string) {
	switch {
	case !r.IsActive:
		return false, fmt.Sprintf("relationship %s is not active", logid.Of(r.ID))
	case !r.ActiveTo.IsZero() && !now.Before(r.ActiveTo):
		return false, fmt.Sprintf("relationship %s ended at %s", logid.Of(r.ID), r.ActiveTo.UTC().Format(time.RFC3339))
	case r.VerificationStatus != StatusVerified:
		return false, fmt.Sprintf("relationship %s is %s, not VERIFIED", logid.Of(r.ID), r.VerificationStatus)
	}
	return true, ""
}

// relationshipCheck checks that applicantID is a confidant of the person in a usable
// relationship.
func relationshipCheck(personID, applicantID string, rels []ports.ConfidantRelationship, now time.Time) Check {
	var why []string
	for _, r := range rels {
		if r.ConfidantPersonID != applicantID {
			continue
		}
		ok, reason := usable(r, now)
		if ok {
			return passed(RuleRelationship, fmt.Sprintf("relationship %s is active and VERIFIED", logid.Of(r.ID)))
		}
		why = append(why, reason)
	}
	if len(why) == 0 {
		why = append(why, fmt.Sprintf("no confidant relationship between applicant %s and person %s", logid.Of(applicantID), logid.Of(personID)))
	}
	return failed(RuleRelationship, verifykit.KindConflict, MsgCantConfirmRelationship, strings.Join(why, "; "))
}

// confidantCheck checks that the applicant acting for someone else is an active person who
// is not NOT_VERIFIED.
func confidantCheck(a ports.PersonRecord, found bool) Check {
	fail := func(reason string) Check {
		return failed(RuleConfidantVerified, verifykit.KindConflict, MsgConfidantNotVerified, reason)
	}
	switch {
	case !found:
		return fail(fmt.Sprintf("applicant %s does not exist", logid.Of(a.ID)))
	case a.Status != PersonStatusActive || !a.IsActive:
		return fail(fmt.Sprintf("applicant %s is not active (status %q, is_active=%t)", logid.Of(a.ID), a.Status, a.IsActive))
	case a.VerificationStatus == StatusNotVerified:
		return fail(fmt.Sprintf("applicant %s is NOT_VERIFIED", logid.Of(a.ID)))
	}
	return passed(RuleConfidantVerified, fmt.Sprintf("applicant %s is active and %s", logid.Of(a.ID), a.VerificationStatus))
}

// ended reports whether the method has ended at now: deactivated, or past its EndedAt.
func ended(m ports.AuthMethodRecord, now time.Time) bool {
	return !m.IsActive || (!m.EndedAt.IsZero() && !now.Before(m.EndedAt))
}

// methodChecks checks the rules about the method itself against the person's methods and
// returns the checks and the method's index (-1 when not found).
func methodChecks(ms []ports.AuthMethodRecord, personID, methodID string, now time.Time) ([]Check, int) {
	idx := slices.IndexFunc(ms, func(m ports.AuthMethodRecord) bool { return m.ID == methodID })
	if idx < 0 {
		return append([]Check{failed(RuleMethodOwned, verifykit.KindNotFound, MsgMethodNotOwned,
			fmt.Sprintf("method %s is not one of person %s's %d methods", logid.Of(methodID), logid.Of(personID), len(ms)))},
			notEvaluated("the method is not the person's", RuleMethodType, RuleNotLastMethod, RuleMethodActive)...), -1
	}
	m := ms[idx]
	checks := []Check{passed(RuleMethodOwned, fmt.Sprintf("method %s belongs to person %s", logid.Of(methodID), logid.Of(personID)))}
	if m.Type == TypeThirdPerson {
		checks = append(checks, passed(RuleMethodType, "the method is THIRD_PERSON"))
	} else {
		checks = append(checks, failed(RuleMethodType, verifykit.KindForbidden, MsgOnlyThirdPerson, fmt.Sprintf("the method is %s, not THIRD_PERSON", m.Type)))
	}
	others := 0
	for i, o := range ms {
		if i != idx && !ended(o, now) {
			others++
		}
	}
	if others > 0 {
		checks = append(checks, passed(RuleNotLastMethod, fmt.Sprintf("the person keeps %d other active method(s)", others)))
	} else {
		checks = append(checks, failed(RuleNotLastMethod, verifykit.KindForbidden, MsgLastMethod,
			fmt.Sprintf("person %s has no other active method", logid.Of(personID))))
	}
	switch {
	case !m.IsActive:
		checks = append(checks, failed(RuleMethodActive, verifykit.KindConflict, MsgAlreadyDeactivated, fmt.Sprintf("method %s is not active", logid.Of(methodID))))
	case ended(m, now):
		checks = append(checks, failed(RuleMethodActive, verifykit.KindConflict, MsgAlreadyDeactivated,
			fmt.Sprintf("method %s ended at %s", logid.Of(methodID), m.EndedAt.UTC().Format(time.RFC3339))))
	default:
		checks = append(checks, passed(RuleMethodActive, "the method is active"))
	}
	return checks, idx
}

// deactivate applies the effect to ms[idx]: it ends now and, if it was the primary, the
// most recently added active method (latest StartedAt; the later added on a tie) becomes
// the only primary. It returns the id of the new primary, or "".
func deactivate(ms []ports.AuthMethodRecord, idx int, now time.Time) string {
	m := &ms[idx]
	wasPrimary := m.IsPrimary
	m.EndedAt, m.IsActive, m.IsPrimary = now, false, false
	if !wasPrimary {
		return ""
	}
	next := -1
	for i, o := range ms {
		if i != idx && !ended(o, now) && (next < 0 || !o.StartedAt.Before(ms[next].StartedAt)) {
			next = i
		}
	}
	if next < 0 {
		return ""
	}
	for i := range ms {
		ms[i].IsPrimary = i == next
	}
	return ms[next].ID
}
