package identification

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/internal/logid"
	"github.com/verifykit/verifykit/internal/storefail"
	"github.com/verifykit/verifykit/ports"
)

const msgResetStoreUnavailable = "reset request storage is unavailable"

// resetRequestError turns an error of the reset request store, which only reads, into the
// *verifykit.Error a use case returns.
func resetRequestError(err error) error {
	if errors.Is(err, ports.ErrResetRequestNotFound) {
		return verifykit.Wrap(verifykit.KindNotFound, MsgResetRequestNotFound, err)
	}
	return storefail.Wrap(msgResetStoreUnavailable, err)
}

// AskForResetRequest is a user's request to have their own identification reset
// (POST /profiles/my/reset-identification).
type AskForResetRequest struct {
	// Token is the user's access token.
	Token string
	// Description is the user's free text, at most MaxDescriptionLength bytes. Optional.
	Description string
}

// ResetRequestResult is the answer of the use cases that return one reset request.
type ResetRequestResult struct {
	Request ports.ResetRequest
	// Status is StatusOK.
	Status string
}

// AskForReset creates a PENDING reset request for the token's user. Checks, in order:
// token (KindUnauthorized); description length (KindInvalidInput, "$.description");
// profile exists (KindNotFound); it is not closed (KindConflict MsgProfileClosed); the
// user has no other PENDING request (KindConflict MsgResetRequestOpen, checked under the
// profile's lock and kept by the store, so of concurrent asks exactly one succeeds). The
// request takes the profile's organisation; it is stored with its audit event, in one
// update of the user's profile.
func (s *ProfileService) AskForReset(ctx context.Context, req AskForResetRequest) (_ ResetRequestResult, err error) {
	ctx, end := s.start(ctx, "AskForReset")
	defer func() { end(err) }()
	userID, err := s.authorizeUser(ctx, req.Token)
	if err != nil {
		return ResetRequestResult{}, err
	}
	if len(req.Description) > s.cfg.MaxDescriptionLength {
		return ResetRequestResult{}, verifykit.Invalid("Validation failed.", verifykit.InvalidEntry{
			Entry: "$.description", EntryType: verifykit.EntryJSONProperty, Rule: "length",
			Description: fmt.Sprintf("must be at most %d bytes", s.cfg.MaxDescriptionLength),
		})
	}
	now := s.clock.Now()
	id := uuid.NewString()
	var rr ports.ResetRequest
	_, err = s.profiles.Update(ctx, userID, func(r *ports.ProfileRecord) error {
		if r.Profile.Status == ports.IdentificationClosed {
			return verifykit.New(verifykit.KindConflict, MsgProfileClosed)
		}
		if r.OpenResetRequest != nil {
			return ports.ErrResetRequestOpen
		}
		rr = ports.ResetRequest{
			ID: id, UserID: userID, Description: req.Description,
			OrganizationID: r.OrganizationID, Status: ports.ResetRequestPending,
			InitiatorUserID: userID, CreatedAt: now,
		}
		open := rr
		r.OpenResetRequest = &open
		emitAudit(r, ports.ProfileAuditEvent{
			Action: ports.AuditResetRequested, ActorID: userID, UserID: userID, RequestID: id,
		}, now)
		return nil
	})
	if err != nil {
		return ResetRequestResult{}, profileStoreError(err)
	}
	s.log.InfoContext(ctx, "identification: reset requested", logid.Attr("user_id", userID), logid.Attr("reset_request_id", rr.ID))
	return ResetRequestResult{Request: rr, Status: StatusOK}, nil
}

// ResetRequestFilter selects reset requests; an empty field selects all.
type ResetRequestFilter struct {
	// Status is PENDING, APPROVED or DECLINED.
	Status ports.ResetRequestStatus
	// OrganizationID is the users' organisation.
	OrganizationID string
}

// ResetRequestSort sorts reset requests: each field, when set, is "asc" or "desc" (any
// case). Set fields apply in the order of this struct (organizationId, then status, then
// createdAt, then userId), because a JSON object's key order is not kept; ties, and an
// empty sort, fall back to the creation time, then the id, ascending.
type ResetRequestSort struct {
	OrganizationID string
	Status         string
	CreatedAt      string
	UserID         string
}

// ViewResetRequestsRequest asks for a page of reset requests
// (POST /profiles/view-reset-identification-requests).
type ViewResetRequestsRequest struct {
	// Token is the operator's access token; it needs ProfileConfig.OperatorPermission.
	Token  string
	Filter ResetRequestFilter
	Sort   ResetRequestSort
	// PageNumber counts from 0, as in SDK.Finance.
	PageNumber int
	// PageSize is 1 to MaxPageSize.
	PageSize int
}

