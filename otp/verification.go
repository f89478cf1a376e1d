package otp

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

// A code's life, for a flow whose code lives in the record it confirms (a person request,
// an identification process: see ports.Verification):
//
//  1. Draw reserves a send under the recipient's send limits (KindRateLimited when they
//     are used up, and nothing is recorded) and draws a code; nothing is stored yet.
//  2. Inside the record's atomic Update, Put makes the drawn code the Verification's latest
//     one, superseding the older code, beside whatever else the flow changes.
//  3. After the Update committed, Send delivers the code. If it fails for good, the flow
//     marks the code undeliverable (MarkUndeliverable, in another Update) and answers
//     Send's error; an older code never comes back. If the Update failed, Release gives
//     the reserved send back.
//
// Checks run inside the record's Update too: Check (the code the person typed) and
// CountFailure (a failed check beside the code) change the Verification, and the flow
// stores that change with its own in the same write. Completed tells a repeated completing
// call from a new attempt.

// Draft is a code that was drawn but not yet stored: Put it into a Verification, then Send
// it (or, for DrawExternal, hand Code to the caller). A Draft is used by one goroutine.
type Draft struct {
	rec      ports.OTPRecord
	code     string
	external bool
	msg      ports.Message
	// channels are where Send delivers, in order: the request's channel, then its
	// fallbacks; channel names the one that delivered.
	channels []draftChannel
	channel  string
	// limitKey is the limiter key of the send reserved at reserved ("" when no send limit
	// applies), for Release.
	limitKey string
	reserved time.Time
	// abuse are the events the abuse controls recorded for the draft, for Release.
	abuse []reservation
	// test is true for a code to a test recipient: Send sends nothing.
	test bool
	// to is the recipient, in E.164 form when it is a phone number.
	to string
}

// draftChannel is one channel a draft is sent through.
type draftChannel struct {
	name string
	to   string
	send func(context.Context, ports.Message) error
}

// Channel names the channel that delivered the drafted code, once Send succeeded (the
// request's channel, or the fallback that took over); empty before, and for a draft of
// DrawExternal or a test recipient.
func (d *Draft) Channel() string { return d.channel }

// ID identifies the drafted code; it is also its delivery idempotency key.
func (d *Draft) ID() string { return d.rec.ID }

// ExpiresAt is when the drafted code stops being valid.
func (d *Draft) ExpiresAt() time.Time { return d.rec.ExpiresAt }

// Code returns the code in clear for a draft of DrawExternal, whose caller delivers it
// itself (once); it is empty for drafts that Send delivers.
func (d *Draft) Code() string {
	if d.external {
		return d.code
	}
	return ""
}

// Draw checks req as Issue does, reserves a send to req.Recipient under the send limits
// (KindRateLimited with RetryAfter when they are used up: nothing is then recorded), and
// draws a code for Send to deliver. Nothing is stored: Put the draft into the Verification
// of the record it confirms.
func (s *Service) Draw(ctx context.Context, req IssueRequest) (_ *Draft, err error) {
	ctx, end := s.start(ctx, "Draw")
	defer func() { end(err) }()
	if err := s.checkIssue(req, true); err != nil {
		return nil, err
	}
	d, err := s.draw(ctx, req, req.Recipient)
	if err != nil {
		return nil, err
	}
	send, name := req.Send, req.Channel
	if send == nil {
		send = s.sms.Send
	}
	if name == "" {
		name = DefaultChannel
	}
	d.channels = append(make([]draftChannel, 0, 1+len(req.Fallback)), draftChannel{name: name, to: d.to, send: send})
	for _, ch := range req.Fallback {
		to := ch.Recipient
		if p, err := s.phones.parse(to); err == nil {
			to = p.E164
		}
		d.channels = append(d.channels, draftChannel{name: ch.Name, to: to, send: ch.Send})
	}
	body, err := s.render(req, d.code)
	if err != nil {
		s.Release(ctx, d)
		return nil, renderFailure()
	}
	d.msg = ports.Message{To: d.to, Body: body, IdempotencyKey: d.rec.ID,
		Ref: ports.DeliveryRef{Purpose: d.rec.Purpose, Subject: d.rec.Subject, CodeID: d.rec.ID}}
	return d, nil
}

