package identification

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

// ProcessMetadata is what the actor may see of a process: never the code, nor the full
// contact data.
type ProcessMetadata struct {
	ID string `json:"id"`
	// State is the state at the time of the answer (a CREATED process past its expiry is
	// EXPIRED).
	State         ProcessState  `json:"status"`
	ExpiresAt     time.Time     `json:"expires_at"`
	TwoFactorType TwoFactorType `json:"two_factor_type,omitempty"`
	Channel       ChannelType   `json:"channel"`
	// MaskedContact is where the code was sent, masked: "+3460*****22" for SMS and
	// WHATSAPP (ports.MaskPhone), "j***@example.com" for EMAIL (ports.MaskEmail).
	MaskedContact string `json:"masked_contact"`
	Language      string `json:"language,omitempty"`
}

func toMetadata(r ports.ProcessRecord, now time.Time) ProcessMetadata {
	m := ProcessMetadata{
		ID:            r.ID,
		State:         ProcessState(ports.EffectiveProcessState(r, now)),
		ExpiresAt:     r.ExpiresAt,
		TwoFactorType: TwoFactorType(r.TwoFactorType),
		Channel:       ChannelType(r.ChannelType),
		Language:      r.Actor.Language,
	}
	if m.Channel == ChannelEmail {
		m.MaskedContact = ports.MaskEmail(r.Actor.Email)
	} else {
		m.MaskedContact = ports.MaskPhone(MSISDN(r.Actor.MSISDN).E164())
	}
	return m
}

// Metadata returns what the actor may see of a process (the actor's scopes): its state,
// expiry, second factor type, channel and masked contact.
func (s *ProcessService) Metadata(ctx context.Context, req ProcessRequest) (ProcessMetadata, error) {
	if _, err := s.authorizeID(ctx, req.Token, req.OrgID, req.ID, s.cfg.ActorScopes); err != nil {
		return ProcessMetadata{}, err
	}
	rec, err := s.get(ctx, req.OrgID, req.ID)
	if err != nil {
		return ProcessMetadata{}, err
	}
	return toMetadata(rec, s.clock.Now()), nil
}

