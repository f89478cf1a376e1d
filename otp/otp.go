// Package otp is the one-time-code engine every verifykit flow uses.
//
// Codes are drawn uniformly from crypto/rand, stored only as HMAC-SHA256 hashes (keyed by
// a server secret that can rotate), compared in constant time, never logged, and used at
// most once. A new code for a purpose and subject supersedes the older ones in the same
// atomic step. Wrong attempts are counted atomically per code and per subject; sends are
// limited per recipient; SMS delivery retries transient failures with exponential backoff
// and jitter, with one idempotency key for all tries of a message.
//
// The state of a subject's codes is a ports.Verification, changed only by this package's
// rules (Put, Check, CountFailure, Invalidate, MarkUndeliverable). Standalone codes (Issue,
// Verify) keep it in the OTPStore, one atomic Update per call. A flow whose code confirms a
// record of its own keeps the Verification inside that record and calls the rules within
// the record's Update, so the code and the record change together (see Draw), and guards
// each check with a CheckGuard, which keeps the failure budget of the code's recipient.
//
// A standalone code is consumed exactly once (RULES §E): repeating a Verify that succeeded
// answers ErrAlreadyUsed. Completing calls that must be repeatable (approve, validate) keep
// their code in their record and recognise a repeat with Completed.
//
// # Abuse controls and compliance
//
// Phone recipients are parsed (ports.ParsePhone) and judged before anything is stored or
// sent: regions and number types (Config.Phones), send budgets per calling code and a
// conversion watch per prefix (Config.Pumping), a failure budget per recipient
// (Config.RecipientFailureLimit), distinct subjects per recipient
// (Config.MaxSubjectsPerRecipient); test recipients get fixed codes without a message until
// their date (Config.TestRecipients). Every control but test mode is on in DefaultConfig:
// number types (DefaultRefusedTypes), the pumping guard (DefaultPumpingGuard: 5,000 sends an
// hour and 50,000 a day per calling code, and prefixes of 6 digits paused for an hour when
// fewer than 5 of 100 sampled codes were verified), 100 wrong codes a day per recipient, and
// 10 subjects per recipient (DefaultMaxSubjectsPerRecipient). Each is switched off on its
// own: Pumping.CallingCodeLimits = nil, Pumping.PrefixDigits = 0 (or Pumping =
// PumpingGuard{} for both), RecipientFailureLimit = ports.RateLimit{},
// MaxSubjectsPerRecipient = 0. Config.Check(NIST80063B4()) and
// Config.Check(ASVSLevel2()) list every setting that falls short. What each requirement
// asks, the setting (or construction) that meets it, and the test that proves it:
//
//	Requirement                                 Setting or construction               Test
//	SP 800-63B-4 §3.1.3, ASVS 6.5.4: 20 bits    Digits >= 6                           TestPresetsCatchEveryWeakSetting
//	SP 800-63B-4 §3.1.3, ASVS 6.5.5: 10 min     TTL <= 10m                            TestPresetsCatchEveryWeakSetting, TestExpiryBoundary
//	SP 800-63B-4 §3.1.3, ASVS 6.5.1: once       a verified code is used (by design)   TestConcurrentRightCodeSucceedsOnce
//	ASVS 6.5.3: CSPRNG, no fixed codes          crypto/rand; TestRecipients empty     TestCodesAreUniform, TestTestRecipients
//	ASVS 6.6.2: bound to the request            HMAC over id, purpose, subject        TestNewCodeSupersedesOlderOfSameSubjectOnly
//	PSD2 dynamic linking, ASVS 6.6.2: bound     IssueRequest.Binding in the HMAC      TestBoundCodes, TestCodeApprovesOnlyTheVersionItWasSentFor
//	  to what it confirms
//	SP 800-63B-4 §3.2.2, ASVS 6.3.1: <= 100     FailureLimit.Max <= 100               TestFailureBudgetBlocksVerification
//	  consecutive failures                      RecipientFailureLimit.Max <= 100      TestRecipientFailureBudget, TestSettleCountsFlowFailures,
//	                                                                                  TestRecipientFailureBudgetAtVerify,
//	                                                                                  TestConcurrentWrongGuessesNeverPassTheRecipientBudget,
//	                                                                                  TestConcurrentWrongCodesAcrossPersonRequestsKeepThePhoneBudget,
//	                                                                                  TestConcurrentWrongAttemptsAcrossProcessesKeepThePhoneBudget,
//	                                                                                  TestApprovalRefusedOnceThePhoneBudgetIsUsedUp
//	ASVS 6.6.3: brute force limited             MaxAttempts <= 10, SendLimits,        TestSendLimits, TestSubjectsPerRecipient,
//	                                            MaxSubjectsPerRecipient >= 1          TestDefaultSubjectsCap
//	SP 800-63B-4 §3.1.3.3, ASVS 6.6.1: no VoIP  Phones.RefusedTypes has VOIP          TestPhoneRules
//	SMS pumping (cost)                          Pumping, Phones.AllowedRegions        TestPumpingGuardPausesAPrefix, TestCallingCodeBudget,
//	                                                                                  TestConcurrentSendsKeepTheBudget,
//	                                                                                  TestDefaultPumpingGuardPausesAScriptedAttack,
//	                                                                                  TestDefaultCallingCodeBudgetStopsAFlood
//
// The recipient's failure budget holds for flows that keep codes in their own records too
// (person requests, OTP identification processes), whose checks a CheckGuard decides before
// their write. The PostgreSQL adapter runs the same controls across two instances
// (adapters/postgres/abuse_test.go).
package otp

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/sethvargo/go-retry"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/internal/depcheck"
	"github.com/verifykit/verifykit/internal/storefail"
	"github.com/verifykit/verifykit/ports"
)