// ViewResetRequestsResult is one page of reset requests.
type ViewResetRequestsResult struct {
	// Status is StatusOK.
	Status     string
	PageNumber int
	PageSize   int
	// TotalRecords is how many requests match the filter in all.
	TotalRecords int
	// TotalPages is how many pages of PageSize they fill (0 when none match).
	TotalPages int
	// Records is the page; empty (never nil) past the last page.
	Records []ports.ResetRequest
}

// ViewResetRequests is the operator's "view pending reset identification requests".
// Checks, in order: token (KindUnauthorized); OperatorPermission (KindForbidden); input
// (KindInvalidInput: pageNumber >= 0, pageSize 1 to MaxPageSize, a known filter status,
// sort directions asc/desc). A page past the end is not an error: it is empty, with the
// totals.
//
// A token of an organisation sees the requests of its organisation only: with no
// filter.organizationId the filter is its organisation; a filter naming another
// organisation answers what a filter naming an organisation without requests answers, an
// empty page with totalRecords and totalPages 0, and reads nothing. A platform operator's
// token (no organisation) sees every organisation's requests, filtered as asked.
func (s *ProfileService) ViewResetRequests(ctx context.Context, req ViewResetRequestsRequest) (_ ViewResetRequestsResult, err error) {
	ctx, end := s.start(ctx, "ViewResetRequests")
	defer func() { end(err) }()
	op, err := s.authorizeOperator(ctx, req.Token, s.cfg.OperatorPermission)
	if err != nil {
		return ViewResetRequestsResult{}, err
	}
	var v verifykit.Validation
	if req.PageNumber < 0 {
		v.Add("$.pageNumber", "range", "must be 0 or more")
	}
	if req.PageSize < 1 || req.PageSize > s.cfg.MaxPageSize {
		v.Add("$.pageSize", "range", fmt.Sprintf("must be from 1 to %d", s.cfg.MaxPageSize))
	}
	switch req.Filter.Status {
	case "", ports.ResetRequestPending, ports.ResetRequestApproved, ports.ResetRequestDeclined:
	default:
		v.Add("$.filter.status", "inclusion", "must be one of PENDING, APPROVED, DECLINED")
	}
	q := ports.ResetRequestQuery{Status: req.Filter.Status, OrganizationID: req.Filter.OrganizationID, Limit: req.PageSize}
	for _, key := range []struct {
		entry, dir string
		field      ports.ResetRequestSortField
	}{
		{"$.sort.organizationId", req.Sort.OrganizationID, ports.SortResetByOrganization},
		{"$.sort.status", req.Sort.Status, ports.SortResetByStatus},
		{"$.sort.createdAt", req.Sort.CreatedAt, ports.SortResetByCreatedAt},
		{"$.sort.userId", req.Sort.UserID, ports.SortResetByUserID},
	} {
		switch strings.ToLower(key.dir) {
		case "":
		case "asc":
			q.Order = append(q.Order, ports.ResetRequestOrder{Field: key.field})
		case "desc":
			q.Order = append(q.Order, ports.ResetRequestOrder{Field: key.field, Descending: true})
		default:
			v.Add(key.entry, "inclusion", "must be asc or desc")
		}
	}
	if err := v.Err(); err != nil {
		return ViewResetRequestsResult{}, err
	}
	q.Offset = math.MaxInt
	if req.PageNumber <= math.MaxInt/req.PageSize {
		q.Offset = req.PageNumber * req.PageSize
	}
	var (
		records []ports.ResetRequest
		total   int
	)
	switch {
	case op.org != "" && q.OrganizationID == "":
		q.OrganizationID = op.org
		fallthrough
	case op.sees(q.OrganizationID):
		records, total, err = s.requests.List(ctx, q)
		if err != nil {
			return ViewResetRequestsResult{}, resetRequestError(err)
		}
	}
	// Otherwise the filter names another organisation: nothing this token may see matches.
	return ViewResetRequestsResult{
		Status:       StatusOK,
		PageNumber:   req.PageNumber,
		PageSize:     req.PageSize,
		TotalRecords: total,
		TotalPages:   (total + req.PageSize - 1) / req.PageSize,
		Records:      append([]ports.ResetRequest{}, records...),
	}, nil
}

// DecideResetRequest names a reset request to approve or decline
// (POST /profiles/{userId}/reset-identification-requests/{reqId}/approve|decline).
type DecideResetRequest struct {
	// Token is the operator's access token; it needs ProfileConfig.OperatorPermission.
	Token string
	// UserID is the user the request belongs to. Required.
	UserID string
	// RequestID is the request. Required.
	RequestID string
}

