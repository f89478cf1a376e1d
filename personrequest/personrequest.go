// Package personrequest implements person requests as the Ukrainian eHealth system runs
// them: a request creates or updates a person's record, the person confirms it with a
// one-time code sent by SMS (to their own phone, or to a third person's), and the request is
// then approved and signed — or rejected, cancelled, or left to expire.
//
// The rules are those of RULES.md §A. The statuses are NEW, APPROVED, SIGNED, REJECTED,
// CANCELLED and EXPIRED; approve moves NEW to APPROVED, sign APPROVED to SIGNED, reject and
// cancel NEW or APPROVED to REJECTED or CANCELLED, and the expiry sweep NEW or APPROVED
// requests older than the configured lifetime to EXPIRED, wiping their personal data. Any
// other transition answers KindConflict "incorrect status".
//
// Codes follow the otp engine's rules, with the purpose Config.Purpose and the request's id
// as subject, and live inside the request (ports.PersonRequest.Verification): a new code
// supersedes the older one in the write that stores it, only the latest code is checked,
// and it is used at most once. Upload URLs for the request's documents are stored with the
// request too. So every use case is one atomic write of the request: the code, the upload
// URLs, the current method and the status never disagree, whatever fails when. SMS go out
// after that write commits. Service.UploadURLValid tells whether a URL is still current.
package personrequest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/internal/depcheck"
	"github.com/verifykit/verifykit/internal/logid"
	"github.com/verifykit/verifykit/internal/storefail"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// Scopes the use cases require.
const (
	// ScopeWrite is required by every use case that changes a request.
	ScopeWrite = "person_request:write"
	// ScopeRead is required by Get.
	ScopeRead = "person_request:read"
)

// Messages of the errors the use cases return.
const (
	// MsgIncorrectStatus answers a transition the request's status does not allow
	// (KindConflict).
	MsgIncorrectStatus = "incorrect status"
	// MsgNotOTP answers a resend to a method that cannot receive a code (KindInvalidInput).
	MsgNotOTP = "Auth method is not OTP"
	// MsgNotFound answers a request that does not exist or has expired (KindNotFound).
	MsgNotFound = "Person request not found"
	// MsgResendInProgress answers a resend that lost the race against other resends of
	// the same request several times in a row (KindConflict); no lock is held, so trying
	// again works.
	MsgResendInProgress = "A resend of this person request is in progress; try again shortly"
)

// Status is a request's status; see the constants Status*.
type Status = ports.PersonRequestStatus

// The statuses of a request.
const (
	StatusNew       = ports.PersonRequestNew
	StatusApproved  = ports.PersonRequestApproved
	StatusSigned    = ports.PersonRequestSigned
	StatusRejected  = ports.PersonRequestRejected
	StatusCancelled = ports.PersonRequestCancelled
	StatusExpired   = ports.PersonRequestExpired
)

// AuthType is the type of an authentication method; see the constants Auth*.
type AuthType = ports.AuthMethodType

// The types of authentication method.
const (
	AuthOTP         = ports.AuthMethodOTP
	AuthOffline     = ports.AuthMethodOffline
	AuthThirdPerson = ports.AuthMethodThirdPerson
	AuthNA          = ports.AuthMethodNA
)

// Person is the personal data of the person, or of the third person.
type Person = ports.PersonRequestPerson

// AuthMethod is one authentication method of a person.
type AuthMethod = ports.PersonRequestAuthMethod

// Document is one identity document of a person.
type Document = ports.PersonDocument

// Request is a person request as the use cases return it.
type Request struct {
	// ID identifies the request.
	ID string
	// Status is the request's status.
	Status Status
	// Person is the person whose record the request creates or updates.
	Person Person
	// ThirdPerson is the person who confirms through a THIRD_PERSON method; zero when none.
	ThirdPerson Person
	// CurrentAuthMethod is the method the latest code went through (the primary at first).
	CurrentAuthMethod AuthMethod
	// CreatedAt is when the request was created.
	CreatedAt time.Time
	// UpdatedAt is when the request last changed.
	UpdatedAt time.Time
	// ExpiresAt is when an open request expires: once it is past, the request is expired.
	ExpiresAt time.Time
	// Urgent is what the person must act on now.
	Urgent Urgent
}

// Urgent is the `urgent` block of eHealth responses.
type Urgent struct {
	// AuthenticationMethodCurrent is the current method, its phone masked.
	AuthenticationMethodCurrent UrgentAuthMethod
	// AuthenticationMethods are all of the person's methods with their aliases, phones
	// masked; a resend names one by Alias.
	AuthenticationMethods []UrgentAuthMethod
	// Documents are the current upload URLs, one per document.
	Documents []UrgentDocument
}