// Causes of verification failures, reachable with errors.Is from the *verifykit.Error that
// Verify returns.
var (
	// ErrWrongCode: the code does not match; VerifyResult.AttemptsLeft says how many
	// attempts the code has left.
	ErrWrongCode = errors.New("otp: wrong code")
	// ErrExpired: the code's time ran out.
	ErrExpired = errors.New("otp: code expired")
	// ErrAttemptsExceeded: the code is blocked after too many wrong attempts.
	ErrAttemptsExceeded = errors.New("otp: maximum attempts exceeded")
	// ErrAlreadyUsed: the code was verified before; a code is used at most once.
	ErrAlreadyUsed = errors.New("otp: code already used")
	// ErrNoActiveCode: there is no code to check (none issued, superseded, invalidated or
	// undeliverable).
	ErrNoActiveCode = errors.New("otp: no active code")
	// ErrTooManyFailures: the subject used up its failure budget.
	ErrTooManyFailures = errors.New("otp: too many failed attempts")
	// ErrUndeliverable: the code could not be delivered.
	ErrUndeliverable = errors.New("otp: code could not be delivered")
)

// Messages of verification failures, those of the eHealth verification service where it
// has one.
const (
	MsgInvalidCode      = "Invalid verification code"
	MsgExpired          = "Verification code expired"
	MsgAttemptsExceeded = "Maximum attempts exceed"
	MsgAlreadyUsed      = "Verification code already used"
)

// Deps are what the engine needs from the outside.
type Deps struct {
	// Store keeps the Verifications of standalone codes (Issue, Verify). Required.
	Store ports.OTPStore
	// SMS delivers codes sent by Issue without a Send function of their own. Required by
	// Issue only.
	SMS ports.Sender
	// Limiter counts sends. Required.
	Limiter ports.RateLimiter
	// Clock tells the time. Default: the system clock.
	Clock ports.Clock
	// Logger receives structured events (never codes). Default: discard.
	Logger *slog.Logger
	// Observer is told of every use case, every call to the ports above and every code
	// issued, verified or failed (adapters/otel: traces and metrics). Default: none
	// (ports.NopObserver).
	Observer ports.Observer
}

// Service issues and verifies one-time codes. It is safe for concurrent use.
type Service struct {
	store   ports.OTPStore
	sms     ports.Sender
	limiter ports.RateLimiter
	clock   ports.Clock
	log     *slog.Logger
	cfg     Config
	hashers []*hasher
	tests   []testRecipient
	obs     ports.Observer
	phones  *phoneCache
	msgs    *messages
	limits  abuseLimits
}

