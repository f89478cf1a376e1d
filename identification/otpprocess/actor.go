package otpprocess

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// maxTwoFactorLen bounds the second factor an actor gives, in characters: a document
// number, an e-mail address, or a reference to an uploaded image (not the image itself).
const maxTwoFactorLen = 2048

// Metadata is what the actor may see of a process: never the code, nor the full
// contact data.
type Metadata struct {
	ID string
	// State is the state at the time of the answer (a CREATED process past its expiry is
	// EXPIRED).
	State         State
	ExpiresAt     time.Time
	TwoFactorType TwoFactorType
	Channel       ChannelType
	// MaskedContact is where the code was sent, masked by its kind (ports.MaskRecipient):
	// "+3460*****22" for SMS and WHATSAPP, "j***@e***.com" for EMAIL.
	MaskedContact string
	Language      string
}

func toMetadata(r ports.ProcessRecord, now time.Time) Metadata {
	m := Metadata{
		ID:            r.ID,
		State:         ports.EffectiveProcessState(r, now),
		ExpiresAt:     r.ExpiresAt,
		TwoFactorType: r.TwoFactorType,
		Channel:       r.Channel.Type,
		Language:      r.Actor.Language,
	}
	contact := r.Actor.MSISDN.E164()
	if m.Channel == ChannelEmail {
		contact = r.Actor.Email
	}
	m.MaskedContact = ports.MaskRecipient(contact)
	return m
}

// Metadata returns what the actor may see of a process (the actor's scopes): its state,
// expiry, second factor type, channel and masked contact.
func (s *Service) Metadata(ctx context.Context, req Request) (_ Metadata, err error) {
	ctx, end := s.startOrg(ctx, "Metadata", req.OrgID)
	defer func() { end(err) }()
	if _, err := s.authorizeID(ctx, req.Token, req.OrgID, req.ID, s.cfg.ActorScopes); err != nil {
		return Metadata{}, err
	}
	rec, err := s.get(ctx, req.OrgID, req.ID)
	if err != nil {
		return Metadata{}, err
	}
	return toMetadata(rec, s.clock.Now()), nil
}

// ValidateRequest is an actor's attempt to validate a process.
type ValidateRequest struct {
	Token string
	OrgID string
	ID    string
	// Code is the one-time code the actor received: 4 to 10 digits.
	Code string
	// TwoFactor is the second factor, required when the process has a TwoFactorType.
	TwoFactor string
}