// UrgentAuthMethod is an authentication method as the urgent block shows it.
type UrgentAuthMethod struct {
	// Type is the method's type.
	Type AuthType
	// Alias is the method's alias.
	Alias string
	// PhoneNumber is the masked phone the codes go to, e.g. "+38093*****85": the method's
	// own for OTP, the third person's for THIRD_PERSON; empty when codes cannot be sent.
	PhoneNumber string
	// Primary marks the primary method.
	Primary bool
}

// UrgentDocument is the upload URL of one document.
type UrgentDocument struct {
	// Type is the owner-qualified document type: "person.PASSPORT" or
	// "third_person.PASSPORT".
	Type string
	// URL is where to upload the document.
	URL string
}

// Config sets the rules of the Service. Start from DefaultConfig: NewService checks every
// field, and a zero value is an error, not a default.
type Config struct {
	// Purpose is the otp purpose of the codes. Default "person_request".
	Purpose string
	// LifetimeDays is how long an open request lives: a NEW or APPROVED request strictly
	// older than LifetimeDays×24h is expired. Default 30.
	LifetimeDays int
	// CodeTTL is how long a code is valid. Default 15 minutes (eHealth).
	CodeTTL time.Duration
	// CodeMaxAttempts is the number of wrong attempts that kills a code. Default 3
	// (eHealth).
	CodeMaxAttempts int
	// CodeDigits is the length of a code, otp.MinDigits to otp.MaxDigits. Default 6.
	CodeDigits int
	// UploadURLTTL is how long an upload URL is valid. Default 24 hours.
	UploadURLTTL time.Duration
}

// DefaultConfig returns the eHealth defaults.
func DefaultConfig() Config {
	return Config{
		Purpose:         "person_request",
		LifetimeDays:    30,
		CodeTTL:         15 * time.Minute,
		CodeMaxAttempts: 3,
		CodeDigits:      6,
		UploadURLTTL:    24 * time.Hour,
	}
}

// Validate reports every problem of the config at once as a KindInvalidInput error.
func (c Config) Validate() error {
	var v verifykit.Validation
	bad := func(field, rule, desc string) {
		v.AddEntry(verifykit.InvalidEntry{Entry: field, EntryType: verifykit.EntryConfig, Rule: rule, Description: desc})
	}
	if c.Purpose == "" {
		bad("Purpose", "required", "is required")
	}
	if c.LifetimeDays < 1 {
		bad("LifetimeDays", "positive", "must be at least 1")
	}
	if c.CodeTTL <= 0 {
		bad("CodeTTL", "positive", "must be positive")
	}
	if c.CodeMaxAttempts < 1 {
		bad("CodeMaxAttempts", "positive", "must be at least 1")
	}
	if c.CodeDigits < otp.MinDigits || c.CodeDigits > otp.MaxDigits {
		bad("CodeDigits", "range", fmt.Sprintf("must be from %d to %d", otp.MinDigits, otp.MaxDigits))
	}
	if c.UploadURLTTL <= 0 {
		bad("UploadURLTTL", "positive", "must be positive")
	}
	return v.Err()
}

// Deps are what the Service needs from the outside.
type Deps struct {
	// Store keeps the requests. Required.
	Store ports.PersonRequestStore
	// OTP issues and verifies the codes; its send limits limit resends. Required.
	OTP *otp.Service
	// Tokens verifies access tokens. Required.
	Tokens ports.TokenVerifier
	// Uploads signs upload URLs. Required.
	Uploads ports.UploadSigner
	// Clock tells the time. Default: the system clock.
	Clock ports.Clock
	// Logger receives structured events (never codes, tokens, full phones or document
	// numbers). Default: discard.
	Logger *slog.Logger
	// Observer is told of every use case and every call to the ports above
	// (adapters/otel: traces and metrics). Default: none (ports.NopObserver).
	Observer ports.Observer
}

// Service runs the person-request use cases. It is safe for concurrent use.
type Service struct {
	store    ports.PersonRequestStore
	otp      *otp.Service
	tokens   ports.TokenVerifier
	uploads  ports.UploadSigner
	clock    ports.Clock
	log      *slog.Logger
	cfg      Config
	lifetime time.Duration
	obs      ports.Observer
}