// NewService checks deps and cfg and returns a Service.
func NewService(deps Deps, cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var missing depcheck.Check
	missing.Require("Store", deps.Store == nil)
	missing.Require("Limiter", deps.Limiter == nil)
	if err := missing.Err(); err != nil {
		return nil, err
	}
	deps.Clock, deps.Logger = depcheck.ClockOr(deps.Clock), depcheck.LoggerOr(deps.Logger)
	deps = deps.observed()
	s := &Service{store: deps.Store, sms: deps.SMS, limiter: deps.Limiter, clock: deps.Clock, log: deps.Logger, cfg: cfg, phones: &phoneCache{}}
	s.obs = deps.Observer
	s.cfg.SendLimits = append([]ports.RateLimit(nil), cfg.SendLimits...)
	s.cfg.Phones = PhoneRules{
		AllowedRegions: slices.Clone(cfg.Phones.AllowedRegions),
		BlockedRegions: slices.Clone(cfg.Phones.BlockedRegions),
		RefusedTypes:   slices.Clone(cfg.Phones.RefusedTypes),
	}
	s.cfg.Pumping.CallingCodeLimits = slices.Clone(cfg.Pumping.CallingCodeLimits)
	s.cfg.TestRecipients = slices.Clone(cfg.TestRecipients)
	s.cfg.Templates = cloneTemplates(cfg.Templates)
	s.limits = newAbuseLimits(s.cfg)
	s.msgs = newMessages(s.cfg, func(string, string, string) {}) // Validate reported its problems
	for _, secret := range cfg.Secrets {
		s.hashers = append(s.hashers, newHasher(secret))
	}
	for _, tr := range cfg.TestRecipients {
		p, _ := ports.ParsePhone(tr.Phone) // Validate parsed it
		s.tests = append(s.tests, testRecipient{phone: p.E164, code: tr.Code, until: tr.Until})
	}
	s.warnTestMode(s.clock.Now())
	return s, nil
}

// SendsSMS reports whether the engine has an SMS sender (Deps.SMS), so that a flow can
// refuse SMS delivery up front, before it changes anything, when there is none.
func (s *Service) SendsSMS() bool { return s.sms != nil }

// Config returns the service's configuration, without its secrets (nor the fixed codes of
// its test recipients).
func (s *Service) Config() Config {
	c := s.cfg
	c.Secrets = nil
	c.SendLimits = append([]ports.RateLimit(nil), s.cfg.SendLimits...)
	c.Phones = PhoneRules{
		AllowedRegions: slices.Clone(s.cfg.Phones.AllowedRegions),
		BlockedRegions: slices.Clone(s.cfg.Phones.BlockedRegions),
		RefusedTypes:   slices.Clone(s.cfg.Phones.RefusedTypes),
	}
	c.Pumping.CallingCodeLimits = slices.Clone(s.cfg.Pumping.CallingCodeLimits)
	c.TestRecipients = slices.Clone(s.cfg.TestRecipients)
	c.Templates = cloneTemplates(s.cfg.Templates)
	for i := range c.TestRecipients {
		c.TestRecipients[i].Code = "" // fixed codes are secrets too
	}
	return c
}

// IssueRequest asks for a new code.
type IssueRequest struct {
	// Purpose names what the code confirms, e.g. "person_request". Required.
	Purpose string
	// Subject is what the code is about, e.g. a request id. Required.
	Subject string
	// Recipient is where the code goes (a phone number for SMS). Send limits are counted
	// per recipient. Required by Issue; optional for IssueExternal, whose limits are then
	// counted per purpose and subject.
	Recipient string
	// TTL overrides Config.TTL for this code when positive.
	TTL time.Duration
	// MaxAttempts overrides Config.MaxAttempts for this code when positive.
	MaxAttempts int
	// Digits overrides Config.Digits for this code when positive.
	Digits int
	// Send delivers the message instead of Deps.SMS, e.g. an e-mail sender's method. It
	// gets the same retries: wrap ports.ErrPermanent for failures retrying cannot fix.
	Send func(ctx context.Context, msg ports.Message) error
	// Message overrides Config.Message and Config.Templates for this code.
	Message func(code string, ttl time.Duration) string
	// Locale is the person's language (a BCP 47 tag such as "uk-UA"), which chooses the
	// template (Config.Templates): the locale, then its shorter forms ("uk"), then
	// Templates.DefaultLocale. Ignored without templates.
	Locale string
	// Details are the values the code confirms, shown by the template
	// (MessageData.Details), e.g. {"amount": "100.00 EUR", "payee": "ACME"}: what Binding
	// holds, written for the person. They are never stored.
	Details map[string]string
	// Binding, when not empty, binds the code to what it confirms (PSD2 dynamic linking,
	// OWASP ASVS 6.6.2): any canonical bytes, e.g. "amount=100.00 EUR;payee=ACME", folded
	// into the code's HMAC. Verify (and CheckBound) must present the same bytes, or the code
	// does not match and the attempt counts. Only the hash is stored.
	Binding []byte
	// Channel names the channel Send (or Deps.SMS) delivers through, reported by
	// Issued.Channel and Draft.Channel. Default: "sms".
	Channel string
	// Fallback are the channels to try next, in order, when delivery on the one before
	// fails permanently (ports.ErrPermanent): the same message with the same code goes out
	// on the next, its lifetime unchanged. Send limits and phone rules apply to Recipient
	// only. Default: none.
	Fallback []Channel
}

