package personrequest

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/internal/logid"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// GetRequest asks for one request.
type GetRequest struct {
	// Token is the caller's access token; it needs ScopeRead.
	Token string
	// ID names the request.
	ID string
}

// Get returns the request with its urgent block. An expired request, swept or not, is not
// found (KindNotFound).
func (s *Service) Get(ctx context.Context, req GetRequest) (_ Request, err error) {
	ctx, end := s.start(ctx, "Get")
	defer func() { end(err) }()
	r, err := s.begin(ctx, req.Token, ScopeRead, req.ID)
	if err != nil {
		return Request{}, err
	}
	return s.view(r), nil
}

// ApproveRequest asks to approve a request.
type ApproveRequest struct {
	// Token is the caller's access token; it needs ScopeWrite.
	Token string
	// ID names the request.
	ID string
	// Code is the verification code the person received. Required when the current
	// method is OTP, or THIRD_PERSON with an OTP third person; ignored otherwise.
	Code string
}

// Approve moves a NEW request to APPROVED. When the current method receives codes, the
// code must be the latest one issued for the request: it is consumed, at most once even
// under concurrent approvals. Failures: KindUnauthorized/KindForbidden (token,
// ScopeWrite), KindNotFound, KindConflict "incorrect status", KindInvalidInput
// "$.verification_code" when the code is missing or malformed (surrounding white space is
// trimmed first; a malformed code counts no attempt), KindInvalidInput "Invalid
// verification code" (wrong, superseded or undeliverable code), "Verification code
// expired", "Maximum attempts exceed", "Verification code already used", KindRateLimited
// (otp.ErrTooManyFailures, with RetryAfter) when the request used up its failure budget,
// or the phone its code went to used up its own (otp.Config.RecipientFailureLimit, across
// every request and code aimed at that phone: the answer of otp.Service.Verify; such a
// check changes nothing). OFFLINE and NA requests approve without a code.
//
// The code check and the status change are one atomic Update of the request: the code is
// consumed exactly when APPROVED is stored, and a wrong attempt is counted in the same
// write. The phone's failure budget is decided before that write (otp.CheckGuard), so no
// number of concurrent wrong codes across the requests aimed at one phone passes it. Approve is idempotent: repeated with the code that approved the request (its
// first answer lost, say), it answers the approved request again and changes nothing;
// any other code gets the answers above for the request's current status.
//
// Each code is bound to the request's id and version (approvalBinding): a code sent before
// the request's UploadVersion moved on is a wrong code here, and its attempt counts.
func (s *Service) Approve(ctx context.Context, req ApproveRequest) (_ Request, err error) {
	ctx, end := s.start(ctx, "Approve")
	defer func() { end(err) }()
	actor, err := s.authorizeAs(ctx, req.Token, ScopeWrite)
	if err != nil {
		return Request{}, err
	}
	if req.ID == "" {
		return Request{}, notFound()
	}
	now := s.clock.Now()
	var (
		refused   error // the answer to a failed check, whose attempt is stored
		completed ports.PersonRequest
		withCode  bool
		checkRes  otp.VerifyResult // what the check answered, for the abuse controls
		checkErr  error
		r         ports.PersonRequest
	)
	// The recipient's failure budget is decided before the check is stored, and a check it
	// refuses changes nothing (otp.CheckGuard).
	guard := s.otp.GuardCheck(now)
	err = guard.Run(ctx, func() (err error) {
		r, err = s.store.Update(ctx, req.ID, func(r *ports.PersonRequest) error {
			if s.lapsed(*r, now) {
				return notFound()
			}
			if r.Status == StatusApproved && s.otp.CompletedBound(r.Verification, req.Code, approvalBinding(r.ID, r.UploadVersion)) {
				completed = r.Clone()
				return errCompleted
			}
			if r.Status != StatusNew {
				return incorrectStatus()
			}
			if needsCode(*r) {
				code, err := otp.ParseCode(req.Code)
				if err != nil {
					return verifykit.RenameEntry(err, "$.code", "$.verification_code")
				}
				res, err := s.otp.CheckBound(&r.Verification, code, approvalBinding(r.ID, r.UploadVersion), now)
				if err := guard.Admit(r.Verification, res); err != nil {
					return err
				}
				checkRes, checkErr = res, err
				if err != nil {
					s.emitCheck(r, res, err, actor, now)
					refused = verifykit.RenameEntry(err, "$.code", "$.verification_code")
					return nil // store what the attempt changed; the status stays NEW
				}
				withCode = true
			}
			r.Status = StatusApproved
			r.UpdatedAt = now
			s.emitApproved(r, withCode, actor, now)
			return nil
		})
		return err
	})
	if err == nil {
		guard.Done(ctx, r.Verification, checkRes, checkErr)
	}
	switch {
	case errors.Is(err, errCompleted):
		s.log.LogAttrs(ctx, slog.LevelInfo, "person request approval repeated", logid.Attr("person_request_id", req.ID))
		return s.view(completed), nil
	case err != nil:
		return Request{}, storeErr(err)
	case refused != nil:
		s.log.LogAttrs(ctx, slog.LevelInfo, "person request approval refused",
			logid.Attr("person_request_id", r.ID), slog.String("error", verifykit.KindOf(refused).String()))
		return Request{}, refused
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "person request approved",
		logid.Attr("person_request_id", r.ID), slog.Bool("with_code", withCode))
	return s.view(r), nil
}