// NewService checks deps and cfg and returns a Service.
func NewService(deps Deps, cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var missing depcheck.Check
	missing.Require("Store", deps.Store == nil)
	missing.Require("OTP", deps.OTP == nil)
	missing.Require("Tokens", deps.Tokens == nil)
	missing.Require("Uploads", deps.Uploads == nil)
	if err := missing.Err(); err != nil {
		return nil, err
	}
	deps.Clock, deps.Logger = depcheck.ClockOr(deps.Clock), depcheck.LoggerOr(deps.Logger)
	deps = deps.observed()
	return &Service{
		store: deps.Store, otp: deps.OTP, tokens: deps.Tokens, uploads: deps.Uploads,
		clock: deps.Clock, log: deps.Logger, cfg: cfg, obs: deps.Observer,
		lifetime: time.Duration(cfg.LifetimeDays) * 24 * time.Hour,
	}, nil
}

// Config returns the service's configuration.
func (s *Service) Config() Config { return s.cfg }

// begin runs the checks every use case on one request starts with, in this order: the
// token and scope (KindUnauthorized, KindForbidden), the request exists and has not
// expired (KindNotFound), and, when from is not empty, its status is one of from
// (KindConflict "incorrect status").
func (s *Service) begin(ctx context.Context, token, scope, id string, from ...Status) (ports.PersonRequest, error) {
	r, _, err := s.beginAs(ctx, token, scope, id, from...)
	return r, err
}

// open reports whether a request in status st can still change (and expire).
func open(st Status) bool { return st == StatusNew || st == StatusApproved }

// lapsed reports whether r is expired at now: swept already, or open and strictly older
// than the lifetime. A lapsed request is not found.
func (s *Service) lapsed(r ports.PersonRequest, now time.Time) bool {
	return r.Status == StatusExpired || (open(r.Status) && r.CreatedAt.Before(now.Add(-s.lifetime)))
}

func notFound() error { return verifykit.New(verifykit.KindNotFound, MsgNotFound) }

func incorrectStatus() error { return verifykit.New(verifykit.KindConflict, MsgIncorrectStatus) }

func storeErr(err error) error {
	if errors.Is(err, ports.ErrPersonRequestNotFound) {
		return notFound()
	}
	return storefail.Wrap("Person requests are unavailable; try again later.", err)
}

// load returns the request id, or KindNotFound when it does not exist or has lapsed.
func (s *Service) load(ctx context.Context, id string) (ports.PersonRequest, error) {
	if id == "" {
		return ports.PersonRequest{}, notFound()
	}
	r, err := s.store.Get(ctx, id)
	if err != nil {
		return ports.PersonRequest{}, storeErr(err)
	}
	if s.lapsed(r, s.clock.Now()) {
		return ports.PersonRequest{}, notFound()
	}
	return r, nil
}

// update changes the request id atomically with fn, after checking, under the lock, that
// it has not lapsed (KindNotFound) and that its status is one of from (KindConflict).
func (s *Service) update(ctx context.Context, id string, from []Status, fn func(r *ports.PersonRequest, now time.Time) error) (ports.PersonRequest, error) {
	now := s.clock.Now()
	r, err := s.store.Update(ctx, id, func(r *ports.PersonRequest) error {
		if s.lapsed(*r, now) {
			return notFound()
		}
		if !statusIn(r.Status, from) {
			return incorrectStatus()
		}
		if err := fn(r, now); err != nil {
			return err
		}
		r.UpdatedAt = now
		return nil
	})
	if err != nil {
		return ports.PersonRequest{}, storeErr(err)
	}
	return r, nil
}

func statusIn(st Status, from []Status) bool {
	for _, f := range from {
		if st == f {
			return true
		}
	}
	return false
}

// codePhone returns the phone a code for the method at index i of r's person goes to: the
// method's own for OTP, the third person's primary OTP method's for THIRD_PERSON. ok is
// false when the method cannot receive a code.
func codePhone(r ports.PersonRequest, i int) (phone string, ok bool) {
	if i < 0 || i >= len(r.Person.AuthMethods) {
		return "", false
	}
	m := r.Person.AuthMethods[i]
	switch m.Type {
	case AuthOTP:
		return m.Phone, m.Phone != ""
	case AuthThirdPerson:
		for _, tm := range r.ThirdPerson.AuthMethods {
			if tm.Primary && tm.Type == AuthOTP && tm.Phone != "" {
				return tm.Phone, true
			}
		}
	}
	return "", false
}