// Channel is one delivery channel of a code: its name, where it delivers and how.
type Channel struct {
	// Name names the channel, e.g. "whatsapp" or "email". Required.
	Name string
	// Recipient is the address on this channel: a phone number (written in E.164 form
	// when it parses as one) or an e-mail address. Required.
	Recipient string
	// Send delivers the message on this channel, with the retries of the first one.
	// Required.
	Send func(ctx context.Context, msg ports.Message) error
}

// DefaultChannel is the name of the channel of an IssueRequest that names none.
const DefaultChannel = "sms"

// Issued describes a code that was issued.
type Issued struct {
	// ID identifies the code; it was the delivery idempotency key.
	ID string
	// ExpiresAt is when the code stops being valid.
	ExpiresAt time.Time
	// Superseded is how many older codes of the purpose and subject it invalidated.
	Superseded int
	// Code is the code itself, set by IssueExternal only: the caller delivers it, once.
	Code string
	// Channel names the channel that delivered the code (IssueRequest.Channel or one of
	// its Fallback); empty for IssueExternal.
	Channel string
}

const maxKeyLen = 256

func (s *Service) checkIssue(req IssueRequest, needRecipient bool) error {
	var v verifykit.Validation
	checkKey(&v, "$.purpose", req.Purpose)
	checkKey(&v, "$.subject", req.Subject)
	if needRecipient {
		v.Required("$.recipient", req.Recipient)
	}
	if len(req.Recipient) > maxKeyLen {
		v.Add("$.recipient", "length", fmt.Sprintf("must be at most %d characters", maxKeyLen))
	}
	if req.TTL < 0 {
		v.Add("$.ttl", "positive", "must not be negative")
	}
	if req.MaxAttempts < 0 {
		v.Add("$.max_attempts", "positive", "must not be negative")
	}
	if req.Digits != 0 && (req.Digits < MinDigits || req.Digits > MaxDigits) {
		v.Add("$.digits", "range", fmt.Sprintf("must be from %d to %d", MinDigits, MaxDigits))
	}
	if needRecipient && req.Send == nil && s.sms == nil {
		v.Add("$.send", "required", "no SMS sender is configured and the request names no Send function")
	}
	for i, ch := range req.Fallback {
		at := fmt.Sprintf("$.fallback[%d]", i)
		checkKey(&v, at+".name", ch.Name)
		checkKey(&v, at+".recipient", ch.Recipient)
		if ch.Send == nil {
			v.Add(at+".send", "required", "is required")
		}
	}
	return v.Err()
}

func checkKey(v *verifykit.Validation, name, value string) {
	v.Required(name, value)
	if len(value) > maxKeyLen {
		v.Add(name, "length", fmt.Sprintf("must be at most %d characters", maxKeyLen))
	}
}

