package authmethod

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/internal/authz"
	"github.com/verifykit/verifykit/internal/depcheck"
	"github.com/verifykit/verifykit/internal/logid"
	"github.com/verifykit/verifykit/internal/storefail"
	"github.com/verifykit/verifykit/ports"
)

// AuthMethod is an authentication method of a person. The use cases answer methods as
// their person (or the person's confidant) is shown them: the phone masked (see shown).
type AuthMethod = ports.AuthMethodRecord

// shown is m as the flow answers it: its phone masked by ports.MaskPhone ("+38093*****85"),
// the one form in which an answer shows a phone. The stored method keeps it whole.
func shown(m AuthMethod) AuthMethod {
	if m.Phone != "" {
		m.Phone = ports.MaskPhone(m.Phone)
	}
	return m
}

// shownAll is shown of each of ms, in a new slice.
func shownAll(ms []AuthMethod) []AuthMethod {
	out := make([]AuthMethod, len(ms))
	for i, m := range ms {
		out[i] = shown(m)
	}
	return out
}

// Deps are what a Service needs from the outside world.
type Deps struct {
	// Persons stores persons (the owners of methods, and applicants). Required.
	Persons ports.PersonStore
	// Methods stores authentication methods. Required.
	Methods ports.AuthMethodStore
	// Confidants stores confidant relationships. Required.
	Confidants ports.ConfidantStore
	// Events receives the events of refused deactivations, which change nothing (a
	// deactivation's own event goes in the method's Outbox, written with it). Default:
	// drop them.
	Events ports.EventLog
	// Tokens verifies access tokens. Required.
	Tokens ports.TokenVerifier
	// Clock tells the time. Default ports.SystemClock.
	Clock ports.Clock
	// Logger receives one record per deactivation and per denial. Default: discard.
	Logger *slog.Logger
	// Observer is told of every use case and every call to the ports above
	// (adapters/otel: traces and metrics). Default: none (ports.NopObserver).
	Observer ports.Observer
}

// Service deactivates authentication methods. Build it with NewService; it is safe for
// concurrent use.
type Service struct {
	persons    ports.PersonStore
	methods    ports.AuthMethodStore
	confidants ports.ConfidantStore
	events     ports.EventLog
	tokens     ports.TokenVerifier
	clock      ports.Clock
	log        *slog.Logger
	cfg        Config
	loc        *time.Location
	obs        ports.Observer
}

// NewService checks cfg and deps and returns a Service. It returns a KindInvalidInput error
// naming every bad config field or missing dependency.
func NewService(deps Deps, cfg Config) (*Service, error) {
	loc, err := cfg.location()
	if err != nil {
		return nil, err
	}
	var missing depcheck.Check
	missing.Require("Persons", deps.Persons == nil)
	missing.Require("Methods", deps.Methods == nil)
	missing.Require("Confidants", deps.Confidants == nil)
	missing.Require("Tokens", deps.Tokens == nil)
	if err := missing.Err(); err != nil {
		return nil, err
	}
	deps.Clock, deps.Logger = depcheck.ClockOr(deps.Clock), depcheck.LoggerOr(deps.Logger)
	deps = deps.observed()
	cfg.LegalCapacityDocumentTypes = append([]string(nil), cfg.LegalCapacityDocumentTypes...)
	return &Service{
		persons: deps.Persons, methods: deps.Methods, confidants: deps.Confidants, events: eventLogOr(deps.Events),
		tokens: deps.Tokens, clock: deps.Clock, log: deps.Logger, cfg: cfg, loc: loc, obs: deps.Observer,
	}, nil
}

// Config returns the service's configuration.
func (s *Service) Config() Config {
	c := s.cfg
	c.LegalCapacityDocumentTypes = append([]string(nil), s.cfg.LegalCapacityDocumentTypes...)
	return c
}

// DeactivateRequest asks to deactivate one authentication method.
type DeactivateRequest struct {
	// Token is the applicant's access token. It must carry a person_id (the applicant) and
	// Scope.
	Token string
	// PersonID is the person whose method it is. Empty means the method's owner (RULES.md
	// §B: "the person_id of the method's owner"), or the applicant when no method has
	// MethodID.
	PersonID string
	// MethodID is the id of the method (the {id} of the route). Required.
	MethodID string
}