// Validate moves a CREATED process to VALIDATED when the code, and the second factor when
// the process has one, are right. The actor's scopes are needed.
//
// Order and semantics:
//  1. a missing or malformed code (surrounding white space is trimmed first) is invalid
//     input (KindInvalidInput naming "$.code"), and so is a second factor that is too
//     long or missing (naming "$.two_factor"); neither counts anything;
//  2. a process that is not CREATED, or whose expiry has passed (it is then stored
//     EXPIRED), is a conflict (KindConflict);
//  3. the second factor is checked before the code, so a right code is never used up by
//     an attempt that fails on its second factor. A wrong second factor (KindInvalidInput
//     "Invalid second factor", cause ErrSecondFactorMismatch) counts one failed attempt
//     against the current code, exactly like a wrong code, and the code is not checked;
//  4. the code is checked by the otp rules: a wrong code counts an attempt
//     (KindInvalidInput "Invalid verification code"); the attempt that uses the last one,
//     and any later one, blocks the process (KindInvalidInput "Maximum attempts exceed";
//     it is then BLOCKED and further attempts are conflicts); a code superseded, expired
//     or used already is refused (KindInvalidInput);
//  5. a right code is used once, and VALIDATED is stored in the same atomic write.
//
// Steps 2 to 5 are one atomic Update of the process, which holds its code: the attempt
// counted on the code, the process's FailedAttempts and BLOCKED, or the used code and
// VALIDATED, commit together. Before steps 3 to 5 the failure budget of the phone (or
// address) the code went to (otp.Config.RecipientFailureLimit) is decided (otp.CheckGuard),
// across every process and code aimed at it: once it is used up, every attempt is refused
// with KindRateLimited (otp.ErrTooManyFailures, with RetryAfter: the answer of
// otp.Service.Verify) and changes nothing, and no number of concurrent wrong attempts
// passes it. Validate is idempotent: repeated with the code (and second
// factor) that validated the process, it answers the validated process again and changes
// nothing; any other attempt on a VALIDATED process is a conflict.
//
// Document numbers and e-mail addresses match as people type them: case and white space
// do not matter. For PERSONAL_DOCUMENT_IMAGE any non-empty reference is accepted and kept
// in Process.TwoFactorEvidence.
func (s *Service) Validate(ctx context.Context, req ValidateRequest) (_ Metadata, err error) {
	ctx, end := s.startOrg(ctx, "Validate", req.OrgID)
	defer func() { end(err) }()
	claims, err := s.authorizeID(ctx, req.Token, req.OrgID, req.ID, s.cfg.ActorScopes)
	if err != nil {
		return Metadata{}, err
	}
	code, err := otp.ParseCode(req.Code)
	if err != nil {
		return Metadata{}, err
	}
	twoFactor := strings.TrimSpace(req.TwoFactor)
	var v verifykit.Validation
	if utf8.RuneCountInString(twoFactor) > maxTwoFactorLen {
		v.Add("$.two_factor", "length", fmt.Sprintf("must be at most %d characters", maxTwoFactorLen))
	}
	if err := v.Err(); err != nil {
		return Metadata{}, err
	}
	now := s.clock.Now()
	var (
		refused   error // the answer to a failed attempt, whose count is stored
		completed ports.ProcessRecord
		expired   bool
		checkRes  otp.VerifyResult // what the attempt answered, for the abuse controls
		checkErr  error
		rec       ports.ProcessRecord
	)
	// The recipient's failure budget is decided before the attempt is stored, and an
	// attempt it refuses changes nothing (otp.CheckGuard).
	guard := s.otp.GuardCheck(now)
	err = guard.Run(ctx, func() (err error) {
		rec, err = s.store.Update(ctx, req.OrgID, req.ID, func(r *ports.ProcessRecord) error {
			tf := r.TwoFactorType
			if r.State == StateValidated && s.otp.Completed(r.Verification, code) &&
				(tf == "" || secondFactorMatches(tf, r.Actor, twoFactor)) {
				completed = r.Clone()
				return errCompleted
			}
			if st := ports.EffectiveProcessState(*r, now); st != StateCreated {
				if r.State != StateCreated {
					return notCreated("validated", st)
				}
				r.State, r.UpdatedAt, expired = st, now, true
				refused = notCreated("validated", st)
				s.emitProcess(r, EventExpired, "", now)
				return nil
			}
			if tf != "" && twoFactor == "" {
				var v verifykit.Validation
				v.Add("$.two_factor", "required", "is required by two_factor_type "+string(tf))
				return v.Err()
			}
			if tf != "" && !secondFactorMatches(tf, r.Actor, twoFactor) {
				res, err := s.otp.CountFailure(&r.Verification, now)
				if err := guard.Admit(r.Verification, res); err != nil {
					return err
				}
				checkRes, checkErr = res, err
				refused = secondFactorAnswer(res, err)
				failed(r, res, err, now)
				s.emitChecked(r, res, err, errors.Is(err, otp.ErrWrongCode), claims.Subject, now)
				return nil
			}
			res, err := s.otp.Check(&r.Verification, code, now)
			if err := guard.Admit(r.Verification, res); err != nil {
				return err
			}
			checkRes, checkErr = res, err
			if err != nil {
				refused = err
				failed(r, res, err, now)
				s.emitChecked(r, res, err, false, claims.Subject, now)
				return nil
			}
			r.State = StateValidated
			r.ValidatedAt, r.UpdatedAt = now, now
			if tf == TwoFactorDocumentImage {
				r.TwoFactorEvidence = twoFactor
			}
			s.emitChecked(r, otp.VerifyResult{}, nil, false, claims.Subject, now)
			return nil
		})
		return err
	})
	if err == nil {
		guard.Done(ctx, rec.Verification, checkRes, checkErr)
	}
	attrs := []slog.Attr{slog.String("org_id", req.OrgID), slog.String("process_id", req.ID)}
	switch {
	case errors.Is(err, errCompleted):
		s.log.LogAttrs(ctx, slog.LevelInfo, "otp identification validation repeated", attrs...)
		return toMetadata(completed, now), nil
	case err != nil:
		return Metadata{}, storeErr(err)
	case expired:
		s.log.LogAttrs(ctx, slog.LevelInfo, "otp identification expired", attrs...)
		return Metadata{}, refused
	case refused != nil:
		if rec.State == StateBlocked {
			s.log.LogAttrs(ctx, slog.LevelInfo, "otp identification blocked", attrs...)
		}
		return Metadata{}, refused
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "otp identification validated", attrs...)
	return toMetadata(rec, now), nil
}