// Issue creates a code for the purpose and subject, supersedes the older one in the same
// atomic write, and then sends it to the recipient, retrying transient failures. If
// delivery fails for good the code is marked undeliverable and a KindUnavailable error is
// returned; the older code stays invalid. Too many sends to the recipient answer
// KindRateLimited with RetryAfter, and change nothing.
//
// Issue is the standalone form of Draw, Put and Send: flows whose code lives in the record
// it confirms call those three themselves, around their own store's Update.
func (s *Service) Issue(ctx context.Context, req IssueRequest) (_ Issued, err error) {
	ctx, end := s.start(ctx, "Issue")
	defer func() { end(err) }()
	d, err := s.Draw(ctx, req)
	if err != nil {
		return Issued{}, err
	}
	issued, err := s.storeDraft(ctx, d)
	if err != nil {
		return Issued{}, err
	}
	if err := s.Send(ctx, d); err != nil {
		_, markErr := s.store.Update(context.WithoutCancel(ctx), req.Purpose, req.Subject, func(v *ports.Verification) error {
			if !MarkUndeliverable(v, d.ID()) {
				return errUnchanged
			}
			if ports.KeepsEvents(s.store) {
				v.Outbox = append(v.Outbox, undeliverableStandalone(req.Purpose, d.ID(), s.clock.Now()))
			}
			return nil
		})
		if markErr != nil && !errors.Is(markErr, errUnchanged) {
			err.(*verifykit.Error).Err = errors.Join(err.(*verifykit.Error).Err, markErr)
		}
		return Issued{}, err
	}
	issued.Channel = d.Channel()
	if s.log.Enabled(ctx, slog.LevelInfo) {
		s.log.LogAttrs(ctx, slog.LevelInfo, "otp issued",
			slog.String("purpose", req.Purpose), slog.String("subject", req.Subject),
			slog.String("code_id", issued.ID), slog.Int("superseded", issued.Superseded),
			slog.String("recipient", ports.MaskRecipient(req.Recipient)))
	}
	return issued, nil
}

// IssueExternal creates a code like Issue but does not send it: it returns it once in
// Issued.Code, for channels the host delivers itself. The store keeps only its hash.
func (s *Service) IssueExternal(ctx context.Context, req IssueRequest) (_ Issued, err error) {
	ctx, end := s.start(ctx, "IssueExternal")
	defer func() { s.issued(ctx, req.Purpose, err); end(err) }()
	d, err := s.DrawExternal(ctx, req)
	if err != nil {
		return Issued{}, err
	}
	issued, err := s.storeDraft(ctx, d)
	if err != nil {
		return Issued{}, err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "otp issued for external delivery",
		slog.String("purpose", req.Purpose), slog.String("subject", req.Subject),
		slog.String("code_id", issued.ID), slog.Int("superseded", issued.Superseded))
	issued.Code = d.Code()
	return issued, nil
}

// storeDraft puts d into the standalone Verification of its purpose and subject; if that
// fails, the send d reserved is given back.
func (s *Service) storeDraft(ctx context.Context, d *Draft) (Issued, error) {
	superseded := 0
	_, err := s.store.Update(ctx, d.rec.Purpose, d.rec.Subject, func(v *ports.Verification) error {
		superseded = s.Put(v, d)
		if ports.KeepsEvents(s.store) { // no event is built for a store that drops it
			v.Outbox = append(v.Outbox, issuedStandalone(d))
		}
		return nil
	})
	if err != nil {
		s.Release(ctx, d)
		return Issued{}, unavailable("storing the code", err)
	}
	return Issued{ID: d.ID(), ExpiresAt: d.ExpiresAt(), Superseded: superseded}, nil
}

// errUnchanged makes a store Update write nothing: the step had nothing to change.
var errUnchanged = errors.New("otp: nothing to change")

// CheckSendLimit answers, without recording anything, the KindRateLimited error that
// Issue (or Draw) would answer for recipient now, or nil.
func (s *Service) CheckSendLimit(ctx context.Context, recipient string) (err error) {
	ctx, end := s.start(ctx, "CheckSendLimit")
	defer func() { end(err) }()
	var v verifykit.Validation
	checkKey(&v, "$.recipient", recipient)
	if err := v.Err(); err != nil {
		return err
	}
	if p, err := s.phones.parse(recipient); err == nil {
		recipient = p.E164 // the key Draw counts the number's sends under
	}
	return s.sendLimit(ctx, s.sendLimitKey(recipient), s.clock.Now(), s.limiter.Peek)
}

// sendLimit applies the send limits to the limiter key with decide (the limiter's Allow or
// Peek).
func (s *Service) sendLimit(ctx context.Context, key string, now time.Time,
	decide func(context.Context, string, time.Time, ...ports.RateLimit) (ports.RateDecision, error)) error {
	if len(s.cfg.SendLimits) == 0 {
		return nil
	}
	d, err := decide(ctx, key, now, s.cfg.SendLimits...)
	if err != nil {
		return unavailable("send limits", err)
	}
	if !d.Allowed {
		return tooManySends(d.RetryAfter)
	}
	return nil
}

// tooManySends is the answer when the send limits of a recipient are used up.
func tooManySends(wait time.Duration) error {
	return rateLimited("Too many verification codes were sent to this recipient", wait, nil)
}

