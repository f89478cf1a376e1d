package otpprocess

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/internal/authz"
	"github.com/verifykit/verifykit/internal/depcheck"
	"github.com/verifykit/verifykit/internal/storefail"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// State is the life-cycle state of an OTP identification process: ports.ProcessState,
// whose doc has the diagram. Only CREATED processes can be resent, cancelled, validated or
// deleted without force; the other states are final.
type State = ports.ProcessState

// The states of an OTP identification process.
const (
	StateCreated   = ports.ProcessStateCreated
	StateValidated = ports.ProcessStateValidated
	StateCancelled = ports.ProcessStateCancelled
	StateExpired   = ports.ProcessStateExpired
	StateBlocked   = ports.ProcessStateBlocked
)

// ChannelType is how the one-time code reaches the actor.
type ChannelType = ports.ProcessChannelType

// The channels of a process.
const (
	ChannelSMS      = ports.ProcessChannelSMS
	ChannelEmail    = ports.ProcessChannelEmail
	ChannelWhatsApp = ports.ProcessChannelWhatsApp
)

// Channel says how the code is delivered. With External set, the SDK does not send the
// code: Create and Resend return it once, and the organisation delivers it itself.
type Channel = ports.ProcessChannel

// TwoFactorType is the second factor an actor gives with the code; empty for none. The
// constants' docs (ports.ProcessTwoFactorDocumentNumber, ...) say how each is checked.
type TwoFactorType = ports.ProcessTwoFactorType

// The second factors of a process.
const (
	TwoFactorDocumentNumber = ports.ProcessTwoFactorDocumentNumber
	TwoFactorEmail          = ports.ProcessTwoFactorEmail
	TwoFactorDocumentImage  = ports.ProcessTwoFactorDocumentImage
)

// IdentityDocument is an identity document of the actor.
type IdentityDocument = ports.ProcessDocument

// Actor is the person an OTP identification process identifies. Its phone number
// (Actor.MSISDN) is a ports.ProcessPhone.
type Actor = ports.ProcessActor

// Process is an OTP identification process as its organisation sees it. It never holds
// the code. The use cases answer it with the State at the time of the answer: a CREATED
// process past ExpiresAt is reported EXPIRED even before that is stored.
type Process = ports.Process

// Defaults of Config.
const (
	// DefaultAdminScope is the scope the organisation's use cases (create, resend,
	// cancel, delete, get, list) need.
	DefaultAdminScope = "otp_identification:admin"
	// DefaultActorScope is the scope the actor's use cases (metadata, validate) need.
	DefaultActorScope = "otp_identification:actor"
	// DefaultForceDeletePermission is the permission a token needs to delete a process
	// that is not CREATED (with force=true).
	DefaultForceDeletePermission = "OTP_IDENTIFICATION_FORCE_DELETE"
	// DefaultCodePurpose is the otp purpose of the codes of processes; the process
	// id is their subject.
	DefaultCodePurpose = "otp_identification"
)

// Config sets the rules of Service. Start from DefaultConfig: every field is checked by
// NewService.
type Config struct {
	// AdminScopes are the scopes create, resend, cancel, delete, get and list need; at
	// least one. Default: DefaultAdminScope.
	AdminScopes []string
	// ActorScopes are the scopes metadata and validate need; at least one. Default:
	// DefaultActorScope.
	ActorScopes []string
	// ForceDeletePermission is the permission that, with force=true, allows deleting a
	// process that is not CREATED. Default: DefaultForceDeletePermission.
	ForceDeletePermission string
	// DefaultExpiresIn is the lifetime of a process created without expires_in; MaxExpiresIn
	// the longest expires_in accepted. Both default to 30 days, and neither may be under
	// MinExpiresIn.
	DefaultExpiresIn time.Duration
	MaxExpiresIn     time.Duration
	// CodePurpose is the otp purpose of process codes. Default: DefaultCodePurpose.
	CodePurpose string
	// CodeTTL, when positive, is the longest a code stays valid; a code never outlives its
	// process. Zero (the default): a code is valid until its process expires, so the actor
	// can use it whenever they get to it; an admin can resend a new one.
	CodeTTL time.Duration
	// MaxAttempts is the number of failed validations (wrong codes and wrong second
	// factors) of one code that block the process. Default 5.
	MaxAttempts int
	// Digits is the length of a code, otp.MinDigits to otp.MaxDigits. Default 6.
	Digits int
	// DefaultPageSize and MaxPageSize bound List. Defaults 50 and 500.
	DefaultPageSize int
	MaxPageSize     int
	// Message renders the text sent to the actor. Default: DefaultMessage. Nil lets the
	// otp engine render it: its localised templates (otp.Config.Templates), in the
	// actor's language, when it has them.
	Message func(code string, ttl time.Duration) string
	// Fallback are the channels to try next, in order, when a code cannot be delivered on
	// the process's own channel for good (ports.ErrPermanent): the same code, with its
	// lifetime, goes out on the first of them the actor has a contact for (a phone for SMS
	// and WHATSAPP, an e-mail address for EMAIL) and the service a sender for. External
	// channels never fall back. Default: none.
	Fallback []ChannelType
}