// DrawExternal is Draw for a channel the caller delivers itself: Draft.Code returns the
// code. Send limits are counted per recipient, or per purpose and subject when
// req.Recipient is empty.
func (s *Service) DrawExternal(ctx context.Context, req IssueRequest) (_ *Draft, err error) {
	ctx, end := s.start(ctx, "DrawExternal")
	defer func() { end(err) }()
	if err := s.checkIssue(req, false); err != nil {
		return nil, err
	}
	limitBy := req.Recipient
	if limitBy == "" {
		limitBy = req.Purpose + "\x00" + req.Subject
	}
	d, err := s.draw(ctx, req, limitBy)
	if err != nil {
		return nil, err
	}
	d.external = true
	return d, nil
}

// draw reserves a send for limitBy and draws the code of req.
func (s *Service) draw(ctx context.Context, req IssueRequest, limitBy string) (*Draft, error) {
	now := s.clock.Now()
	r, err := s.readRecipient(req.Recipient, now)
	if err != nil {
		return nil, err
	}
	key := r.sendKey // one number, however it was written, has one send limit
	if req.Recipient == "" {
		key = s.sendLimitKey(limitBy)
	}
	abuse, err := s.reserve(ctx, r, key, req.Purpose, req.Subject, s.ttl(req), now)
	if err != nil {
		return nil, err
	}
	digits, maxAttempts := s.cfg.Digits, s.cfg.MaxAttempts
	if req.Digits > 0 {
		digits = req.Digits
	}
	if req.MaxAttempts > 0 {
		maxAttempts = req.MaxAttempts
	}
	d := &Draft{reserved: now, abuse: abuse.reserved, to: r.to, test: r.test != ""}
	if d.test {
		d.code = r.test
	} else {
		d.code = generateCode(digits)
	}
	if len(s.cfg.SendLimits) > 0 {
		d.limitKey = key
	}
	d.rec = ports.OTPRecord{
		ID:          codeID(uuid.NewString(), abuse),
		Purpose:     req.Purpose,
		Subject:     req.Subject,
		KeyID:       s.hashers[0].id,
		State:       ports.CodeActive,
		MaxAttempts: maxAttempts,
		CreatedAt:   now,
		ExpiresAt:   now.Add(s.ttl(req)),
	}
	d.rec.Hash = s.hashers[0].sumCode(make([]byte, 0, sha256.Size), d.rec.ID, d.rec.Purpose, d.rec.Subject, d.code, req.Binding)
	return d, nil
}

// Put makes the drafted code the latest code of v, superseding the code v held, and
// returns how many active codes it superseded (0 or 1). Call it inside the atomic Update
// of the record that holds v.
func (s *Service) Put(v *ports.Verification, d *Draft) int {
	s.dropStaleFailures(v, d.rec.CreatedAt)
	superseded := 0
	if v.Code.State == ports.CodeActive {
		superseded = 1
	}
	v.Code = d.rec
	v.Code.Hash = slices.Clone(d.rec.Hash)
	v.KeepUntil = s.keepUntil(*v)
	return superseded
}

