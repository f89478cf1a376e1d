package identification

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/internal/authz"
	"github.com/verifykit/verifykit/internal/depcheck"
	"github.com/verifykit/verifykit/internal/logid"
	"github.com/verifykit/verifykit/internal/storefail"
	"github.com/verifykit/verifykit/ports"
)

// Permissions of the profile identification use cases.
const (
	// PermissionResetIdentificationInitiator lets an operator view, approve and decline
	// reset requests and reset a user's identification (SDK.Finance).
	PermissionResetIdentificationInitiator = "RESET_IDENTIFICATION_INITIATOR"
	// PermissionIdentificationReviewer lets an operator move a profile through the review
	// statuses (SetIdentificationStatus). SDK.Finance names no permission for this; it is
	// this SDK's default and can be changed in ProfileConfig.
	PermissionIdentificationReviewer = "IDENTIFICATION_REVIEWER"
)

// Messages of the profile identification errors.
const (
	MsgProfileNotFound         = "Profile not found"
	MsgProfileClosed           = "Profile identification is closed"
	MsgProfileUnderReview      = "Profile is under identification and cannot be changed"
	MsgProfileIdentified       = "Profile is identified: ask for a reset of the identification to change it"
	MsgMandatoryFieldsMissing  = "Mandatory fields are not updated"
	MsgResetRequestNotFound    = "Reset identification request not found"
	MsgResetRequestOpen        = "Reset identification request already exists"
	MsgResetRequestNotPending  = "Reset identification request is not pending"
	msgProfileStoreUnavailable = "profile storage is unavailable"
)

// StatusOK is the "status" of every successful answer, as in the SDK.Finance API.
const StatusOK = "ok"

// Profile is a user's profile in the SDK.Finance shape; its JSON encoding is the "profile"
// object of the API's answers.
type Profile = ports.Profile

// ProfileDeps are what a ProfileService needs.
type ProfileDeps struct {
	// Profiles stores the profile aggregates: each profile with its user's open reset
	// request and the event of every request, reset, decision and status change, which it
	// writes to its outbox with the change (the audit trail its adapter's
	// ports.ProfileAuditLog reads). Required.
	Profiles ports.ProfileStore
	// ResetRequests reads the reset requests that Profiles writes (the same adapter's: e.g.
	// memory's ProfileStore.ResetRequests). Required.
	ResetRequests ports.ResetRequestStore
	// Tokens verifies access tokens. Required.
	Tokens ports.TokenVerifier
	// Clock tells the time. Default ports.SystemClock.
	Clock ports.Clock
	// Logger receives one line per change (user ids and statuses only). Default: discard.
	Logger *slog.Logger
	// Observer is told of every use case and every call to the ports above
	// (adapters/otel: traces and metrics). Default: none (ports.NopObserver).
	Observer ports.Observer
}

// ProfileConfig sets the rules of a ProfileService. Start from DefaultProfileConfig: every
// field is checked by NewProfileService and a zero value is an error, not a default.
type ProfileConfig struct {
	// OperatorPermission is the permission of the operator use cases: viewing, approving
	// and declining reset requests and resetting an identification. Default
	// PermissionResetIdentificationInitiator.
	OperatorPermission string
	// ReviewPermission is the permission of SetIdentificationStatus. Default
	// PermissionIdentificationReviewer.
	ReviewPermission string
	// MaxPageSize is the largest pageSize of ViewResetRequests. Default 100.
	MaxPageSize int
	// MaxDescriptionLength is the longest description of a reset request, in bytes.
	// Default 1000.
	MaxDescriptionLength int
	// MaxValueLength is the longest value UpdateProfile accepts for a field, in bytes.
	// Default 256.
	MaxValueLength int
}