// ValidateProcessRequest is an actor's attempt to validate a process.
type ValidateProcessRequest struct {
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
//  1. a malformed code, or a missing second factor, is a bad request (400) and counts
//     nothing;
//  2. a process that is not CREATED, or whose expiry has passed (it is then stored
//     EXPIRED), is a conflict (409);
//  3. the second factor is checked before the code, so a right code is never used up by
//     an attempt that fails on its second factor. A wrong second factor (422 "Invalid
//     second factor", cause ErrSecondFactorMismatch) counts one failed attempt against the
//     current code, exactly like a wrong code, and the code is not checked;
//  4. the code is checked by the otp engine: a wrong code counts an attempt (422 "Invalid
//     verification code"); the attempt that uses the last one, and any later one, blocks
//     the process (422 "Maximum attempts exceed"; it is then BLOCKED and further attempts
//     are conflicts); a code superseded, expired or used already is refused (422);
//  5. a right code is used once: of concurrent validations of one process exactly one
//     succeeds. VALIDATED is stored only if the process is still CREATED and unexpired,
//     else the answer is a conflict.
//
// Document numbers and e-mail addresses match as people type them: case and white space
// do not matter. For PERSONAL_DOCUMENT_IMAGE any non-empty reference is accepted and kept
// in Process.TwoFactorEvidence.
func (s *ProcessService) Validate(ctx context.Context, req ValidateProcessRequest) (ProcessMetadata, error) {
	if _, err := s.authorizeID(ctx, req.Token, req.OrgID, req.ID, s.cfg.ActorScopes); err != nil {
		return ProcessMetadata{}, err
	}
	code, twoFactor := strings.TrimSpace(req.Code), strings.TrimSpace(req.TwoFactor)
	var v verifykit.Validation
	v.Required("$.code", code)
	if n := len(code); n > 0 && (n < otp.MinDigits || n > otp.MaxDigits || digits(code) != n) {
		v.Add("$.code", "format", fmt.Sprintf("must be %d to %d digits", otp.MinDigits, otp.MaxDigits))
	}
	if utf8.RuneCountInString(twoFactor) > maxTwoFactorLen {
		v.Add("$.two_factor", "length", fmt.Sprintf("must be at most %d characters", maxTwoFactorLen))
	}
	if err := badRequest(&v); err != nil {
		return ProcessMetadata{}, err
	}
	rec, err := s.get(ctx, req.OrgID, req.ID)
	if err != nil {
		return ProcessMetadata{}, err
	}
	if err := s.requireCreated(ctx, rec, "validated"); err != nil {
		return ProcessMetadata{}, err
	}
	tf := TwoFactorType(rec.TwoFactorType)
	if tf != "" {
		if twoFactor == "" {
			v.Add("$.two_factor", "required", "is required by two_factor_type "+string(tf))
			return ProcessMetadata{}, badRequest(&v)
		}
		if !secondFactorMatches(tf, rec.Actor, twoFactor) {
			return ProcessMetadata{}, s.secondFactorFailed(ctx, rec)
		}
	}
	if res, err := s.otp.Verify(ctx, otp.VerifyRequest{Purpose: s.cfg.CodePurpose, Subject: rec.ID, Code: code}); err != nil {
		return ProcessMetadata{}, s.codeFailed(ctx, rec, res, err)
	}
	now := s.clock.Now()
	rec, err = s.transition(ctx, rec.OrgID, rec.ID, "validated", func(r *ports.ProcessRecord) {
		r.State = string(ProcessValidated)
		r.ValidatedAt = now
		if tf == TwoFactorDocumentImage {
			r.TwoFactorEvidence = twoFactor
		}
	})
	if err != nil {
		return ProcessMetadata{}, err
	}
	s.log.InfoContext(ctx, "otp identification validated", slog.String("org_id", rec.OrgID), slog.String("process_id", rec.ID))
	return toMetadata(rec, now), nil
}

// requireCreated answers a conflict unless rec is CREATED and unexpired now; an expiry
// that is due is stored first.
func (s *ProcessService) requireCreated(ctx context.Context, rec ports.ProcessRecord, action string) error {
	st := ports.EffectiveProcessState(rec, s.clock.Now())
	if st == ports.ProcessStateCreated {
		return nil
	}
	if rec.State == ports.ProcessStateCreated {
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

// secondFactorFailed counts a wrong second factor as a failed attempt on the current code
// (otp.Service.RecordFailure) and returns the error for the actor. Only while a code is
// active does the answer say the factor was wrong; otherwise it is the code's own error,
// the same a right factor gets, so a factor cannot be guessed without a usable code.
func (s *ProcessService) secondFactorFailed(ctx context.Context, rec ports.ProcessRecord) error {
	res, err := s.otp.RecordFailure(ctx, s.cfg.CodePurpose, rec.ID)
	switch {
	case errors.Is(err, otp.ErrAttemptsExceeded):
		return s.codeFailed(ctx, rec, res, err)
	case errors.Is(err, otp.ErrWrongCode):
		s.countFailure(ctx, rec, false)
	default:
		// No active code (expired, superseded, undeliverable), a used-up failure budget
		// (429) or an unavailable engine (503): answer exactly as for a right second
		// factor, so that the answer never tells whether the factor was right.
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

// codeFailed records what a failed code check means for the process, and returns err: an
// attempt the engine counted is counted on the process too, and a blocked code blocks the
// process.
func (s *ProcessService) codeFailed(ctx context.Context, rec ports.ProcessRecord, res otp.VerifyResult, err error) error {
	blocked := errors.Is(err, otp.ErrAttemptsExceeded)
	switch {
	case res.Counted:
		s.countFailure(ctx, rec, blocked)
	case blocked:
		s.blockProcess(ctx, rec)
	}
	return err
}

// countFailure adds a failed attempt that the engine counted to the process and, with
// block, makes a CREATED process BLOCKED. It only logs its own failures: the actor's
// answer is the failed attempt.
func (s *ProcessService) countFailure(ctx context.Context, rec ports.ProcessRecord, block bool) {
	s.recordFailure(ctx, rec, 1, block)
}

// blockProcess makes a CREATED process BLOCKED without counting an attempt: its code is
// blocked already (say a crash came between the engine's count and the process's).
func (s *ProcessService) blockProcess(ctx context.Context, rec ports.ProcessRecord) {
	s.recordFailure(ctx, rec, 0, true)
}

func (s *ProcessService) recordFailure(ctx context.Context, rec ports.ProcessRecord, attempts int, block bool) {
	now := s.clock.Now()
	blocked := false
	_, err := s.store.Update(context.WithoutCancel(ctx), rec.OrgID, rec.ID, func(r *ports.ProcessRecord) error {
		// The engine counted the attempt while the process was CREATED: count it even if
		// a concurrent attempt has blocked the process since, so the two counts agree.
		r.FailedAttempts += attempts
		if block && r.State == ports.ProcessStateCreated {
			r.State = string(ProcessBlocked)
			blocked = true
		}
		if attempts == 0 && !blocked {
			return errNothingToRecord
		}
		r.UpdatedAt = now
		return nil
	})
	attrs := []any{slog.String("org_id", rec.OrgID), slog.String("process_id", rec.ID)}
	switch {
	case errors.Is(err, errNothingToRecord):
	case err != nil:
		s.log.WarnContext(ctx, "otp identification failed attempt not recorded", append(attrs, slog.String("error", err.Error()))...)
	case blocked:
		s.log.InfoContext(ctx, "otp identification blocked", attrs...)
	}
}

// errNothingToRecord makes a store update write nothing.
var errNothingToRecord = errors.New("nothing to record")