// sendLimitKey is the limiter key of the send limits of a recipient (recipientKeys).
func (s *Service) sendLimitKey(recipient string) string {
	key, _ := s.recipientKeys(recipient)
	return key
}

// sendKeyPrefix is the prefix of the send-limit keys of the limiter.
const sendKeyPrefix = "otp:send:"

// limitKey is a limiter key: prefix and a keyed hash of the parts, so that shared limiter
// storage never holds phone numbers, e-mail addresses or subjects. The hash uses the first
// secret: rotating it starts every limit afresh.
func (s *Service) limitKey(prefix string, parts ...string) string {
	var buf [16 + 32]byte
	b := append(buf[:0], prefix...)
	st := s.hashers[0].compute(parts)
	b = hex.AppendEncode(b, st.out[:16])
	s.hashers[0].pool.Put(st)
	return string(b)
}

// hasher returns the hasher of the secret whose fingerprint is id, or nil.
func (s *Service) hasher(id int) *hasher {
	for _, h := range s.hashers {
		if h.id == id {
			return h
		}
	}
	return nil
}

// deliveryError carries a sender's failure without its text, which may name the recipient
// or quote the message (and so the code): errors.Is and errors.As still reach the cause.
type deliveryError struct{ err error }

func (e deliveryError) Error() string {
	if errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded) {
		return "delivery interrupted"
	}
	if errors.Is(e.err, ports.ErrPermanent) {
		return "delivery failed permanently"
	}
	return "delivery failed (transient)"
}

func (e deliveryError) Unwrap() error { return e.err }

// ttl is the lifetime of the code req asks for.
func (s *Service) ttl(req IssueRequest) time.Duration {
	if req.TTL > 0 {
		return req.TTL
	}
	return s.cfg.TTL
}

func (s *Service) deliver(ctx context.Context, send func(context.Context, ports.Message) error, msg ports.Message) error {
	// The first try needs no backoff: build one only when it fails transiently.
	err := send(ctx, msg)
	if err == nil || errors.Is(err, ports.ErrPermanent) || s.cfg.Delivery.MaxRetries == 0 {
		return err
	}
	d := s.cfg.Delivery
	b := retry.NewExponential(d.BaseDelay)
	b = retry.WithCappedDuration(d.MaxDelay, b)
	if d.JitterPercent > 0 {
		b = retry.WithJitterPercent(d.JitterPercent, b)
	}
	b = retry.WithMaxRetries(d.MaxRetries, b)
	tried := false
	return retry.Do(ctx, b, func(ctx context.Context) error {
		if !tried { // the first try was made above: go straight to the first backoff
			tried = true
			return retry.RetryableError(err)
		}
		err := send(ctx, msg)
		if err == nil || errors.Is(err, ports.ErrPermanent) {
			return err
		}
		return retry.RetryableError(err)
	})
}

// VerifyRequest asks to check a code.
type VerifyRequest struct {
	// Purpose and Subject name the code, as when it was issued. Required.
	Purpose string
	Subject string
	// Code is what the person typed: MinDigits to MaxDigits digits. Required.
	Code string
	// Binding is what the code confirms, byte for byte as IssueRequest.Binding: a code
	// issued with a binding matches only with the same one (a code issued without, only
	// without).
	Binding []byte
}

// VerifyResult describes the code checked.
type VerifyResult struct {
	// CodeID identifies the latest code of the purpose and subject, if there is one.
	CodeID string
	// State is that code's state after the attempt.
	State ports.CodeState
	// AttemptsLeft is how many wrong attempts that code still allows.
	AttemptsLeft int
	// Counted is true when this attempt was counted as a failed attempt of the code (and
	// of the subject's budget): a wrong code for an active code. Attempts on a code that
	// is already blocked, expired or used are refused without being counted.
	Counted bool
}