// DefaultProfileConfig returns the default configuration.
func DefaultProfileConfig() ProfileConfig {
	return ProfileConfig{
		OperatorPermission:   PermissionResetIdentificationInitiator,
		ReviewPermission:     PermissionIdentificationReviewer,
		MaxPageSize:          100,
		MaxDescriptionLength: 1000,
		MaxValueLength:       256,
	}
}

// Validate reports every problem of the config at once as a KindInvalidInput error.
func (c ProfileConfig) Validate() error {
	var v verifykit.Validation
	bad := func(field, rule, desc string) {
		v.AddEntry(verifykit.InvalidEntry{Entry: field, EntryType: verifykit.EntryConfig, Rule: rule, Description: desc})
	}
	if c.OperatorPermission == "" {
		bad("OperatorPermission", "required", "is required")
	}
	if c.ReviewPermission == "" {
		bad("ReviewPermission", "required", "is required")
	}
	if c.MaxPageSize < 1 {
		bad("MaxPageSize", "positive", "must be at least 1")
	}
	if c.MaxDescriptionLength < 1 {
		bad("MaxDescriptionLength", "positive", "must be at least 1")
	}
	if c.MaxValueLength < 1 {
		bad("MaxValueLength", "positive", "must be at least 1")
	}
	if err := v.Err(); err != nil {
		e := err.(*verifykit.Error)
		e.Message = "Invalid profile identification configuration."
		return e
	}
	return nil
}

// ProfileService runs the profile identification use cases of RULES.md §C: users ask for a
// reset, update their profile and submit it; operators view and decide reset requests,
// reset identifications with the fields to update, and review submitted profiles. It is
// safe for concurrent use.
//
// Users act on their own profile only: the profile of a user token is the one stored under
// the token's Claims.Subject (the user id of SDK.Finance). Operators name the user.
//
// Operators are scoped by organisation (RULES.md §F): an operator token that carries an
// organisation (Claims.OrgID) acts only on the profiles and reset requests of that
// organisation (ProfileRecord.OrganizationID, ResetRequest.OrganizationID). Another
// organisation's profile or request is answered exactly like an id that does not exist —
// same kind, message and invalid entries — and is never changed; ViewResetRequests lists
// the token's organisation only. An operator token without an organisation is a platform
// operator and acts across organisations.
//
// Every use case checks the token first (KindUnauthorized "Invalid access token"), then
// the permission when it needs one (KindForbidden), then its input (KindInvalidInput,
// every problem at once), then acts; a refused request changes nothing. A use case that
// changes something does it in one ProfileStore.Update of the user's profile aggregate:
// the profile, the user's reset request and the audit event that reports the change are
// stored together or not at all, so a failure of the store (KindUnavailable) leaves no
// half-done change behind. The rule "at most one PENDING reset request per user" is
// checked under the same lock, and kept by the store as well.
type ProfileService struct {
	profiles ports.ProfileStore
	requests ports.ResetRequestStore
	tokens   ports.TokenVerifier
	clock    ports.Clock
	log      *slog.Logger
	cfg      ProfileConfig
	fields   *profileFieldRegistry
	obs      ports.Observer
}

// NewProfileService checks deps and cfg and returns a ProfileService.
func NewProfileService(deps ProfileDeps, cfg ProfileConfig) (*ProfileService, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var missing depcheck.Check
	missing.Require("Profiles", deps.Profiles == nil)
	missing.Require("ResetRequests", deps.ResetRequests == nil)
	missing.Require("Tokens", deps.Tokens == nil)
	if err := missing.Err(); err != nil {
		return nil, err
	}
	deps.Clock, deps.Logger = depcheck.ClockOr(deps.Clock), depcheck.LoggerOr(deps.Logger)
	deps = deps.observed()
	return &ProfileService{
		profiles: deps.Profiles, requests: deps.ResetRequests,
		tokens: deps.Tokens, clock: deps.Clock, log: deps.Logger, cfg: cfg, obs: deps.Observer,
		fields: newProfileFieldRegistry(),
	}, nil
}

