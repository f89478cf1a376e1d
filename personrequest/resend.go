package personrequest

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/internal/logid"
	"github.com/verifykit/verifykit/ports"
)

// ResendRequest asks to send a new code for a request, through one of the person's
// methods (eHealth "resend auth method", also known as "resend OTP").
type ResendRequest struct {
	// Token is the caller's access token; it needs ScopeWrite.
	Token string
	// ID names the request.
	ID string
	// Alias, when not empty, chooses the method with this alias.
	Alias string
	// Type, when not empty, chooses a method of this type (with Alias: must be the type
	// of the method Alias names). With neither, the primary method is chosen.
	Type AuthType
}

// ResendAuthMethod runs the six steps of RULES.md §A, in this order, each stopping at its
// first failure:
//
//  1. the token is valid and not expired, else KindUnauthorized "Invalid access token";
//     it carries ScopeWrite, else KindForbidden "Your scope does not allow to access this
//     resource. Missing allowances: person_request:write";
//  2. the request exists (and has not expired), else KindNotFound; its status is NEW, else
//     KindConflict "incorrect status";
//  3. the chosen method (by Alias and/or Type, else the primary) exists, else
//     KindInvalidInput naming "$.alias" or "$.type"; it is OTP, or THIRD_PERSON whose
//     third person's primary method is OTP, else KindInvalidInput "Auth method is not
//     OTP";
//  4. new upload URLs are issued for every document of the person and of the third person,
//     and replace the older ones, which stop being valid (see UploadURLValid);
//  5. a new code is sent to the method's phone; every older code of the request stops
//     being valid at once, even when the SMS fails (KindUnavailable; the request stays
//     NEW). The otp engine's send limits apply: KindRateLimited with RetryAfter, and then
//     nothing changed;
//  6. the chosen method becomes the request's current method; the request is returned
//     with its urgent block.
//
// Writes: the send is recorded against the recipient's send limits first (given back if
// the next write fails); then steps 4 to 6 are one atomic Update of the request — the new
// URLs, the new code (the older one superseded) and the current method commit together or
// not at all, so the active code always went to the phone of the current method. Only
// after that commit does the SMS go out; a failed delivery marks the new code undeliverable
// and puts the previous current method back, and never brings an older code or URL back. Nothing is locked between calls: concurrent
// resends each commit whole, in some order, and the last one's code is the only one
// active. A resend that loses that race several times in a row answers KindConflict
// MsgResendInProgress, having changed nothing.
func (s *Service) ResendAuthMethod(ctx context.Context, req ResendRequest) (_ Request, err error) {
	ctx, end := s.start(ctx, "ResendAuthMethod")
	defer func() { end(err) }()
	// Steps 1 and 2.
	r, actor, err := s.beginAs(ctx, req.Token, ScopeWrite, req.ID, StatusNew)
	if err != nil {
		return Request{}, err
	}
	// Step 3.
	chosen, err := chooseMethod(r, req.Alias, req.Type)
	if err != nil {
		return Request{}, err
	}
	phone, ok := codePhone(r, chosen)
	if !ok {
		return Request{}, verifykit.New(verifykit.KindInvalidInput, MsgNotOTP)
	}
	// The send limits of step 5, before anything is written.
	d, err := s.drawCode(ctx, r.ID, phone)
	if err != nil {
		return Request{}, err
	}
	// Steps 4 to 6, in one write. The URLs are signed outside the request's lock; if
	// another resend stored a newer generation meanwhile, sign again for the next one.
	previous := r.CurrentAuthMethod
	for try := 1; ; try++ {
		version := r.UploadVersion + 1
		s.otp.Bind(d, approvalBinding(r.ID, version)) // the version this write stores
		uploads, err := s.signUploads(ctx, r, version, s.clock.Now())
		if err != nil {
			s.otp.Release(ctx, d)
			return Request{}, err
		}
		r, err = s.update(ctx, r.ID, []Status{StatusNew}, func(r *ports.PersonRequest, now time.Time) error {
			if r.UploadVersion != version-1 {
				return errRaced
			}
			r.Uploads, r.UploadVersion = uploads, version
			previous = r.CurrentAuthMethod
			s.otp.Put(&r.Verification, d)
			r.CurrentAuthMethod = chosen
			s.emitIssued(r, d, actor)
			s.emit(r, EventCodeResent, actor, now)
			return nil
		})
		if errors.Is(err, errRaced) && try < maxResendTries {
			if r, err = s.load(ctx, req.ID); err == nil {
				continue
			}
		}
		if errors.Is(err, errRaced) {
			err = verifykit.New(verifykit.KindConflict, MsgResendInProgress)
		}
		if err != nil {
			s.otp.Release(ctx, d)
			return Request{}, err
		}
		break
	}
	// The SMS of step 5, after the commit.
	if err := s.sendCode(ctx, r.ID, d, previous); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "person request code not sent",
			logid.Attr("person_request_id", r.ID), slog.String("recipient", ports.MaskPhone(phone)),
			slog.String("error", verifykit.KindOf(err).String()))
		return Request{}, err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "person request auth method resent",
		logid.Attr("person_request_id", r.ID),
		slog.String("auth_method", string(r.Person.AuthMethods[chosen].Type)),
		slog.String("recipient", ports.MaskPhone(phone)))
	return s.view(r), nil
}

// maxResendTries is how often a resend signs and writes again when other resends of the
// same request keep storing newer upload URLs first.
const maxResendTries = 3

// errRaced tells a resend that another resend stored a newer generation of upload URLs
// since it read the request.
var errRaced = errors.New("person request resent meanwhile")

// chooseMethod returns the index of the person's method that alias and typ name, or of
// the primary when both are empty; KindInvalidInput when they name none.
func chooseMethod(r ports.PersonRequest, alias string, typ AuthType) (int, error) {
	methods := r.Person.AuthMethods
	switch typ {
	case "", AuthOTP, AuthOffline, AuthThirdPerson, AuthNA:
	default:
		return -1, invalid("$.type", "inclusion", "must be one of OTP, OFFLINE, THIRD_PERSON, NA")
	}
	if alias = strings.TrimSpace(alias); alias != "" {
		for i, m := range methods {
			if strings.TrimSpace(m.Alias) != alias {
				continue
			}
			if typ != "" && m.Type != typ {
				return -1, invalid("$.type", "inclusion", "is not the type of the authentication method with this alias")
			}
			return i, nil
		}
		return -1, invalid("$.alias", "inclusion", "no authentication method of the person has this alias")
	}
	found := -1
	for i, m := range methods {
		if typ != "" && m.Type != typ {
			continue
		}
		if m.Primary {
			return i, nil
		}
		if found < 0 && typ != "" {
			found = i
		}
	}
	if found < 0 {
		if typ != "" {
			return -1, invalid("$.type", "inclusion", "the person has no authentication method of this type")
		}
		return -1, invalid("$.alias", "required", "the person has no primary authentication method")
	}
	return found, nil
}

func invalid(entry, rule, desc string) error {
	var v verifykit.Validation
	v.Add(entry, rule, desc)
	return v.Err()
}