// approvalBinding is what a request's code is bound to (otp.IssueRequest.Binding): the
// request's id and its version, UploadVersion. Every edit of an open request that changes
// what the person confirms (a resend: new upload URLs, a new current method) stores a
// higher UploadVersion, and approval does not change it, so a repeated approval still
// recognises its code (CompletedBound). A code therefore approves only the version of the
// request it was sent for: once the version moves on, the code no longer matches, and
// trying it counts as a wrong code. UpdatedAt was not chosen: approval itself changes it,
// and stores that keep microseconds (PostgreSQL) would not give back the nanoseconds bound.
// Nor was a count of every stored change (ports.PersonRequest.Version): a wrong attempt, a
// delivery receipt or the approval itself would move it, and kill the right code.
func approvalBinding(id string, version int) []byte {
	return []byte("person_request:" + id + ":v" + strconv.Itoa(version))
}

// errCompleted tells Approve that the request was approved with the code given: nothing
// is written, and the approved request is the answer.
var errCompleted = errors.New("person request already approved with this code")

// ActionRequest names a request to act on.
type ActionRequest struct {
	// Token is the caller's access token; it needs ScopeWrite.
	Token string
	// ID names the request.
	ID string
}

// Sign moves an APPROVED request to SIGNED (KindUnauthorized/KindForbidden, KindNotFound,
// KindConflict "incorrect status").
func (s *Service) Sign(ctx context.Context, req ActionRequest) (_ Request, err error) {
	ctx, end := s.start(ctx, "Sign")
	defer func() { end(err) }()
	return s.transition(ctx, req, []Status{StatusApproved}, StatusSigned)
}

// Reject moves a NEW or APPROVED request to REJECTED and kills its codes
// (KindUnauthorized/KindForbidden, KindNotFound, KindConflict "incorrect status").
func (s *Service) Reject(ctx context.Context, req ActionRequest) (_ Request, err error) {
	ctx, end := s.start(ctx, "Reject")
	defer func() { end(err) }()
	return s.transition(ctx, req, []Status{StatusNew, StatusApproved}, StatusRejected)
}

// Cancel moves a NEW or APPROVED request to CANCELLED and kills its codes
// (KindUnauthorized/KindForbidden, KindNotFound, KindConflict "incorrect status").
func (s *Service) Cancel(ctx context.Context, req ActionRequest) (_ Request, err error) {
	ctx, end := s.start(ctx, "Cancel")
	defer func() { end(err) }()
	return s.transition(ctx, req, []Status{StatusNew, StatusApproved}, StatusCancelled)
}

