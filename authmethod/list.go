package authmethod

import (
	"context"
	"strings"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/internal/authz"
	"github.com/verifykit/verifykit/internal/logid"
	"github.com/verifykit/verifykit/internal/storefail"
)

// ReadScope is the scope a token needs to list authentication methods (the eHealth PIS
// read route, GET /api/pis/authentication_methods).
const ReadScope = "authentication_method:read_pis"

// ListRequest asks for the authentication methods of a person.
type ListRequest struct {
	// Token is the applicant's access token. It must carry a person_id (the applicant) and
	// ReadScope.
	Token string
	// PersonID is the person whose methods to list. Empty, or the applicant's own id,
	// means the applicant's own methods; any other id needs the applicant to be that
	// person's confidant.
	PersonID string
}

// ListResult is the answer of List.
type ListResult struct {
	// PersonID is the person whose methods these are.
	PersonID string
	// Methods are the person's methods, active and ended, in the order they were added,
	// their phones masked. Exactly one active method is primary.
	Methods []AuthMethod
}

// List returns a person's authentication methods, so that the person (or their confidant)
// can see which is primary, for instance after a deactivation moved it. The checks:
//
//  1. the token is valid, not expired, and carries a person_id, else KindUnauthorized
//     "Invalid access token";
//  2. the token carries ReadScope, else KindForbidden "Your scope does not allow to access
//     this resource. Missing allowances: authentication_method:read_pis";
//  3. the person exists, with status active and is_active, else KindNotFound
//     MsgPersonNotFound;
//  4. for another person, the applicant must be their confidant, as for a deactivation:
//     an active, unexpired, VERIFIED relationship (else KindConflict
//     MsgCantConfirmRelationship), and an active applicant who is not NOT_VERIFIED (else
//     KindConflict MsgConfidantNotVerified).
//
// The age and legal-capacity rules of a deactivation do not apply: a person may always
// see their own methods. A store failure is KindUnavailable. List changes nothing.
func (s *Service) List(ctx context.Context, req ListRequest) (_ ListResult, err error) {
	ctx, end := s.start(ctx, "List")
	defer func() { end(err) }()
	claims, err := authz.Authorize(ctx, s.tokens, s.clock, req.Token)
	if err != nil {
		return ListResult{}, err
	}
	applicantID := claims.PersonID
	if strings.TrimSpace(applicantID) == "" {
		return ListResult{}, verifykit.Wrap(verifykit.KindUnauthorized, authz.MsgInvalidToken,
			&Denial{Rule: RuleToken, Reason: "the token carries no person_id"})
	}
	if err := authz.RequireScopes(claims, ReadScope); err != nil {
		return ListResult{}, err
	}
	personID := req.PersonID
	if personID == "" {
		personID = applicantID
	}
	checks, err := s.listChecks(ctx, applicantID, personID)
	if err != nil {
		return ListResult{}, err
	}
	if c, ok := firstFailure(checks); ok {
		s.log.InfoContext(ctx, "authentication methods not listed",
			"rule", string(c.Rule), "reason", c.Reason,
			logid.Attr("person_id", personID), logid.Attr("applicant_id", applicantID))
		return ListResult{}, c.err()
	}
	methods, err := s.methods.AuthMethods(ctx, personID)
	if err != nil {
		return ListResult{}, storefail.Wrap("authentication methods are unavailable", err)
	}
	return ListResult{PersonID: personID, Methods: shownAll(methods)}, nil
}

// listChecks are the person rules of List: the person is active and, for someone else,
// the applicant is their verified confidant.
func (s *Service) listChecks(ctx context.Context, applicantID, personID string) ([]Check, error) {
	person, found, err := s.person(ctx, personID)
	if err != nil {
		return nil, err
	}
	checks := []Check{personChecks(person, found)}
	if !found || applicantID == personID {
		return checks, nil
	}
	rels, err := s.confidants.ConfidantRelationships(ctx, personID)
	if err != nil {
		return nil, storefail.Wrap("confidant relationships are unavailable", err)
	}
	checks = append(checks, relationshipCheck(personID, applicantID, rels, s.clock.Now()))
	applicant, found, err := s.person(ctx, applicantID)
	if err != nil {
		return nil, err
	}
	return append(checks, confidantCheck(applicant, found)), nil
}