// DefaultConfig returns the defaults of RULES.md §D and §E.
func DefaultConfig() Config {
	return Config{
		AdminScopes:           []string{DefaultAdminScope},
		ActorScopes:           []string{DefaultActorScope},
		ForceDeletePermission: DefaultForceDeletePermission,
		DefaultExpiresIn:      30 * 24 * time.Hour,
		MaxExpiresIn:          30 * 24 * time.Hour,
		CodePurpose:           DefaultCodePurpose,
		MaxAttempts:           5,
		Digits:                6,
		DefaultPageSize:       50,
		MaxPageSize:           500,
		Message:               DefaultMessage,
	}
}

// DefaultMessage is the default text of a process code.
func DefaultMessage(code string, _ time.Duration) string {
	return "Your identification code is " + code + "."
}

// Validate reports every problem of the config at once as a KindInvalidInput error.
func (c Config) Validate() error {
	var v verifykit.Validation
	bad := func(field, rule, desc string) {
		v.AddEntry(verifykit.InvalidEntry{Entry: field, EntryType: verifykit.EntryConfig, Rule: rule, Description: desc})
	}
	if len(c.AdminScopes) == 0 {
		bad("AdminScopes", "required", "at least one scope is required")
	}
	if len(c.ActorScopes) == 0 {
		bad("ActorScopes", "required", "at least one scope is required")
	}
	if c.ForceDeletePermission == "" {
		bad("ForceDeletePermission", "required", "is required")
	}
	if c.MaxExpiresIn < MinExpiresIn {
		bad("MaxExpiresIn", "range", "must be at least "+FormatISODuration(MinExpiresIn))
	}
	if c.DefaultExpiresIn < MinExpiresIn || c.DefaultExpiresIn > c.MaxExpiresIn {
		bad("DefaultExpiresIn", "range", "must be from "+FormatISODuration(MinExpiresIn)+" to MaxExpiresIn")
	}
	if c.CodePurpose == "" {
		bad("CodePurpose", "required", "is required")
	}
	if c.CodeTTL < 0 {
		bad("CodeTTL", "positive", "must not be negative")
	}
	if c.MaxAttempts < 1 {
		bad("MaxAttempts", "positive", "must be at least 1")
	}
	if c.Digits < otp.MinDigits || c.Digits > otp.MaxDigits {
		bad("Digits", "range", fmt.Sprintf("must be from %d to %d", otp.MinDigits, otp.MaxDigits))
	}
	if c.MaxPageSize < 1 {
		bad("MaxPageSize", "positive", "must be at least 1")
	}
	if c.DefaultPageSize < 1 || c.DefaultPageSize > c.MaxPageSize {
		bad("DefaultPageSize", "range", "must be from 1 to MaxPageSize")
	}
	for i, ch := range c.Fallback {
		switch {
		case ch != ChannelSMS && ch != ChannelEmail && ch != ChannelWhatsApp:
			bad(fmt.Sprintf("Fallback[%d]", i), "inclusion", "must be SMS, EMAIL or WHATSAPP")
		case slices.Contains(c.Fallback[:i], ch):
			bad(fmt.Sprintf("Fallback[%d]", i), "uniqueness", "names "+string(ch)+" again")
		}
	}
	if err := v.Err(); err != nil {
		err.(*verifykit.Error).Message = "Invalid OTP identification configuration."
		return err
	}
	return nil
}