// errCompleted tells Validate that the process was validated with the code given: nothing
// is written, and the validated process is the answer.
var errCompleted = errors.New("otp identification already validated with this code")

// failed records on the process what a failed attempt did to its code: an attempt the
// rules counted is counted on the process too, and a blocked code blocks the process.
func failed(r *ports.ProcessRecord, res otp.VerifyResult, err error, now time.Time) {
	if res.Counted {
		r.FailedAttempts++
		r.UpdatedAt = now
	}
	if errors.Is(err, otp.ErrAttemptsExceeded) {
		r.State = StateBlocked
		r.UpdatedAt = now
	}
}

// secondFactorAnswer is the answer to a wrong second factor, whose failure the rules
// answered with err. Only while a code is active does the answer say the factor was wrong;
// otherwise it is the code's own error, the same a right factor gets, so a factor cannot be
// guessed without a usable code.
func secondFactorAnswer(res otp.VerifyResult, err error) error {
	if !errors.Is(err, otp.ErrWrongCode) {
		// Blocked by this attempt, no active code (expired, superseded, undeliverable) or
		// a used-up failure budget (KindRateLimited): answer exactly as for a right
		// second factor.
		return err
	}
	return &verifykit.Error{
		Kind:    verifykit.KindInvalidInput,
		Message: MsgInvalidTwoFactor,
		Invalid: []verifykit.InvalidEntry{{
			Entry: "$.two_factor", EntryType: verifykit.EntryJSONProperty, Rule: "verification",
			Description: fmt.Sprintf("does not match; %d attempts left", res.AttemptsLeft),
		}},
		Err: ErrSecondFactorMismatch,
	}
}

// requireCreated answers a conflict unless rec is CREATED and unexpired now; an expiry
// that is due is stored first.
func (s *Service) requireCreated(ctx context.Context, rec ports.ProcessRecord, action string) error {
	st := ports.EffectiveProcessState(rec, s.clock.Now())
	if st == StateCreated {
		return nil
	}
	if rec.State == StateCreated {
		// transition stores EXPIRED, and answers the conflict.
		if _, err := s.transition(ctx, rec.OrgID, rec.ID, action, func(*ports.ProcessRecord) {}); err != nil {
			return err
		}
	}
	return notCreated(action, st)
}

// normalizeFactor drops white space and case, as people type document numbers and e-mail
// addresses.
func normalizeFactor(s string) string {
	return strings.ToLower(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s))
}

func secondFactorMatches(tf TwoFactorType, actor ports.ProcessActor, given string) bool {
	var want string
	switch tf {
	case TwoFactorDocumentNumber:
		want = actor.IdentityDocument.DocumentNumber
	case TwoFactorEmail:
		want = actor.Email
	default: // PERSONAL_DOCUMENT_IMAGE: a reference to review, not a value to compare
		return true
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(normalizeFactor(want)), []byte(normalizeFactor(given))) == 1
}