// Send delivers a drafted code after the Verification holding it was stored, retrying
// transient failures with backoff (one idempotency key for every try). When delivery fails
// for good it answers KindUnavailable, with ErrUndeliverable and the sender's error (whose
// text is never shown) reachable with errors.Is/As; the caller then marks the code with
// MarkUndeliverable. A draft of DrawExternal is not sent: Send answers nil.
//
// A draft with fallback channels (IssueRequest.Fallback) that fails permanently
// (ports.ErrPermanent) on one channel goes out on the next, the same message with the same
// code, under the idempotency key "<code id>/<channel>"; Draft.Channel names the channel
// that delivered. Only when every channel failed, or one failed transiently after its
// retries, does Send answer the error above.
func (s *Service) Send(ctx context.Context, d *Draft) (result error) {
	ctx, end := s.start(ctx, "Send")
	defer func() { s.issued(ctx, d.rec.Purpose, nil); end(result) }()
	if d.external {
		return nil
	}
	if d.test {
		s.log.LogAttrs(ctx, slog.LevelInfo, "otp test recipient: code not sent",
			slog.String("purpose", d.rec.Purpose), slog.String("subject", d.rec.Subject),
			slog.String("code_id", d.rec.ID), slog.String("recipient", ports.MaskPhone(d.to)))
		return nil
	}
	var err error
	for i, ch := range d.channels {
		msg := d.msg
		msg.To = ch.to
		if i > 0 {
			msg.IdempotencyKey = d.rec.ID + "/" + ch.name
		}
		if err = s.deliver(ctx, ch.send, msg); err == nil {
			d.channel = ch.name
			return nil
		}
		if !errors.Is(err, ports.ErrPermanent) || i == len(d.channels)-1 {
			break
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "otp delivery failed permanently; falling back",
			slog.String("purpose", d.rec.Purpose), slog.String("subject", d.rec.Subject),
			slog.String("code_id", d.rec.ID), slog.String("channel", ch.name),
			slog.String("next_channel", d.channels[i+1].name), slog.String("recipient", ports.MaskRecipient(ch.to)))
	}
	cause := deliveryError{err}
	s.log.LogAttrs(ctx, slog.LevelWarn, "otp delivery failed",
		slog.String("purpose", d.rec.Purpose), slog.String("subject", d.rec.Subject),
		slog.String("code_id", d.rec.ID), slog.String("recipient", ports.MaskRecipient(d.msg.To)),
		slog.String("error", cause.Error()))
	return &verifykit.Error{
		Kind:    verifykit.KindUnavailable,
		Message: "The verification code could not be delivered; try again later.",
		Err:     errors.Join(ErrUndeliverable, cause),
	}
}

// Release gives back the send that d reserved, when d was never stored (the Update that
// was to hold it failed). Should that fail, the recipient's send limit is short by one
// send until its window passes, which errs on the safe side; it is logged.
func (s *Service) Release(ctx context.Context, d *Draft) {
	s.undo(ctx, d.abuse)
	if d.limitKey == "" {
		return
	}
	if err := s.limiter.Undo(context.WithoutCancel(ctx), d.limitKey, d.reserved); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "otp send reservation not given back", slog.String("error", err.Error()))
	}
}

// MarkUndeliverable marks the code id of v undeliverable if it is still v's active code,
// and reports whether it changed v.
func MarkUndeliverable(v *ports.Verification, id string) bool {
	if v.Code.ID != id || v.Code.State != ports.CodeActive {
		return false
	}
	v.Code.State = ports.CodeUndeliverable
	return true
}

// Invalidate makes v's code unusable if it is active, and reports whether it changed v.
func Invalidate(v *ports.Verification) bool {
	if v.Code.State != ports.CodeActive {
		return false
	}
	v.Code.State = ports.CodeSuperseded
	return true
}

// ParseCode is the one format check of a code as a person typed it, used by every flow:
// surrounding white space is trimmed; what is left must be MinDigits to MaxDigits ASCII
// digits. It returns the trimmed code, or a KindInvalidInput error naming "$.code" (rule
// "required" or "format"); flows rename the entry to their own field with
// verifykit.RenameEntry. A malformed code never counts an attempt.
func ParseCode(code string) (string, error) {
	code = strings.TrimSpace(code)
	var v verifykit.Validation
	switch {
	case code == "":
		v.Add("$.code", "required", "is required")
	case !validCode(code):
		v.Add("$.code", "format", fmt.Sprintf("must be %d to %d digits", MinDigits, MaxDigits))
	}
	return code, v.Err()
}