// DeactivateResult is the outcome of a deactivation.
type DeactivateResult struct {
	// Method is the method as deactivated: IsActive false, EndedAt now; its phone masked.
	Method AuthMethod
	// Methods are all the person's methods after the change, in the order added; their
	// phones masked.
	Methods []AuthMethod
	// NewPrimaryID is the method that became primary because the deactivated method was
	// the primary; empty when the primary did not move.
	NewPrimaryID string
}

// Deactivate ends one authentication method of a person. The checks run in this order, and
// the first that fails decides the error (the rules of RULES.md §B):
//
//  1. the token is valid, not expired, and carries a person_id (the applicant), else
//     KindUnauthorized "Invalid access token";
//  2. the token carries Scope, else KindForbidden "Your scope does not allow to access this
//     resource. Missing allowances: authentication_method_request:deactivate_pis";
//     then MethodID is required (KindInvalidInput, entry "id");
//  3. the person exists, with status active and is_active, else KindNotFound
//     MsgPersonNotFound;
//  4. an applicant acting for themselves must not need a confidant: under
//     NoSelfRegistrationAge; or under FullLegalCapacityAge without a legal-capacity
//     document; or an adult with an active VERIFIED confidant relationship: KindConflict
//     MsgConfidantRequired. An applicant acting for someone else needs an active, unexpired,
//     VERIFIED relationship as their confidant (else KindConflict
//     MsgCantConfirmRelationship) and must be an active person who is not NOT_VERIFIED
//     (else KindConflict MsgConfidantNotVerified);
//  5. the method is the person's (KindNotFound MsgMethodNotOwned), THIRD_PERSON
//     (KindForbidden MsgOnlyThirdPerson), the person keeps another active method
//     (KindForbidden MsgLastMethod), and the method has not ended (KindConflict
//     MsgAlreadyDeactivated).
//
// The checks of step 5 and the change run in one atomic step of the method store, so
// concurrent deactivations of a person's methods can never leave the person without an
// active method. The change: EndedAt = now, IsActive = false; if the method was the
// primary, the active method with the latest StartedAt becomes primary.
//
// The error of a failed rule of steps 1 (no person_id) to 5 has a *Denial as its cause,
// saying which rule denied and why. A store failure is KindUnavailable. Nothing changes
// unless the call succeeds.
func (s *Service) Deactivate(ctx context.Context, req DeactivateRequest) (_ DeactivateResult, err error) {
	ctx, end := s.start(ctx, "Deactivate")
	defer func() { end(err) }()
	applicantID, personID, err := s.authorize(ctx, req)
	if err != nil {
		return DeactivateResult{}, err
	}
	now := s.clock.Now()
	checks, _, err := s.personChecks(ctx, applicantID, personID, now)
	if err != nil {
		return DeactivateResult{}, err
	}
	if c, ok := firstFailure(checks); ok {
		s.denied(ctx, c, applicantID, personID, req.MethodID)
		return DeactivateResult{}, c.err()
	}
	var (
		res    DeactivateResult
		denial Check
	)
	methods, err := s.methods.UpdateAuthMethods(ctx, personID, func(ms []ports.AuthMethodRecord) error {
		checks, idx := methodChecks(ms, personID, req.MethodID, now)
		if c, ok := firstFailure(checks); ok {
			denial = c
			return c.err()
		}
		res.NewPrimaryID = deactivate(ms, idx, now)
		res.Method = shown(ms[idx])
		emitDeactivated(&ms[idx], res.NewPrimaryID, applicantID, now)
		return nil
	})
	if err != nil {
		if denial.Outcome == Failed {
			s.denied(ctx, denial, applicantID, personID, req.MethodID)
		}
		return DeactivateResult{}, storefail.Wrap("authentication methods are unavailable", err)
	}
	res.Methods = shownAll(methods)
	s.log.InfoContext(ctx, "authentication method deactivated",
		logid.Attr("person_id", personID), logid.Attr("applicant_id", applicantID), logid.Attr("method_id", req.MethodID),
		"new_primary_id", res.NewPrimaryID) // a stored method's id, or "" when the primary did not move
	return res, nil
}