// Verify checks code against the latest code of the purpose and subject, in one atomic
// write of their Verification (see Check). Only the latest code counts; it is used at most
// once, even under concurrent calls. A wrong code counts an attempt and a failure against
// the subject's budget (FailureLimit) and, for a code sent to a recipient, against the
// recipient's (RecipientFailureLimit), across every code sent to it: the recipient's budget
// is decided before the attempt, so no number of concurrent wrong guesses passes either
// budget. Failures answer KindInvalidInput with the eHealth messages, and a cause for
// errors.Is (ErrWrongCode, ErrExpired, ErrAttemptsExceeded, ErrAlreadyUsed,
// ErrNoActiveCode); a used-up failure budget, the subject's or the recipient's, answers
// KindRateLimited (ErrTooManyFailures) with RetryAfter, right code or not, and changes
// nothing.
func (s *Service) Verify(ctx context.Context, req VerifyRequest) (_ VerifyResult, err error) {
	ctx, end := s.start(ctx, "Verify")
	defer func() { end(err) }()
	var v verifykit.Validation
	checkKey(&v, "$.purpose", req.Purpose)
	checkKey(&v, "$.subject", req.Subject)
	code, err := ParseCode(req.Code)
	if err != nil {
		for _, e := range err.(*verifykit.Error).Invalid {
			v.AddEntry(e)
		}
	}
	if err := v.Err(); err != nil {
		return VerifyResult{}, err
	}
	res, err := s.attemptStored(ctx, req.Purpose, req.Subject, func(v *ports.Verification, now time.Time) (VerifyResult, error) {
		return s.matchParsed(v, code, req.Binding, now) // parsed above: once is enough
	})
	if err == nil && s.log.Enabled(ctx, slog.LevelInfo) {
		s.log.LogAttrs(ctx, slog.LevelInfo, "otp verified",
			slog.String("purpose", req.Purpose), slog.String("subject", req.Subject), slog.String("code_id", res.CodeID))
	}
	return res, err
}

// RecordFailure counts one failed attempt on the latest code of the purpose and subject,
// as a wrong code would, for a check that failed beside the code (a wrong second factor,
// say); see CountFailure.
func (s *Service) RecordFailure(ctx context.Context, purpose, subject string) (_ VerifyResult, err error) {
	ctx, end := s.start(ctx, "RecordFailure")
	defer func() { end(err) }()
	var v verifykit.Validation
	checkKey(&v, "$.purpose", purpose)
	checkKey(&v, "$.subject", subject)
	if err := v.Err(); err != nil {
		return VerifyResult{}, err
	}
	return s.attemptStored(ctx, purpose, subject, s.countFailure)
}

// attemptStored runs one attempt on the standalone Verification of the purpose and subject
// in one Update: what the attempt changed (an attempt counted, a code used, expired or
// blocked) is stored even when the attempt fails. attempt reports nothing to the Observer:
// attemptStored reports the attempt that was stored, once.
//
// When the code's recipient has a failure budget (Config.RecipientFailureLimit), the
// budget is decided before the attempt is stored, so that it holds however many attempts
// run at once, on however many codes sent to that recipient: a wrong guess first reserves
// a failure of the budget (Allow), any other attempt first finds the budget not used up
// (Peek). An attempt whose code's budget was not decided yet writes nothing
// (errDecideBudget); the budget is decided, and the attempt runs again. When the budget is
// used up the attempt is refused (KindRateLimited, ErrTooManyFailures) and changes
// nothing; a reserved failure that the stored attempt did not count is given back.
func (s *Service) attemptStored(ctx context.Context, purpose, subject string,
	attempt func(*ports.Verification, time.Time) (VerifyResult, error)) (VerifyResult, error) {
	now := s.clock.Now()
	// What the Update's callback sets, in one value (one allocation, however many fields).
	var st struct {
		res      VerifyResult
		result   error
		ran      bool           // an attempt was stored, or found to change nothing
		budget   budgetDecision // what was decided of the recipient's failure budget
		need     string         // the budget key the last pass found undecided
		counted  bool           // whether that pass's attempt counted a failure
		finalKey string         // the budget key of the code the stored attempt was on
	}
	fn := func(v *ports.Verification) error {
		if v.IsZero() {
			return ports.ErrNoCode
		}
		// What sameVerification compares, copied: the failures only (the attempt may move
		// them in place), not the hash, which no attempt changes.
		before := *v
		before.Failures = slices.Clone(v.Failures)
		st.res, st.result = attempt(v, now)
		key := s.recipientFailKey(v.Code.ID)
		if !st.budget.covers(key, st.res.Counted) {
			st.need, st.counted = key, st.res.Counted
			return errDecideBudget
		}
		st.finalKey, st.ran = key, true
		if sameVerification(before, *v) {
			return errUnchanged
		}
		if ports.KeepsEvents(s.store) {
			v.Outbox = append(v.Outbox, checkedStandalone(st.res, st.result, purpose, now))
		}
		return nil
	}
	var (
		after ports.Verification
		err   error
	)
	for pass := 1; ; pass++ {
		if st.need != "" {
			if pass > maxBudgetPasses {
				err = unavailable("verifying the code", errCodeKeptChanging)
			} else if err = s.decideBudget(ctx, &st.budget, st.need, st.counted, now); err != nil {
				s.refusedByRecipientBudget(ctx, purpose, err)
			}
			if err != nil {
				s.giveBackBudget(ctx, st.budget, now)
				return VerifyResult{}, err
			}
		}
		if after, err = s.store.Update(ctx, purpose, subject, fn); !errors.Is(err, errDecideBudget) {
			break
		}
	}
	if st.budget.held != "" && (err != nil || !st.res.Counted || st.finalKey != st.budget.held) {
		s.giveBackBudget(ctx, st.budget, now) // reserved for an attempt that did not count it
	}
	res, result := st.res, st.result
	switch {
	case errors.Is(err, ports.ErrNoCode):
		return VerifyResult{}, verifyFailure(MsgInvalidCode, ErrNoActiveCode, 0)
	case err != nil && !errors.Is(err, errUnchanged):
		return VerifyResult{}, unavailable("verifying the code", err)
	case err == nil:
		s.settle(ctx, after, res, result, false) // the failure, if any, was reserved above
	}
	if st.ran {
		s.checkedPurpose(purpose, result)
	}
	if res.Counted {
		s.log.LogAttrs(ctx, slog.LevelInfo, "otp mismatch",
			slog.String("purpose", purpose), slog.String("subject", subject), slog.String("code_id", res.CodeID),
			slog.Int("attempts_left", res.AttemptsLeft))
	}
	return res, result
}