// Config returns the service's configuration.
func (s *ProfileService) Config() ProfileConfig { return s.cfg }

// ResettableFields returns the profile field paths a reset may name and a user may update,
// sorted; see ports.Profile for how they are derived.
func (s *ProfileService) ResettableFields() []string { return slices.Clone(s.fields.paths) }

// CanChangeIdentificationStatus reports whether the table of RULES.md §C allows a profile
// to go from one identification status to another:
//
//	none            -> pending | closed
//	pending         -> review_required | declined | approved | closed
//	review_required -> declined | approved | closed
//	declined        -> pending | closed
//	approved        -> pending | closed
//	closed          (final)
//
// No status goes to none through the table: only a reset does (ResetIdentification), from
// any status but closed.
func CanChangeIdentificationStatus(from, to ports.IdentificationStatus) bool {
	switch from {
	case ports.IdentificationNone, ports.IdentificationDeclined, ports.IdentificationApproved:
		return to == ports.IdentificationPending || to == ports.IdentificationClosed
	case ports.IdentificationPending:
		return to == ports.IdentificationReviewRequired || to == ports.IdentificationDeclined ||
			to == ports.IdentificationApproved || to == ports.IdentificationClosed
	case ports.IdentificationReviewRequired:
		return to == ports.IdentificationDeclined || to == ports.IdentificationApproved ||
			to == ports.IdentificationClosed
	}
	return false
}

// profileTransition returns a KindConflict error unless the table allows from -> to.
func profileTransition(from, to ports.IdentificationStatus) error {
	if CanChangeIdentificationStatus(from, to) {
		return nil
	}
	return verifykit.New(verifykit.KindConflict, fmt.Sprintf("Identification status cannot change from %s to %s", from, to))
}

// profileKnownStatus reports whether st is one of the six identification statuses.
func profileKnownStatus(st ports.IdentificationStatus) bool {
	switch st {
	case ports.IdentificationNone, ports.IdentificationPending, ports.IdentificationReviewRequired,
		ports.IdentificationDeclined, ports.IdentificationApproved, ports.IdentificationClosed:
		return true
	}
	return false
}

// authorizeUser checks a user's token and returns its subject, the user id.
func (s *ProfileService) authorizeUser(ctx context.Context, token string) (string, error) {
	claims, err := authz.Authorize(ctx, s.tokens, s.clock, token)
	if err != nil {
		return "", err
	}
	if claims.Subject == "" {
		return "", verifykit.New(verifykit.KindUnauthorized, authz.MsgInvalidToken)
	}
	return claims.Subject, nil
}

// operatorClaims are what an operator's token says about who acts: the subject, and the
// organisation the token belongs to ("" for a platform operator).
type operatorClaims struct {
	subject string
	org     string
}

// sees reports whether the operator may act on a profile or reset request of organisation
// org: a platform operator (a token without an organisation) acts on every organisation,
// an organisation's operator on its own only. What an operator does not see is answered
// exactly like a profile or request that does not exist, and is never changed.
func (o operatorClaims) sees(org string) bool { return o.org == "" || o.org == org }

// authorizeOperator checks an operator's token and permission and returns who acts.
func (s *ProfileService) authorizeOperator(ctx context.Context, token, permission string) (operatorClaims, error) {
	claims, err := authz.Authorize(ctx, s.tokens, s.clock, token)
	if err != nil {
		return operatorClaims{}, err
	}
	if !claims.HasPermission(permission) {
		return operatorClaims{}, verifykit.New(verifykit.KindForbidden, authz.MsgMissingScopes+permission)
	}
	return operatorClaims{subject: claims.Subject, org: claims.OrgID}, nil
}