// Explanation is the answer of Explain: whether Deactivate would succeed now, and why.
type Explanation struct {
	// Allowed is true when every rule passes.
	Allowed bool
	// ApplicantID is the token's person_id.
	ApplicantID string
	// PersonID is the person whose method it is.
	PersonID string
	// MethodID is the method asked about.
	MethodID string
	// Checks holds every rule of the flow, in the order Deactivate checks them, each with
	// its outcome and reason. Rules that do not apply are NotApplicable; rules that could
	// not be checked (the person or the method does not exist) are NotEvaluated.
	Checks []Check
	// Err is the error Deactivate would return now (its first failed rule); nil when
	// Allowed.
	Err error
}

// Explain answers what Deactivate would do with req now, without changing anything: the
// outcome of every rule, not only the first that fails. It checks the token, its scope
// and the request exactly as Deactivate does, and returns those errors (not an
// Explanation); any other denial is reported in the Explanation. A store failure is a
// KindUnavailable error. The answer is a snapshot: a concurrent change can make Deactivate
// decide otherwise.
func (s *Service) Explain(ctx context.Context, req DeactivateRequest) (_ Explanation, err error) {
	ctx, end := s.start(ctx, "Explain")
	defer func() { end(err) }()
	applicantID, personID, err := s.authorize(ctx, req)
	if err != nil {
		return Explanation{}, err
	}
	now := s.clock.Now()
	ex := Explanation{ApplicantID: applicantID, PersonID: personID, MethodID: req.MethodID}
	ex.Checks = append(ex.Checks,
		passed(RuleToken, "the token is valid and carries person_id "+applicantID),
		passed(RuleScope, "the token carries "+Scope))
	checks, found, err := s.personChecks(ctx, applicantID, personID, now)
	if err != nil {
		return Explanation{}, err
	}
	ex.Checks = append(ex.Checks, checks...)
	if found {
		ms, err := s.methods.AuthMethods(ctx, personID)
		if err != nil {
			return Explanation{}, storefail.Wrap("authentication methods are unavailable", err)
		}
		checks, _ := methodChecks(ms, personID, req.MethodID, now)
		ex.Checks = append(ex.Checks, checks...)
	} else {
		ex.Checks = append(ex.Checks, notEvaluated("the person does not exist", RuleMethodOwned, RuleMethodType, RuleNotLastMethod, RuleMethodActive)...)
	}
	if c, ok := firstFailure(ex.Checks); ok {
		ex.Err = c.err()
	} else {
		ex.Allowed = true
	}
	return ex, nil
}

// authorize checks the token, then its person_id, then the scope, then the request, and
// returns the applicant and the person.
func (s *Service) authorize(ctx context.Context, req DeactivateRequest) (applicantID, personID string, err error) {
	claims, err := authz.Authorize(ctx, s.tokens, s.clock, req.Token)
	if err != nil {
		return "", "", err
	}
	if strings.TrimSpace(claims.PersonID) == "" {
		return "", "", verifykit.Wrap(verifykit.KindUnauthorized, authz.MsgInvalidToken,
			&Denial{Rule: RuleToken, Reason: "the token carries no person_id"})
	}
	if err := authz.RequireScopes(claims, Scope); err != nil {
		return "", "", err
	}
	var v verifykit.Validation
	if strings.TrimSpace(req.MethodID) == "" {
		v.AddEntry(verifykit.InvalidEntry{Entry: "id", EntryType: verifykit.EntryPathParameter, Rule: "required", Description: "is required"})
	}
	if err := v.Err(); err != nil {
		return "", "", err
	}
	personID = req.PersonID
	if personID == "" {
		m, err := s.methods.AuthMethod(ctx, req.MethodID)
		switch {
		case err == nil:
			personID = m.PersonID
		case errors.Is(err, ports.ErrAuthMethodNotFound):
			personID = claims.PersonID // step 5 answers the unknown method
		default:
			return "", "", storefail.Wrap("authentication methods are unavailable", err)
		}
	}
	return claims.PersonID, personID, nil
}