// ApproveResetRequest marks a PENDING reset request APPROVED. Approving records the
// operator's decision; the reset itself, with the fields to update, is
// ResetIdentification. Checks, in order: token (KindUnauthorized); OperatorPermission
// (KindForbidden); ids (KindInvalidInput); the request exists, belongs to UserID and, for
// a token of an organisation, names that organisation (ResetRequest.OrganizationID;
// KindNotFound MsgResetRequestNotFound in every case, so another organisation's request,
// decided or not, is answered like an unknown id); it is PENDING (KindConflict
// MsgResetRequestNotPending). Both are checked again under the lock of the user's
// profile, so of two concurrent decisions exactly one wins and a decision never acts on a
// request the token does not see. The decision and its audit event are stored in one
// update of the user's profile.
func (s *ProfileService) ApproveResetRequest(ctx context.Context, req DecideResetRequest) (_ ResetRequestResult, err error) {
	ctx, end := s.start(ctx, "ApproveResetRequest")
	defer func() { end(err) }()
	return s.decideResetRequest(ctx, req, ports.ResetRequestApproved, ports.AuditResetRequestApproved)
}

// DeclineResetRequest marks a PENDING reset request DECLINED, with the checks of
// ApproveResetRequest. The user may then ask again.
func (s *ProfileService) DeclineResetRequest(ctx context.Context, req DecideResetRequest) (_ ResetRequestResult, err error) {
	ctx, end := s.start(ctx, "DeclineResetRequest")
	defer func() { end(err) }()
	return s.decideResetRequest(ctx, req, ports.ResetRequestDeclined, ports.AuditResetRequestDeclined)
}

func (s *ProfileService) decideResetRequest(ctx context.Context, req DecideResetRequest, to ports.ResetRequestStatus, action ports.ProfileAuditAction) (ResetRequestResult, error) {
	op, err := s.authorizeOperator(ctx, req.Token, s.cfg.OperatorPermission)
	if err != nil {
		return ResetRequestResult{}, err
	}
	var v verifykit.Validation
	profileRequirePath(&v, "userId", req.UserID)
	profileRequirePath(&v, "reqId", req.RequestID)
	if err := v.Err(); err != nil {
		return ResetRequestResult{}, err
	}
	// The request names its user, whose profile holds it while it is open: read it first,
	// then decide it under the lock of that profile.
	found, err := s.requests.Get(ctx, req.RequestID)
	if err != nil {
		return ResetRequestResult{}, resetRequestError(err)
	}
	errNotFound := verifykit.Wrap(verifykit.KindNotFound, MsgResetRequestNotFound, ports.ErrResetRequestNotFound)
	if found.UserID != req.UserID || !op.sees(found.OrganizationID) {
		return ResetRequestResult{}, errNotFound // another user's, or another organisation's
	}
	errNotPending := verifykit.New(verifykit.KindConflict, MsgResetRequestNotPending)
	if found.Status != ports.ResetRequestPending {
		return ResetRequestResult{}, errNotPending // decided requests stay decided
	}
	now := s.clock.Now()
	var rr ports.ResetRequest
	_, err = s.profiles.Update(ctx, found.UserID, func(r *ports.ProfileRecord) error {
		open := r.OpenResetRequest
		if open == nil || open.ID != found.ID {
			return errNotPending // decided since it was read
		}
		if !op.sees(open.OrganizationID) {
			return errNotFound // the request as it is now, under the lock
		}
		open.Status, open.DecidedBy, open.DecidedAt = to, op.subject, now
		rr = *open
		emitAudit(r, ports.ProfileAuditEvent{
			Action: action, ActorID: op.subject, UserID: found.UserID, RequestID: found.ID,
		}, now)
		return nil
	})
	if errors.Is(err, ports.ErrProfileNotFound) || errors.Is(err, ports.ErrResetRequestNotFound) {
		// A request outlives no profile in verifykit; one whose profile a host removed
		// cannot be decided, and is answered like an unknown one, as is a request found,
		// under the lock, to be another organisation's.
		return ResetRequestResult{}, errNotFound
	}
	if err != nil {
		return ResetRequestResult{}, profileStoreError(err)
	}
	s.log.InfoContext(ctx, "identification: reset request decided", logid.Attr("user_id", rr.UserID), logid.Attr("reset_request_id", rr.ID), "status", to)
	return ResetRequestResult{Request: rr, Status: StatusOK}, nil
}

// ResetIdentificationRequest is the seed's request: POST /profiles/{id}/reset with body
// {"fields": [...]}.
type ResetIdentificationRequest struct {
	// Token is the operator's access token; it needs ProfileConfig.OperatorPermission
	// (RESET_IDENTIFICATION_INITIATOR).
	Token string
	// UserID is the user whose identification is reset (the path's id). Required.
	UserID string
	// Fields are the profile field paths the user must update, at least one; each a path of
	// ResettableFields, given once.
	Fields []string
}