// profileStoreError turns an error of the profile store (or of an update function) into
// the *verifykit.Error a use case returns.
func profileStoreError(err error) error {
	switch {
	case errors.Is(err, ports.ErrProfileNotFound):
		return verifykit.Wrap(verifykit.KindNotFound, MsgProfileNotFound, err)
	case errors.Is(err, ports.ErrResetRequestNotFound):
		return verifykit.Wrap(verifykit.KindNotFound, MsgResetRequestNotFound, err)
	case errors.Is(err, ports.ErrResetRequestOpen):
		return verifykit.Wrap(verifykit.KindConflict, MsgResetRequestOpen, err)
	}
	return storefail.Wrap(msgProfileStoreUnavailable, err)
}

// ProfileResult is a user's profile with what the identification flow keeps about it.
type ProfileResult struct {
	// Profile is the profile; Profile.Status is the identification status.
	Profile Profile
	// Status is StatusOK.
	Status string
	// UserID is the profile's user.
	UserID string
	// MandatoryFields are the field paths the last reset named.
	MandatoryFields []string
	// PendingFields are the mandatory fields not updated yet; submitting needs none.
	PendingFields []string
	// Documents are the profile's documents.
	Documents []ports.ProfileDocument
}

// profileOut returns p with empty lists and maps instead of nil, so that its JSON has the
// seed's shape ({} and [], never null).
func profileOut(p ports.Profile) Profile {
	p = p.Clone()
	if p.Additional == nil {
		p.Additional = map[string]string{}
	}
	if p.Contact.SocialMedias == nil {
		p.Contact.SocialMedias = []ports.ProfileSocialMedia{}
	}
	return p
}

func profileResult(rec ports.ProfileRecord) ProfileResult {
	nonNil := func(s []string) []string { return append([]string{}, s...) }
	return ProfileResult{
		Profile:         profileOut(rec.Profile),
		Status:          StatusOK,
		UserID:          rec.UserID,
		MandatoryFields: nonNil(rec.MandatoryFields),
		PendingFields:   nonNil(rec.PendingFields),
		Documents:       append([]ports.ProfileDocument{}, rec.Documents...),
	}
}

// MyProfileRequest asks for the caller's own profile.
type MyProfileRequest struct {
	// Token is the user's access token.
	Token string
}

// MyProfile returns the profile of the token's user: KindUnauthorized, or KindNotFound
// when the user has none.
func (s *ProfileService) MyProfile(ctx context.Context, req MyProfileRequest) (_ ProfileResult, err error) {
	ctx, end := s.start(ctx, "MyProfile")
	defer func() { end(err) }()
	userID, err := s.authorizeUser(ctx, req.Token)
	if err != nil {
		return ProfileResult{}, err
	}
	rec, err := s.profiles.Get(ctx, userID)
	if err != nil {
		return ProfileResult{}, profileStoreError(err)
	}
	return profileResult(rec), nil
}

// ProfileFieldChange sets one profile field.
type ProfileFieldChange struct {
	// Path is a field path of ResettableFields, e.g. "contact.email".
	Path string
	// Value is the new value.
	Value string
}

// UpdateProfileRequest changes fields of the caller's own profile.
type UpdateProfileRequest struct {
	// Token is the user's access token.
	Token string
	// Changes are the fields to set, at least one, each path once.
	Changes []ProfileFieldChange
}