// Invalidate makes the active code of the purpose and subject unusable, and returns how
// many codes it invalidated (0 or 1).
func (s *Service) Invalidate(ctx context.Context, purpose, subject string) (_ int, result error) {
	ctx, end := s.start(ctx, "Invalidate")
	defer func() { end(result) }()
	var v verifykit.Validation
	checkKey(&v, "$.purpose", purpose)
	checkKey(&v, "$.subject", subject)
	if err := v.Err(); err != nil {
		return 0, err
	}
	_, err := s.store.Update(ctx, purpose, subject, func(v *ports.Verification) error {
		if !Invalidate(v) {
			return errUnchanged
		}
		return nil
	})
	switch {
	case err == nil:
		return 1, nil
	case errors.Is(err, errUnchanged):
		return 0, nil
	}
	return 0, unavailable("invalidating codes", err)
}

// Codes returns the standalone Verification of the purpose and subject: its latest code
// (never the code itself, only its hash) and the failures that still count; ports.ErrNoCode
// (wrapped in a KindNotFound error) when there is none.
func (s *Service) Codes(ctx context.Context, purpose, subject string) (_ ports.Verification, err error) {
	ctx, end := s.start(ctx, "Codes")
	defer func() { end(err) }()
	v, err := s.store.Get(ctx, purpose, subject)
	if errors.Is(err, ports.ErrNoCode) {
		return v, verifykit.Wrap(verifykit.KindNotFound, "No one-time code was issued for this purpose and subject.", err)
	}
	if err != nil {
		return v, unavailable("reading codes", err)
	}
	return v, nil
}

// Sweep deletes up to batch standalone Verifications that stopped mattering (their code has
// expired and no failure counts any more: ports.Verification.KeepUntil), and returns how
// many it deleted. Hosts with a shared store call it periodically; the memory store also
// purges on its own.
func (s *Service) Sweep(ctx context.Context, batch int) (_ int, err error) {
	ctx, end := s.start(ctx, "Sweep")
	defer func() { end(err) }()
	if batch < 1 {
		return 0, verifykit.Invalid("Validation failed.", verifykit.InvalidEntry{Entry: "batch", EntryType: verifykit.EntryConfig, Rule: "positive", Description: "must be at least 1"})
	}
	n, err := s.store.PurgeExpired(ctx, s.clock.Now(), batch)
	if err != nil {
		return n, unavailable("purging codes", err)
	}
	return n, nil
}

func unavailable(what string, err error) error {
	return storefail.Wrap("One-time codes are unavailable ("+what+"); try again later.", err)
}

// roundUp renders d in whole seconds, rounded up, e.g. "25s".
func roundUp(d time.Duration) string {
	return fmt.Sprintf("%ds", int64(math.Ceil(d.Seconds())))
}