// ResetIdentificationResult is the seed's answer, the profile and "status":"ok", with the
// mandatory fields the reset has just set.
type ResetIdentificationResult struct {
	Profile Profile
	// Status is StatusOK.
	Status string
	// MandatoryFields are the field paths the user must now update before submitting
	// again: the request's Fields, in the order given. This SDK's addition to the seed's
	// answer, so the operator sees what was set without reading the profile again.
	MandatoryFields []string
	// Message is the seed's optional message; empty, and then left out of the JSON.
	Message string
}

// ResetIdentification resets a user's identification and records the fields the user must
// update before submitting again. Checks, in order, each stopping at the first failure:
// token (KindUnauthorized); OperatorPermission (KindForbidden); input (KindInvalidInput
// "Validation failed.", every problem at once: the user id, "$.fields" with no field, and
// each "$.fields[i]" that is empty, unknown or repeated); profile exists and, for a token
// of an organisation, belongs to that organisation (KindNotFound MsgProfileNotFound
// either way, checked under the profile's lock); it is not closed (KindConflict
// MsgProfileClosed). Nothing is changed when any check fails.
//
// Effect, on a profile in any status but closed (a reset is not a move of the status table;
// it is the only way back to none): the identification status becomes none, every document
// becomes outdated, Fields become the mandatory fields (all of them still to update), the
// reset's time and operator are kept on the profile; the user's PENDING reset request, if
// any, is marked APPROVED by this operator; and an audit event records who, when and which
// fields. Repeating a reset with the same fields gives the same profile.
//
// All of it is one update of the user's profile aggregate: the reset profile, the approved
// request and the audit event are stored together or not at all, so a failure (a lost
// connection, a crash) never leaves a reset profile with its request still PENDING or with
// no event, nor an APPROVED request next to a profile that was never reset.
func (s *ProfileService) ResetIdentification(ctx context.Context, req ResetIdentificationRequest) (_ ResetIdentificationResult, err error) {
	ctx, end := s.start(ctx, "ResetIdentification")
	defer func() { end(err) }()
	op, err := s.authorizeOperator(ctx, req.Token, s.cfg.OperatorPermission)
	if err != nil {
		return ResetIdentificationResult{}, err
	}
	var v verifykit.Validation
	profileRequirePath(&v, "id", req.UserID)
	if len(req.Fields) == 0 {
		v.Add("$.fields", "required", "at least one field is required")
	}
	seen := make(map[string]bool, len(req.Fields))
	for i, f := range req.Fields {
		s.checkPath(&v, fmt.Sprintf("$.fields[%d]", i), f, seen)
	}
	if err := v.Err(); err != nil {
		return ResetIdentificationResult{}, err
	}

	now := s.clock.Now()
	var from ports.IdentificationStatus
	rec, err := s.profiles.Update(ctx, req.UserID, func(r *ports.ProfileRecord) error {
		if !op.sees(r.OrganizationID) {
			return ports.ErrProfileNotFound // another organisation's profile: as if it did not exist
		}
		from = r.Profile.Status
		requestID := ""
		if from == ports.IdentificationClosed {
			return verifykit.New(verifykit.KindConflict, MsgProfileClosed)
		}
		r.Profile.Status = ports.IdentificationNone
		for i := range r.Documents {
			if d := &r.Documents[i]; d.Status != ports.DocumentOutdated {
				d.Status, d.UpdatedAt = ports.DocumentOutdated, now
			}
		}
		r.MandatoryFields = slices.Clone(req.Fields)
		r.PendingFields = slices.Clone(req.Fields)
		r.ResetAt, r.ResetBy, r.UpdatedAt = now, op.subject, now
		if open := r.OpenResetRequest; open != nil {
			open.Status, open.DecidedBy, open.DecidedAt = ports.ResetRequestApproved, op.subject, now
			requestID = open.ID
		}
		emitAudit(r, ports.ProfileAuditEvent{
			Action: ports.AuditIdentificationReset, ActorID: op.subject, UserID: req.UserID, RequestID: requestID,
			Fields: slices.Clone(req.Fields), From: from, To: ports.IdentificationNone,
		}, now)
		return nil
	})
	if err != nil {
		return ResetIdentificationResult{}, profileStoreError(err)
	}
	s.log.InfoContext(ctx, "identification: reset", logid.Attr("user_id", req.UserID), "from", from, "fields", len(req.Fields))
	return ResetIdentificationResult{
		Profile: profileOut(rec.Profile), Status: StatusOK,
		MandatoryFields: append([]string{}, rec.MandatoryFields...),
	}, nil
}