// transition moves the request from one of from to to, in one atomic Update that also
// kills its code when the request becomes final without being signed.
func (s *Service) transition(ctx context.Context, req ActionRequest, from []Status, to Status) (Request, error) {
	actor, err := s.authorizeAs(ctx, req.Token, ScopeWrite)
	if err != nil {
		return Request{}, err
	}
	if req.ID == "" {
		return Request{}, notFound()
	}
	r, err := s.update(ctx, req.ID, from, func(r *ports.PersonRequest, now time.Time) error {
		r.Status = to
		s.emit(r, statusEvent(to), actor, now)
		if to != StatusSigned {
			otp.Invalidate(&r.Verification)
		}
		return nil
	})
	if err != nil {
		return Request{}, err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "person request status changed",
		logid.Attr("person_request_id", r.ID), slog.String("status", string(to)))
	return s.view(r), nil
}

// ExpireSweepRequest asks to expire lapsed requests.
type ExpireSweepRequest struct {
	// Batch is the most requests one sweep expires; at least 1.
	Batch int
}

// ExpireSweepResult says what a sweep did.
type ExpireSweepResult struct {
	// Expired is how many requests the sweep moved to EXPIRED.
	Expired int
}

// ExpireSweep moves up to Batch NEW or APPROVED requests strictly older than the lifetime
// (Config.LifetimeDays) to EXPIRED, wipes their personal data (person, third person,
// upload URLs) as eHealth does, and their codes, in one write per request. It is a background job: it takes no
// token. Hosts call it periodically, again while Expired == Batch. Requests past their
// lifetime are not found even before a sweep reaches them.
func (s *Service) ExpireSweep(ctx context.Context, req ExpireSweepRequest) (_ ExpireSweepResult, err error) {
	ctx, end := s.start(ctx, "ExpireSweep")
	defer func() { end(err) }()
	if req.Batch < 1 {
		return ExpireSweepResult{}, invalid("$.batch", "positive", "must be at least 1")
	}
	now := s.clock.Now()
	ids, err := s.store.ListCreatedBefore(ctx, []Status{StatusNew, StatusApproved}, now.Add(-s.lifetime), req.Batch)
	if err != nil {
		return ExpireSweepResult{}, storeErr(err)
	}
	var res ExpireSweepResult
	for _, id := range ids {
		_, err := s.store.Update(ctx, id, func(r *ports.PersonRequest) error {
			if !open(r.Status) || !r.CreatedAt.Before(now.Add(-s.lifetime)) {
				return errSkip
			}
			// The code goes with the personal data, in the same write.
			*r = ports.PersonRequest{ID: r.ID, Status: StatusExpired, UploadVersion: r.UploadVersion, CreatedAt: r.CreatedAt, UpdatedAt: now}
			s.emit(r, EventExpired, "", now)
			return nil
		})
		switch {
		case err == nil:
			res.Expired++
		case errors.Is(err, errSkip), errors.Is(err, ports.ErrPersonRequestNotFound):
		default:
			return res, storeErr(err)
		}
	}
	if res.Expired > 0 {
		s.log.LogAttrs(ctx, slog.LevelInfo, "person requests expired", slog.Int("count", res.Expired))
	}
	return res, nil
}

// errSkip tells the sweep that a request changed since it was listed.
var errSkip = errors.New("person request no longer expirable")

// UploadURLValid reports whether url is a current upload URL of the request id: the
// request is NEW (and not expired), the URL belongs to its latest generation, and it has
// not expired. URLs issued before the latest resend are not valid. It takes no token: an
// upload endpoint or a storage callback asks it before accepting a document.
func (s *Service) UploadURLValid(ctx context.Context, id, url string) (_ bool, err error) {
	ctx, end := s.start(ctx, "UploadURLValid")
	defer func() { end(err) }()
	if id == "" || url == "" {
		return false, nil
	}
	r, err := s.store.Get(ctx, id)
	if errors.Is(err, ports.ErrPersonRequestNotFound) {
		return false, nil
	}
	if err != nil {
		return false, storeErr(err)
	}
	now := s.clock.Now()
	if s.lapsed(r, now) || r.Status != StatusNew {
		return false, nil
	}
	for _, u := range r.Uploads {
		if u.URL == url {
			return now.Before(u.ExpiresAt), nil
		}
	}
	return false, nil
}