// Check is one verification attempt of code on v at now: the rules of Verify, applied to a
// Verification the caller has locked (inside its record's Update), which it then stores as
// Check left it — also when Check answers an error, since a wrong code counts. In order:
// a malformed code (see ParseCode) changes nothing; a used-up failure budget answers
// KindRateLimited (ErrTooManyFailures); with no active, unexpired code the code's state
// answers (an active code found past its expiry becomes expired); a matching code becomes
// verified (used, at most once); a wrong one counts an attempt on the code and a failure on
// the budget, and blocks the code at its last attempt. Check itself decides nothing of the
// failure budget of the code's recipient (Config.RecipientFailureLimit), and reports
// nothing to the Observer: guard it with a CheckGuard, whose Done reports the check once
// it was stored (or call Settle after the write).
func (s *Service) Check(v *ports.Verification, code string, now time.Time) (VerifyResult, error) {
	return s.CheckBound(v, code, nil, now)
}

// CheckBound is Check of a code issued with a binding (IssueRequest.Binding): the code
// matches only when binding is the same bytes. A different binding is a wrong code: it
// counts an attempt. Check is CheckBound with no binding.
func (s *Service) CheckBound(v *ports.Verification, code string, binding []byte, now time.Time) (VerifyResult, error) {
	code, err := ParseCode(code)
	if err != nil {
		return VerifyResult{}, err
	}
	return s.matchParsed(v, code, binding, now)
}

// matchParsed is CheckBound of a code that ParseCode accepted.
func (s *Service) matchParsed(v *ports.Verification, code string, binding []byte, now time.Time) (VerifyResult, error) {
	return s.attempt(v, now, func(r ports.OTPRecord) bool {
		h := s.hasher(r.KeyID)
		if h == nil {
			return false // hashed with a secret that was retired: it cannot match
		}
		return h.matchesCode(r.Hash, r.ID, r.Purpose, r.Subject, code, binding)
	})
}

// CountFailure counts one failed attempt on v's code at now, as a wrong code would, for a
// check that failed beside the code (a wrong second factor, say), and answers as Check
// answers a wrong code: ErrWrongCode with the attempts left, ErrAttemptsExceeded when this
// attempt blocked the code, ErrExpired and the like when there is no active code (nothing
// is then counted), and KindRateLimited when the failure budget is used up.
func (s *Service) CountFailure(v *ports.Verification, now time.Time) (VerifyResult, error) {
	return s.countFailure(v, now)
}

// countFailure is CountFailure.
func (s *Service) countFailure(v *ports.Verification, now time.Time) (VerifyResult, error) {
	return s.attempt(v, now, func(ports.OTPRecord) bool { return false })
}

// Completed reports, in constant time, whether code is the code that was verified on v:
// a completing call repeated with its code (its first answer lost, say) can then answer
// the completed result instead of "already used". It changes nothing.
func (s *Service) Completed(v ports.Verification, code string) bool {
	return s.CompletedBound(v, code, nil)
}

// CompletedBound is Completed for a code issued with a binding: code and binding must both
// be those that verified.
func (s *Service) CompletedBound(v ports.Verification, code string, binding []byte) bool {
	code, err := ParseCode(code)
	if err != nil || v.Code.State != ports.CodeVerified {
		return false
	}
	h := s.hasher(v.Code.KeyID)
	return h != nil && h.matchesCode(v.Code.Hash, v.Code.ID, v.Code.Purpose, v.Code.Subject, code, binding)
}