// Deps are what Service needs from the outside.
type Deps struct {
	// Store keeps the processes. Required.
	Store ports.ProcessStore
	// OTP issues and verifies the codes. Required.
	OTP *otp.Service
	// Tokens verifies access tokens. Required.
	Tokens ports.TokenVerifier
	// Events receives the events of refusals that change nothing (a deletion refused);
	// every other event goes in the process's Outbox, written with its change. Default:
	// drop them.
	Events ports.EventLog
	// SMS sends codes of SMS processes. Default: the OTP engine's own SMS sender.
	SMS ports.Sender
	// Email sends codes of EMAIL processes; without it, EMAIL processes must be external.
	Email ports.Sender
	// WhatsApp sends codes of WHATSAPP processes; without it, WHATSAPP processes must be
	// external.
	WhatsApp ports.Sender
	// Clock tells the time; use the OTP engine's clock. Default: the system clock.
	Clock ports.Clock
	// Logger receives structured events (never codes, contact data or document numbers).
	// Default: discard.
	Logger *slog.Logger
	// Observer is told of every use case and every call to the ports above
	// (adapters/otel: traces and metrics). Default: none (ports.NopObserver).
	Observer ports.Observer
}

// Service runs OTP identification processes (RULES.md §D). It is safe for concurrent use.
//
// Access: every use case first checks the access token (KindUnauthorized "Invalid access
// token"), then the scopes (AdminScopes or ActorScopes, KindForbidden), then that the
// token belongs to the organisation of the request: a token without an organisation is
// forbidden (KindForbidden); a token of another organisation gets not found
// (KindNotFound), exactly like an id of another organisation, so nobody learns what
// another organisation holds. Then the input is checked (KindInvalidInput, every problem
// listed), then the process is looked up (KindNotFound), then its state (KindConflict).
//
// A process holds its latest code (ports.ProcessRecord.Verification), so every use case is
// one atomic write of the process: a validation consumes the code and stores VALIDATED
// together, a resend replaces the code with CodesSent, a cancellation kills the code with
// CANCELLED. Messages go out after the write that stored their code.
type Service struct {
	store    ports.ProcessStore
	otp      *otp.Service
	tokens   ports.TokenVerifier
	events   ports.EventLog
	sms      ports.Sender
	email    ports.Sender
	whatsapp ports.Sender
	clock    ports.Clock
	log      *slog.Logger
	cfg      Config
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
	if err := missing.Err(); err != nil {
		return nil, err
	}
	deps.Clock, deps.Logger = depcheck.ClockOr(deps.Clock), depcheck.LoggerOr(deps.Logger)
	deps = deps.observed()
	cfg.AdminScopes = append([]string(nil), cfg.AdminScopes...)
	cfg.ActorScopes = append([]string(nil), cfg.ActorScopes...)
	return &Service{
		store: deps.Store, otp: deps.OTP, tokens: deps.Tokens, events: eventLogOr(deps.Events),
		sms: deps.SMS, email: deps.Email, whatsapp: deps.WhatsApp,
		clock: deps.Clock, log: deps.Logger, cfg: cfg, obs: deps.Observer,
	}, nil
}

// Messages of the process use cases.
const (
	MsgNotFound         = "OTP identification process not found"
	MsgOrgNotFound      = "Organization not found"
	MsgTokenWithoutOrg  = "The access token does not belong to an organization"
	MsgInvalidTwoFactor = "Invalid second factor"
)

// ErrSecondFactorMismatch is the cause (for errors.Is) of a validation refused because the
// second factor does not match.
var ErrSecondFactorMismatch = errors.New("otpprocess: second factor does not match")