// needsCode reports whether approving r needs a code: its current method receives codes.
// A current method that names no method fails closed: a code is needed.
func needsCode(r ports.PersonRequest) bool {
	if r.CurrentAuthMethod < 0 || r.CurrentAuthMethod >= len(r.Person.AuthMethods) {
		return true
	}
	_, ok := codePhone(r, r.CurrentAuthMethod)
	return ok
}

// view renders a stored request for callers, with its urgent block.
func (s *Service) view(r ports.PersonRequest) Request {
	r = r.Clone()
	out := Request{
		ID: r.ID, Status: r.Status, Person: r.Person, ThirdPerson: r.ThirdPerson,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, ExpiresAt: r.CreatedAt.Add(s.lifetime),
	}
	for i, m := range r.Person.AuthMethods {
		um := UrgentAuthMethod{Type: m.Type, Alias: m.Alias, Primary: m.Primary}
		if phone, ok := codePhone(r, i); ok {
			um.PhoneNumber = ports.MaskPhone(phone)
		}
		out.Urgent.AuthenticationMethods = append(out.Urgent.AuthenticationMethods, um)
		if i == r.CurrentAuthMethod {
			out.CurrentAuthMethod = m
			out.Urgent.AuthenticationMethodCurrent = um
		}
	}
	for _, u := range r.Uploads {
		out.Urgent.Documents = append(out.Urgent.Documents, UrgentDocument{Type: u.DocumentType, URL: u.URL})
	}
	return out
}

// Document owners in upload document types.
const (
	ownerPerson      = "person."
	ownerThirdPerson = "third_person."
)

// signUploads signs a URL for every document of the person and of the third person, as
// generation version. It writes nothing.
func (s *Service) signUploads(ctx context.Context, r ports.PersonRequest, version int, now time.Time) ([]ports.PersonRequestUpload, error) {
	expires := now.Add(s.cfg.UploadURLTTL)
	var out []ports.PersonRequestUpload
	for _, group := range []struct {
		owner string
		docs  []Document
	}{{ownerPerson, r.Person.Documents}, {ownerThirdPerson, r.ThirdPerson.Documents}} {
		for _, d := range group.docs {
			target := ports.UploadTarget{Resource: "person_request/" + r.ID, DocumentType: group.owner + d.Type, Version: version}
			u, err := s.uploads.SignUploadURL(ctx, target, expires)
			if err != nil {
				return nil, verifykit.Unavailable("Upload URLs are unavailable; try again later.", err)
			}
			out = append(out, ports.PersonRequestUpload{DocumentType: target.DocumentType, URL: u, ExpiresAt: expires})
		}
	}
	return out, nil
}

// drawCode reserves a send to phone and draws a code for request id (KindRateLimited when
// the send limits are used up; nothing is then recorded). Put it into the request's
// Verification in the Update that stores the request, and Send it after that committed.
func (s *Service) drawCode(ctx context.Context, id, phone string) (*otp.Draft, error) {
	return s.otp.Draw(ctx, otp.IssueRequest{
		Purpose: s.cfg.Purpose, Subject: id, Recipient: phone,
		TTL: s.cfg.CodeTTL, MaxAttempts: s.cfg.CodeMaxAttempts, Digits: s.cfg.CodeDigits,
	})
}

// sendCode delivers d, stored in request id with the current method it was sent through,
// after the write that stored it committed. When delivery fails for good the code is
// marked undeliverable (an older code stays dead), the current method goes back to
// previous (the method is saved only with a code that went out), and the engine's
// KindUnavailable is returned. Neither happens when a newer code has replaced d
// meanwhile.
func (s *Service) sendCode(ctx context.Context, id string, d *otp.Draft, previous int) error {
	err := s.otp.Send(ctx, d)
	if err == nil {
		return nil
	}
	_, markErr := s.store.Update(context.WithoutCancel(ctx), id, func(r *ports.PersonRequest) error {
		if !otp.MarkUndeliverable(&r.Verification, d.ID()) {
			return errUnchanged
		}
		r.CurrentAuthMethod = previous
		s.emitUndeliverable(r, d.ID(), s.clock.Now())
		return nil
	})
	if markErr != nil && !errors.Is(markErr, errUnchanged) {
		// The code stays active though nobody got it: it can confirm nothing unless
		// someone reads it, and the next resend supersedes it.
		s.log.LogAttrs(ctx, slog.LevelWarn, "person request undeliverable code not marked",
			logid.Attr("person_request_id", id), slog.String("error", markErr.Error()))
	}
	return err
}

// errUnchanged makes a store Update write nothing: the step had nothing to change.
var errUnchanged = errors.New("person request unchanged")