// UpdateProfile sets fields of the token's user's profile and marks the mandatory ones
// among them as updated. Checks, in order: token (KindUnauthorized); changes
// (KindInvalidInput: at least one; each path known, not empty, not repeated,
// "$.changes[i].path"; each value at most MaxValueLength bytes, "$.changes[i].value");
// profile exists (KindNotFound); its status is none or declined (KindConflict: closed;
// pending/review_required, while an operator looks at it; approved, whose data was
// identified and changes only after a reset of the identification); a mandatory field is
// not set to an empty value (KindInvalidInput). Setting a field to the value it had
// counts as updating it: the user has confirmed it.
func (s *ProfileService) UpdateProfile(ctx context.Context, req UpdateProfileRequest) (_ ProfileResult, err error) {
	ctx, end := s.start(ctx, "UpdateProfile")
	defer func() { end(err) }()
	userID, err := s.authorizeUser(ctx, req.Token)
	if err != nil {
		return ProfileResult{}, err
	}
	var v verifykit.Validation
	if len(req.Changes) == 0 {
		v.Add("$.changes", "required", "at least one change is required")
	}
	seen := make(map[string]bool, len(req.Changes))
	for i, c := range req.Changes {
		s.checkPath(&v, fmt.Sprintf("$.changes[%d].path", i), c.Path, seen)
		if len(c.Value) > s.cfg.MaxValueLength {
			v.Add(fmt.Sprintf("$.changes[%d].value", i), "length", fmt.Sprintf("must be at most %d bytes", s.cfg.MaxValueLength))
		}
	}
	if err := v.Err(); err != nil {
		return ProfileResult{}, err
	}
	now := s.clock.Now()
	rec, err := s.profiles.Update(ctx, userID, func(r *ports.ProfileRecord) error {
		switch r.Profile.Status {
		case ports.IdentificationClosed:
			return verifykit.New(verifykit.KindConflict, MsgProfileClosed)
		case ports.IdentificationPending, ports.IdentificationReviewRequired:
			return verifykit.New(verifykit.KindConflict, MsgProfileUnderReview)
		case ports.IdentificationApproved:
			return verifykit.New(verifykit.KindConflict, MsgProfileIdentified)
		}
		var v verifykit.Validation
		for i, c := range req.Changes {
			if c.Value == "" && slices.Contains(r.MandatoryFields, c.Path) {
				v.Add(fmt.Sprintf("$.changes[%d].value", i), "required", "a mandatory field cannot be emptied")
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		for _, c := range req.Changes {
			s.fields.set(&r.Profile, c.Path, c.Value)
			r.PendingFields = slices.DeleteFunc(r.PendingFields, func(p string) bool { return p == c.Path })
		}
		r.UpdatedAt = now
		return nil
	})
	if err != nil {
		return ProfileResult{}, profileStoreError(err)
	}
	s.log.InfoContext(ctx, "identification: profile updated", logid.Attr("user_id", userID), "fields", len(req.Changes))
	return profileResult(rec), nil
}

// checkPath validates one field path at entry: not empty, known, not seen before.
func (s *ProfileService) checkPath(v *verifykit.Validation, entry, path string, seen map[string]bool) {
	switch {
	case strings.TrimSpace(path) == "":
		v.Add(entry, "required", "is empty")
	case !s.fields.known(path):
		v.Add(entry, "inclusion", "unknown profile field")
	case seen[path]:
		v.Add(entry, "uniqueness", "duplicate profile field")
	}
	seen[path] = true
}

// SubmitIdentificationRequest submits the caller's own profile for identification.
type SubmitIdentificationRequest struct {
	// Token is the user's access token.
	Token string
}

// SubmitIdentification moves the token's user's profile to pending. Checks, in order:
// token (KindUnauthorized); profile exists (KindNotFound); the table allows the move
// (KindConflict: from none, declined or approved only); every mandatory field was updated
// since the last reset, else KindInvalidInput MsgMandatoryFieldsMissing listing each
// missing field as "$.<path>" (e.g. "$.person.namePlain.first").
func (s *ProfileService) SubmitIdentification(ctx context.Context, req SubmitIdentificationRequest) (_ ProfileResult, err error) {
	ctx, end := s.start(ctx, "SubmitIdentification")
	defer func() { end(err) }()
	userID, err := s.authorizeUser(ctx, req.Token)
	if err != nil {
		return ProfileResult{}, err
	}
	now := s.clock.Now()
	var from ports.IdentificationStatus
	rec, err := s.profiles.Update(ctx, userID, func(r *ports.ProfileRecord) error {
		from = r.Profile.Status
		if err := profileTransition(from, ports.IdentificationPending); err != nil {
			return err
		}
		if len(r.PendingFields) > 0 {
			entries := make([]verifykit.InvalidEntry, len(r.PendingFields))
			for i, p := range r.PendingFields {
				entries[i] = verifykit.InvalidEntry{Entry: "$." + p, EntryType: verifykit.EntryJSONProperty, Rule: "required", Description: "must be updated before submitting"}
			}
			return verifykit.Invalid(MsgMandatoryFieldsMissing, entries...)
		}
		r.Profile.Status = ports.IdentificationPending
		r.UpdatedAt = now
		emitAudit(r, ports.ProfileAuditEvent{
			Action: ports.AuditIdentificationSubmitted, ActorID: userID, UserID: userID, From: from, To: ports.IdentificationPending,
		}, now)
		return nil
	})
	if err != nil {
		return ProfileResult{}, profileStoreError(err)
	}
	s.log.InfoContext(ctx, "identification: profile submitted", logid.Attr("user_id", userID), "from", from)
	return profileResult(rec), nil
}

// SetIdentificationStatusRequest moves a user's profile to another identification status.
type SetIdentificationStatusRequest struct {
	// Token is the operator's access token; it needs ProfileConfig.ReviewPermission.
	Token string
	// UserID is the profile's user. Required.
	UserID string
	// Status is the new identification status. Required.
	Status ports.IdentificationStatus
}

// SetIdentificationStatus is the operator's review step: it moves a profile along the
// table of CanChangeIdentificationStatus. Checks, in order: token (KindUnauthorized);
// ReviewPermission (KindForbidden); user id and a known status (KindInvalidInput);
// profile exists and, for a token of an organisation, belongs to that organisation
// (KindNotFound MsgProfileNotFound either way, checked under the profile's lock); the
// table allows the move (KindConflict).
func (s *ProfileService) SetIdentificationStatus(ctx context.Context, req SetIdentificationStatusRequest) (_ ProfileResult, err error) {
	ctx, end := s.start(ctx, "SetIdentificationStatus")
	defer func() { end(err) }()
	op, err := s.authorizeOperator(ctx, req.Token, s.cfg.ReviewPermission)
	if err != nil {
		return ProfileResult{}, err
	}
	var v verifykit.Validation
	profileRequirePath(&v, "userId", req.UserID)
	if !profileKnownStatus(req.Status) {
		v.Add("$.status", "inclusion", "must be one of none, pending, review_required, declined, approved, closed")
	}
	if err := v.Err(); err != nil {
		return ProfileResult{}, err
	}
	now := s.clock.Now()
	var from ports.IdentificationStatus
	rec, err := s.profiles.Update(ctx, req.UserID, func(r *ports.ProfileRecord) error {
		if !op.sees(r.OrganizationID) {
			return ports.ErrProfileNotFound // another organisation's profile: as if it did not exist
		}
		from = r.Profile.Status
		if err := profileTransition(from, req.Status); err != nil {
			return err
		}
		r.Profile.Status = req.Status
		r.UpdatedAt = now
		emitAudit(r, ports.ProfileAuditEvent{
			Action: ports.AuditIdentificationStatus, ActorID: op.subject, UserID: req.UserID, From: from, To: req.Status,
		}, now)
		return nil
	})
	if err != nil {
		return ProfileResult{}, profileStoreError(err)
	}
	s.log.InfoContext(ctx, "identification: status changed", logid.Attr("user_id", req.UserID), "from", from, "to", req.Status)
	return profileResult(rec), nil
}

// profileRequirePath records a missing URL path parameter.
func profileRequirePath(v *verifykit.Validation, name, value string) {
	if strings.TrimSpace(value) == "" {
		v.AddEntry(verifykit.InvalidEntry{Entry: name, EntryType: verifykit.EntryPathParameter, Rule: "required", Description: "is required"})
	}
}