// authorize checks the token, its scopes, and that it belongs to orgID; notFound is the
// message a token of another organisation gets.
func (s *Service) authorize(ctx context.Context, token, orgID, notFound string, scopes []string) (ports.Claims, error) {
	claims, err := authz.Authorize(ctx, s.tokens, s.clock, token, scopes...)
	if err != nil {
		return ports.Claims{}, err
	}
	switch claims.OrgID {
	case "":
		return ports.Claims{}, verifykit.New(verifykit.KindForbidden, MsgTokenWithoutOrg)
	case orgID:
		return claims, nil
	}
	return ports.Claims{}, verifykit.New(verifykit.KindNotFound, notFound)
}

// authorizeID is authorize for a use case on the process id: an id that cannot be a
// process id is not found.
func (s *Service) authorizeID(ctx context.Context, token, orgID, id string, scopes []string) (ports.Claims, error) {
	claims, err := s.authorize(ctx, token, orgID, MsgNotFound, scopes)
	if err != nil {
		return claims, err
	}
	if len(id) != 36 || uuid.Validate(id) != nil {
		return claims, verifykit.New(verifykit.KindNotFound, MsgNotFound)
	}
	return claims, nil
}

// storeErr turns a store error into the *verifykit.Error callers get.
func storeErr(err error) error {
	if errors.Is(err, ports.ErrProcessNotFound) {
		return verifykit.New(verifykit.KindNotFound, MsgNotFound)
	}
	return storefail.Wrap("OTP identification processes are unavailable; try again later.", err)
}

func notCreated(action string, state State) error {
	return verifykit.New(verifykit.KindConflict, "The OTP identification process cannot be "+action+": it is "+string(state))
}

// get returns the process id of orgID.
func (s *Service) get(ctx context.Context, orgID, id string) (ports.ProcessRecord, error) {
	rec, err := s.store.Get(ctx, orgID, id)
	if err != nil {
		return rec, storeErr(err)
	}
	return rec, nil
}

// transition applies change to the process in one atomic step when it is CREATED and not
// expired, and returns it. A CREATED process found past its expiry is stored EXPIRED and
// the answer is a conflict, as for any other state; action names the refused action.
func (s *Service) transition(ctx context.Context, orgID, id, action string, change func(*ports.ProcessRecord)) (ports.ProcessRecord, error) {
	now := s.clock.Now()
	expired := false
	rec, err := s.store.Update(ctx, orgID, id, func(r *ports.ProcessRecord) error {
		if ports.EffectiveProcessState(*r, now) == StateExpired && r.State == StateCreated {
			r.State, r.UpdatedAt, expired = StateExpired, now, true
			s.emitProcess(r, EventExpired, "", now)
			return nil
		}
		if r.State != StateCreated {
			return notCreated(action, r.State)
		}
		change(r)
		r.UpdatedAt = now
		return nil
	})
	if err != nil {
		return rec, storeErr(err)
	}
	if expired {
		s.log.InfoContext(ctx, "otp identification expired", slog.String("org_id", orgID), slog.String("process_id", id))
		return rec, notCreated(action, rec.State)
	}
	return rec, nil
}

// ExpireDue stores EXPIRED on up to batch CREATED processes (of every organisation) whose
// expiry has passed, and returns how many it changed. Reads already report such processes
// EXPIRED and no use case accepts them; hosts with a shared store call ExpireDue
// periodically so that stored states match.
func (s *Service) ExpireDue(ctx context.Context, batch int) (_ int, err error) {
	ctx, end := s.startOrg(ctx, "ExpireDue", "")
	defer func() { end(err) }()
	if batch < 1 {
		return 0, verifykit.Invalid("Validation failed.", verifykit.InvalidEntry{Entry: "batch", EntryType: verifykit.EntryConfig, Rule: "positive", Description: "must be at least 1"})
	}
	n, err := s.store.ExpireDue(ctx, s.clock.Now(), batch)
	if err != nil {
		return n, storeErr(err)
	}
	return n, nil
}

// view is the process r as the use cases answer it at now: in its effective state.
func view(r ports.ProcessRecord, now time.Time) Process {
	p := r.Process
	p.State = ports.EffectiveProcessState(r, now)
	return p
}