// attempt applies one attempt with match to v at now.
func (s *Service) attempt(v *ports.Verification, now time.Time, match func(ports.OTPRecord) bool) (VerifyResult, error) {
	lim := s.cfg.FailureLimit
	// The budget is judged at the latest of now and the newest stored failure: a failure
	// counted by a concurrent call (or an instance whose clock is ahead) with a later time
	// than this call's now has happened, and must count against this attempt too, or
	// concurrent wrong guesses could pass the budget.
	at := now
	if n := len(v.Failures); n > 0 && v.Failures[n-1].After(at) {
		at = v.Failures[n-1]
	}
	s.dropStaleFailures(v, at)
	if d := ports.DecideRate(v.Failures, at, []ports.RateLimit{lim}); !d.Allowed {
		wait := d.RetryAfter + at.Sub(now)
		return VerifyResult{}, &verifykit.Error{
			Kind:       verifykit.KindRateLimited,
			Message:    "Too many failed verification attempts; try again in " + roundUp(wait) + ".",
			RetryAfter: wait,
			Err:        ErrTooManyFailures,
		}
	}
	if v.Code.ID == "" {
		return VerifyResult{}, verifyFailure(MsgInvalidCode, ErrNoActiveCode, 0)
	}
	verified, mismatch := false, false
	c := &v.Code
	switch {
	case c.State != ports.CodeActive:
	case !now.Before(c.ExpiresAt):
		c.State = ports.CodeExpired
	case match(*c):
		c.State, c.UsedAt, verified = ports.CodeVerified, now, true
	default:
		mismatch = true
		c.Attempts++
		if c.Attempts >= c.MaxAttempts {
			c.State = ports.CodeBlocked
		}
		// Clocks of several instances may disagree: keep the times in order.
		i, _ := slices.BinarySearchFunc(v.Failures, now, time.Time.Compare)
		v.Failures = slices.Insert(v.Failures, i, now)
	}
	v.KeepUntil = s.keepUntil(*v)
	res := VerifyResult{CodeID: c.ID, State: c.State, AttemptsLeft: max(c.MaxAttempts-c.Attempts, 0), Counted: mismatch}
	if c.State != ports.CodeActive {
		res.AttemptsLeft = 0
	}
	switch {
	case verified:
		return res, nil
	case mismatch && c.State == ports.CodeBlocked:
		return res, verifyFailure(MsgAttemptsExceeded, ErrAttemptsExceeded, 0)
	case mismatch:
		return res, verifyFailure(MsgInvalidCode, ErrWrongCode, res.AttemptsLeft)
	}
	switch c.State {
	case ports.CodeExpired:
		return res, verifyFailure(MsgExpired, ErrExpired, 0)
	case ports.CodeBlocked:
		return res, verifyFailure(MsgAttemptsExceeded, ErrAttemptsExceeded, 0)
	case ports.CodeVerified:
		return res, verifyFailure(MsgAlreadyUsed, ErrAlreadyUsed, 0)
	default:
		return res, verifyFailure(MsgInvalidCode, ErrNoActiveCode, 0)
	}
}

// dropStaleFailures drops the failures of v that no longer count at now: those at or
// before now minus the failure window.
func (s *Service) dropStaleFailures(v *ports.Verification, now time.Time) {
	from := now.Add(-s.cfg.FailureLimit.Per)
	v.Failures = slices.DeleteFunc(v.Failures, func(t time.Time) bool { return !t.After(from) })
}

// keepUntil is when v stops mattering: its code has expired and its last failure has left
// the failure window.
func (s *Service) keepUntil(v ports.Verification) time.Time {
	t := v.Code.ExpiresAt
	if n := len(v.Failures); n > 0 {
		if f := v.Failures[n-1].Add(s.cfg.FailureLimit.Per); f.After(t) {
			t = f
		}
	}
	return t
}

// sameVerification reports whether a and b hold the same state.
func sameVerification(a, b ports.Verification) bool {
	return a.Code.ID == b.Code.ID && a.Code.State == b.Code.State && a.Code.Attempts == b.Code.Attempts &&
		a.Code.UsedAt.Equal(b.Code.UsedAt) && a.KeepUntil.Equal(b.KeepUntil) &&
		slices.EqualFunc(a.Failures, b.Failures, time.Time.Equal)
}

func verifyFailure(msg string, cause error, attemptsLeft int) error {
	var why string
	switch cause {
	case ErrWrongCode:
		why = fmt.Sprintf("does not match; %d attempts left", attemptsLeft)
	case ErrExpired:
		why = "has expired; 0 attempts left"
	case ErrAttemptsExceeded:
		why = "is blocked after too many wrong attempts; 0 attempts left"
	case ErrAlreadyUsed:
		why = "was already used; 0 attempts left"
	default:
		why = "has no active code to match; 0 attempts left"
	}
	return &verifykit.Error{
		Kind:    verifykit.KindInvalidInput,
		Message: msg,
		Invalid: []verifykit.InvalidEntry{{
			Entry:       "$.code",
			EntryType:   verifykit.EntryJSONProperty,
			Rule:        "verification",
			Description: why,
		}},
		Err: cause,
	}
}
