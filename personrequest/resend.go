package personrequest

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/verifykit/verifykit"
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
//  1. the token is valid and not expired, else 401 "Invalid access token"; it carries
//     ScopeWrite, else 403 "Your scope does not allow to access this resource. Missing
//     allowances: person_request:write";
//  2. the request exists (and has not expired), else 404; its status is NEW, else
//     409 "incorrect status";
//  3. the chosen method (by Alias and/or Type, else the primary) exists, else 422 naming
//     "$.alias" or "$.type"; it is OTP, or THIRD_PERSON whose third person's primary
//     method is OTP, else 422 "Auth method is not OTP";
//  4. new upload URLs are issued for every document of the person and of the third person,
//     and replace the older ones, which stop being valid (see UploadURLValid);
//  5. a new code is sent to the method's phone; every older code of the request stops
//     being valid at once, even when the SMS fails (503; the request stays NEW). The otp
//     engine's send limits apply: 429 with RetryAfter. They are checked (without
//     counting) before step 4 too, so a resend refused for them changes nothing; only a
//     send that gets in between the check and step 5 can still leave the URLs of step 4
//     replaced;
//  6. the chosen method becomes the request's current method; the request is returned
//     with its urgent block.
//
// Resends of one request take turns: step 4 takes the request's resend lease and step 6
// gives it back, so while one is under way another answers 409 MsgResendInProgress (on any
// instance sharing the store), and the current method is always the one the latest code
// went to. A resend that dies keeps the lease at most Config.ResendLease.
//
// Write order (crash safety): step 4 writes the request (old URLs out, new ones in, in one
// atomic update), step 5 the code store (old codes out, new one in, atomically, before the
// SMS goes), step 6 the request again. Each write invalidates before it creates. A crash
// after step 4 leaves new URLs and the old code; after step 5, the new code with the old
// current method. Neither state lets an old URL or a superseded code through: only the
// latest code is ever checked, whichever method is current.
func (s *Service) ResendAuthMethod(ctx context.Context, req ResendRequest) (Request, error) {
	// Steps 1 and 2.
	r, err := s.begin(ctx, req.Token, ScopeWrite, req.ID, StatusNew)
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
	// The send limits of step 5, checked before step 4 writes anything.
	if err := s.otp.CheckSendLimit(ctx, phone); err != nil {
		return Request{}, err
	}
	// Step 4, which also takes the request's resend lease: steps 4 to 6 of two resends of
	// one request never interleave, on any instance.
	now := s.clock.Now()
	version := r.UploadVersion + 1
	uploads, err := s.signUploads(ctx, r, version, now)
	if err != nil {
		return Request{}, err
	}
	lease := uuid.NewString()
	if _, err := s.update(ctx, r.ID, []Status{StatusNew}, func(r *ports.PersonRequest, now time.Time) error {
		if r.ResendLease != "" && now.Before(r.ResendLeaseUntil) || r.UploadVersion != version-1 {
			return verifykit.New(verifykit.KindConflict, MsgResendInProgress)
		}
		r.ResendLease, r.ResendLeaseUntil = lease, now.Add(s.cfg.ResendLease)
		r.Uploads = uploads
		r.UploadVersion = version
		return nil
	}); err != nil {
		return Request{}, err
	}
	// Step 5.
	if err := s.issueCode(ctx, r.ID, phone); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "person request code not sent",
			slog.String("person_request_id", r.ID), slog.String("recipient", ports.MaskPhone(phone)),
			slog.String("error", err.Error()))
		s.releaseLease(ctx, r.ID, lease)
		return Request{}, err
	}
	// Step 6, which gives the lease back.
	r, err = s.update(ctx, r.ID, []Status{StatusNew}, func(r *ports.PersonRequest, _ time.Time) error {
		if r.ResendLease != lease {
			return verifykit.New(verifykit.KindConflict, MsgResendInProgress) // ours lapsed and was taken
		}
		r.CurrentAuthMethod = chosen
		r.ResendLease, r.ResendLeaseUntil = "", time.Time{}
		return nil
	})
	if err != nil {
		s.releaseLease(ctx, r.ID, lease)
		return Request{}, err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "person request auth method resent",
		slog.String("person_request_id", r.ID),
		slog.String("auth_method", string(r.Person.AuthMethods[chosen].Type)),
		slog.String("recipient", ports.MaskPhone(phone)))
	return s.view(r), nil
}

// releaseLease gives back the resend lease of request id if it is still lease, after a
// resend failed; a failure to do so only delays the next resend until the lease lapses.
func (s *Service) releaseLease(ctx context.Context, id, lease string) {
	_, err := s.store.Update(context.WithoutCancel(ctx), id, func(r *ports.PersonRequest) error {
		if r.ResendLease != lease {
			return errLeaseGone
		}
		r.ResendLease, r.ResendLeaseUntil = "", time.Time{}
		return nil
	})
	if err != nil && !errors.Is(err, errLeaseGone) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "person request resend lease not released",
			slog.String("person_request_id", id), slog.String("error", err.Error()))
	}
}

// errLeaseGone makes releaseLease write nothing when the lease is no longer its own.
var errLeaseGone = errors.New("resend lease gone")

// chooseMethod returns the index of the person's method that alias and typ name, or of
// the primary when both are empty; 422 when they name none.
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