// personChecks runs the rules about the person and the applicant (steps 3 and 4) and
// reports whether the person exists.
func (s *Service) personChecks(ctx context.Context, applicantID, personID string, now time.Time) ([]Check, bool, error) {
	person, found, err := s.person(ctx, personID)
	if err != nil {
		return nil, false, err
	}
	checks := []Check{personChecks(person, found)}
	if !found {
		return append(checks, notEvaluated("the person does not exist",
			RuleSelfMinimumAge, RuleSelfLegalCapacity, RuleSelfNoConfidant, RuleRelationship, RuleConfidantVerified)...), false, nil
	}
	relationships := func() ([]ports.ConfidantRelationship, error) {
		rels, err := s.confidants.ConfidantRelationships(ctx, personID)
		return rels, storefail.Wrap("confidant relationships are unavailable", err)
	}
	if applicantID == personID {
		age, err := Age(person.BirthDate, now, s.loc)
		if err != nil {
			// An age that cannot be told is not old enough to act alone.
			checks = append(checks, failed(RuleSelfMinimumAge, verifykit.KindConflict, MsgConfidantRequired,
				"the age cannot be told: "+invalidReason(err)))
			checks = append(checks, notEvaluated("the age cannot be told", RuleSelfLegalCapacity, RuleSelfNoConfidant)...)
		} else {
			self, err := s.selfChecks(person, age, relationships, now)
			if err != nil {
				return nil, false, err
			}
			checks = append(checks, self...)
		}
		return append(checks,
			notApplicable(RuleRelationship, "the applicant acts for themselves"),
			notApplicable(RuleConfidantVerified, "the applicant acts for themselves")), true, nil
	}
	for _, r := range []Rule{RuleSelfMinimumAge, RuleSelfLegalCapacity, RuleSelfNoConfidant} {
		checks = append(checks, notApplicable(r, "the applicant acts for another person"))
	}
	rels, err := relationships()
	if err != nil {
		return nil, false, err
	}
	checks = append(checks, relationshipCheck(personID, applicantID, rels, now))
	applicant, found, err := s.person(ctx, applicantID)
	if err != nil {
		return nil, false, err
	}
	return append(checks, confidantCheck(applicant, found)), true, nil
}

// person reads a person; a missing person is not an error (found is false, and the
// record carries the id).
func (s *Service) person(ctx context.Context, id string) (p ports.PersonRecord, found bool, err error) {
	p, err = s.persons.Person(ctx, id)
	switch {
	case errors.Is(err, ports.ErrPersonNotFound):
		return ports.PersonRecord{ID: id}, false, nil
	case err != nil:
		return ports.PersonRecord{}, false, storefail.Wrap("persons are unavailable", err)
	}
	return p, true, nil
}

// invalidReason returns the descriptions of the invalid entries of err, or its text.
func invalidReason(err error) string {
	var e *verifykit.Error
	if errors.As(err, &e) && len(e.Invalid) > 0 {
		parts := make([]string, len(e.Invalid))
		for i, in := range e.Invalid {
			parts[i] = in.Description
		}
		return strings.Join(parts, "; ")
	}
	return err.Error()
}

// denied logs a denial. Reasons hold ids, ages and document types, never document numbers
// or phone numbers. The ids come with the request (the path's method id, the body's
// person_id, the token's person_id), so they are logged through logid: a malformed or
// overlong one as a marker and its length, never its value; Reason names them alike.
func (s *Service) denied(ctx context.Context, c Check, applicantID, personID, methodID string) {
	s.refused(ctx, c, applicantID, personID, methodID)
	s.log.InfoContext(ctx, "authentication method deactivation denied",
		"rule", string(c.Rule), "reason", c.Reason,
		logid.Attr("person_id", personID), logid.Attr("applicant_id", applicantID), logid.Attr("method_id", methodID))
}
