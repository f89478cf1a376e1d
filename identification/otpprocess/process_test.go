package otpprocess_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Tokens of the test environment.
const (
	tokAdminA      = "admin-a"       // org-a, admin scope
	tokAdminAForce = "admin-a-force" // org-a, both scopes and the force-delete permission
	tokActorA      = "actor-a"       // org-a, actor scope
	tokAdminB      = "admin-b"       // org-b, admin scope and the force-delete permission
	tokNoOrg       = "no-org"        // admin scope, no organisation
	tokNoScope     = "no-scope"      // org-a, no scope
)

type env struct {
	svc      *otpprocess.Service
	clock    *memory.Clock
	store    *memory.ProcessStore
	otpStore *memory.OTPStore
	sms      *memory.SMSOutbox
	email    *memory.EmailOutbox
	whatsapp *memory.WhatsAppOutbox
	phones   atomic.Int64
}

type envOption func(*otpprocess.Deps, *otpprocess.Config, *otp.Config)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	e := &env{
		clock: memory.NewClock(start), store: memory.NewProcessStore(), otpStore: memory.NewOTPStore(),
		sms: memory.NewSMSOutbox(), email: memory.NewEmailOutbox(), whatsapp: memory.NewWhatsAppOutbox(),
	}
	ocfg := memory.TestOTPConfig()
	tokens := memory.NewTokens()
	exp := start.Add(365 * 24 * time.Hour)
	admin, actor := []string{otpprocess.DefaultAdminScope}, []string{otpprocess.DefaultActorScope}
	force := []string{otpprocess.DefaultForceDeletePermission}
	tokens.Add(tokAdminA, ports.Claims{Subject: "op-a", OrgID: "org-a", Scopes: admin, ExpiresAt: exp})
	tokens.Add(tokAdminAForce, ports.Claims{Subject: "boss-a", OrgID: "org-a", Scopes: append(admin, actor...), Permissions: force, ExpiresAt: exp})
	tokens.Add(tokActorA, ports.Claims{Subject: "actor", OrgID: "org-a", Scopes: actor, ExpiresAt: exp})
	tokens.Add(tokAdminB, ports.Claims{Subject: "op-b", OrgID: "org-b", Scopes: append(admin, actor...), Permissions: force, ExpiresAt: exp})
	tokens.Add(tokNoOrg, ports.Claims{Subject: "op", Scopes: append(admin, actor...), ExpiresAt: exp})
	tokens.Add(tokNoScope, ports.Claims{Subject: "op-a", OrgID: "org-a", ExpiresAt: exp})
	deps := otpprocess.Deps{Store: e.store, Tokens: tokens, Email: e.email, WhatsApp: e.whatsapp, Clock: e.clock}
	cfg := otpprocess.DefaultConfig()
	for _, o := range opts {
		o(&deps, &cfg, &ocfg)
	}
	engine, err := otp.NewService(otp.Deps{Store: e.otpStore, SMS: e.sms, Limiter: memory.NewRateLimiter(), Clock: e.clock}, ocfg)
	require.NoError(t, err)
	deps.OTP = engine
	e.svc, err = otpprocess.NewService(deps, cfg)
	require.NoError(t, err)
	return e
}

// actor returns a complete actor with a phone number no other actor of e has, so that the
// engine's send limits per recipient do not interfere.
// code returns the latest code stored with the process id of org-a (its hash, never the
// code).
func (e *env) code(t *testing.T, id string) ports.OTPRecord {
	t.Helper()
	rec, err := e.store.Get(context.Background(), "org-a", id)
	require.NoError(t, err)
	return rec.Verification.Code
}

func (e *env) actor() otpprocess.Actor {
	return otpprocess.Actor{
		Name: "Jane", LastName: "Doe", Email: fmt.Sprintf("jane.doe+%d@example.com", e.phones.Add(1)),
		MSISDN:           ports.ProcessPhone{CountryCode: "34", PhoneNumber: fmt.Sprintf("6%08d", e.phones.Load())},
		IdentityDocument: otpprocess.IdentityDocument{DocumentType: "DNI", DocumentNumber: "12345678Z", Country: "ES"},
		Language:         "es",
	}
}

// create opens a process of org-a through channel ch, and returns it with its code.
func (e *env) create(t testing.TB, ch otpprocess.Channel, tf otpprocess.TwoFactorType) (otpprocess.Process, string) {
	t.Helper()
	res, err := e.svc.Create(context.Background(), otpprocess.CreateRequest{
		Token: tokAdminA, OrgID: "org-a", Actor: e.actor(), ExpiresIn: "P7D", TwoFactorType: tf, Channel: ch,
	})
	require.NoError(t, err)
	return res.Process, e.codeOf(t, res.Process, res.Code)
}

// codeOf returns the latest code of p: external, or read from the outbox of its channel.
func (e *env) codeOf(t testing.TB, p otpprocess.Process, external string) string {
	t.Helper()
	if p.Channel.External {
		require.NotEmpty(t, external)
		return external
	}
	require.Empty(t, external, "a code that is sent is not returned")
	var msg ports.Message
	var ok bool
	switch p.Channel.Type {
	case otpprocess.ChannelSMS:
		msg, ok = e.sms.Last(p.Actor.MSISDN.E164())
	case otpprocess.ChannelWhatsApp:
		msg, ok = e.whatsapp.Last(p.Actor.MSISDN.E164())
	case otpprocess.ChannelEmail:
		msg, ok = e.email.Last(p.Actor.Email)
	}
	require.True(t, ok, "a message was delivered")
	code := strings.TrimSuffix(strings.TrimPrefix(msg.Body, "Your identification code is "), ".")
	require.Len(t, code, 6)
	return code
}

func (e *env) validate(p otpprocess.Process, code, twoFactor string) (otpprocess.Metadata, error) {
	return e.svc.Validate(context.Background(), otpprocess.ValidateRequest{Token: tokActorA, OrgID: p.OrgID, ID: p.ID, Code: code, TwoFactor: twoFactor})
}

func (e *env) get(t testing.TB, id string) otpprocess.Process {
	t.Helper()
	p, err := e.svc.Get(context.Background(), otpprocess.Request{Token: tokAdminA, OrgID: "org-a", ID: id})
	require.NoError(t, err)
	return p
}

// wrong returns a code of the same length that is not code.
func wrong(code string) string {
	if code[0] == '9' {
		return "0" + code[1:]
	}
	return string(code[0]+1) + code[1:]
}

func requireKind(t testing.TB, err error, kind verifykit.Kind, msg string) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, kind, verifykit.KindOf(err), "error %v", err)
	if msg != "" {
		var e *verifykit.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, msg, e.Message)
	}
}

var sms = otpprocess.Channel{Type: otpprocess.ChannelSMS}

func TestNewService(t *testing.T) {
	_, err := otpprocess.NewService(otpprocess.Deps{}, otpprocess.Config{})
	requireKind(t, err, verifykit.KindInvalidInput, "Invalid OTP identification configuration.")
	var entries []string
	for _, in := range err.(*verifykit.Error).Invalid {
		entries = append(entries, in.Entry)
	}
	require.Equal(t, []string{"AdminScopes", "ActorScopes", "ForceDeletePermission", "MaxExpiresIn", "DefaultExpiresIn",
		"CodePurpose", "MaxAttempts", "Digits", "MaxPageSize", "DefaultPageSize"}, entries)

	_, err = otpprocess.NewService(otpprocess.Deps{}, otpprocess.DefaultConfig())
	requireKind(t, err, verifykit.KindInvalidInput, "Validation failed.")
	require.Len(t, err.(*verifykit.Error).Invalid, 3, "Store, OTP and Tokens are required")

	short := otpprocess.DefaultConfig()
	short.DefaultExpiresIn = 30 * time.Second
	_, err = otpprocess.NewService(otpprocess.Deps{}, short)
	requireKind(t, err, verifykit.KindInvalidInput, "Invalid OTP identification configuration.")
	require.Equal(t, "DefaultExpiresIn", err.(*verifykit.Error).Invalid[0].Entry, "a process lives at least MinExpiresIn")
	short.DefaultExpiresIn, short.MaxExpiresIn = 30*time.Second, 30*time.Second
	_, err = otpprocess.NewService(otpprocess.Deps{}, short)
	require.Len(t, err.(*verifykit.Error).Invalid, 2)
}

func TestCreateExpiresIn(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		in, rule, desc string
		want           time.Duration
	}{
		{in: "", want: 30 * day},
		{in: "P7D", want: 7 * day},
		{in: "PT720H", want: 30 * day},
		{in: "P30D", want: 30 * day},
		{in: " P4W ", want: 28 * day},
		{in: "P30DT1S", rule: "range", desc: "must be at most P30D"},
		{in: "P31D", rule: "range", desc: "must be at most P30D"},
		{in: "P1M", rule: "format", desc: "must be an ISO-8601 duration: years and months are ambiguous; use weeks or days"},
		{in: "-P1D", rule: "format", desc: "must be an ISO-8601 duration: must not be negative"},
		{in: "P0D", rule: "range", desc: "must be at least PT1M"},
		{in: "PT0.5S", rule: "range", desc: "must be at least PT1M"},
		{in: "PT59.999S", rule: "range", desc: "must be at least PT1M"},
		{in: "PT1M", want: time.Minute},
		{in: "PT60S", want: time.Minute},
		{in: "garbage", rule: "format", desc: `must be an ISO-8601 duration: must start with "P"`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			res, err := e.svc.Create(context.Background(), otpprocess.CreateRequest{
				Token: tokAdminA, OrgID: "org-a", Actor: e.actor(), ExpiresIn: tc.in, Channel: sms,
			})
			if tc.rule == "" {
				require.NoError(t, err)
				require.Equal(t, start.Add(tc.want), res.Process.ExpiresAt)
				require.Equal(t, otpprocess.StateCreated, res.Process.State)
				return
			}
			requireKind(t, err, verifykit.KindInvalidInput, "Validation failed.")
			require.Equal(t, []verifykit.InvalidEntry{{Entry: "$.expires_in", EntryType: verifykit.EntryJSONProperty, Rule: tc.rule, Description: tc.desc}},
				err.(*verifykit.Error).Invalid)
		})
	}
}

func TestCreateInputMismatch(t *testing.T) {
	e := newEnv(t)
	noSenders := newEnv(t, func(d *otpprocess.Deps, _ *otpprocess.Config, _ *otp.Config) {
		d.Email, d.WhatsApp = nil, nil
	})
	type entry struct{ entry, rule, desc string }
	cases := []struct {
		name  string
		env   *env
		actor func(*otpprocess.Actor)
		tf    otpprocess.TwoFactorType
		ch    otpprocess.Channel
		want  []entry
	}{
		{name: "SMS needs msisdn", actor: func(a *otpprocess.Actor) { a.MSISDN = ports.ProcessPhone{} }, ch: sms,
			want: []entry{{"$.actor.msisdn", "required", "is required by channel SMS"}}},
		{name: "WHATSAPP needs msisdn", actor: func(a *otpprocess.Actor) { a.MSISDN = ports.ProcessPhone{} },
			ch:   otpprocess.Channel{Type: otpprocess.ChannelWhatsApp, External: true},
			want: []entry{{"$.actor.msisdn", "required", "is required by channel WHATSAPP"}}},
		{name: "EMAIL needs email", actor: func(a *otpprocess.Actor) { a.Email = " " },
			ch:   otpprocess.Channel{Type: otpprocess.ChannelEmail},
			want: []entry{{"$.actor.email", "required", "is required by channel EMAIL"}}},
		{name: "DOCUMENT_NUMBER needs a document number", actor: func(a *otpprocess.Actor) { a.IdentityDocument.DocumentNumber = "" },
			tf: otpprocess.TwoFactorDocumentNumber, ch: sms,
			want: []entry{{"$.actor.identity_document.document_number", "required", "is required by two_factor_type DOCUMENT_NUMBER"}}},
		{name: "PERSONAL_DOCUMENT_IMAGE needs a document number", actor: func(a *otpprocess.Actor) { a.IdentityDocument = otpprocess.IdentityDocument{} },
			tf: otpprocess.TwoFactorDocumentImage, ch: sms,
			want: []entry{{"$.actor.identity_document.document_number", "required", "is required by two_factor_type PERSONAL_DOCUMENT_IMAGE"}}},
		{name: "EMAIL second factor needs email", actor: func(a *otpprocess.Actor) { a.Email = "" },
			tf: otpprocess.TwoFactorEmail, ch: sms,
			want: []entry{{"$.actor.email", "required", "is required by two_factor_type EMAIL"}}},
		{name: "unknown channel", ch: otpprocess.Channel{Type: "PIGEON"},
			want: []entry{{"$.channel.type", "inclusion", "must be one of SMS, EMAIL, WHATSAPP"}}},
		{name: "missing channel",
			want: []entry{{"$.channel.type", "required", "is required"}}},
		{name: "unknown second factor", tf: "FINGERPRINT", ch: sms,
			want: []entry{{"$.two_factor_type", "inclusion", "must be one of DOCUMENT_NUMBER, EMAIL, PERSONAL_DOCUMENT_IMAGE"}}},
		{name: "EMAIL without a sender", env: noSenders, ch: otpprocess.Channel{Type: otpprocess.ChannelEmail},
			want: []entry{{"$.channel.type", "availability", "channel EMAIL is only available with external=true"}}},
		{name: "WHATSAPP without a sender", env: noSenders, ch: otpprocess.Channel{Type: otpprocess.ChannelWhatsApp},
			want: []entry{{"$.channel.type", "availability", "channel WHATSAPP is only available with external=true"}}},
		{name: "malformed contact", ch: sms, actor: func(a *otpprocess.Actor) {
			a.Name = ""
			a.Email = "jane@"
			a.MSISDN = ports.ProcessPhone{CountryCode: "034", PhoneNumber: "12a"}
			a.LastName = strings.Repeat("x", 201)
		}, want: []entry{
			{"$.actor.name", "required", "is required"},
			{"$.actor.last_name", "length", "must be at most 200 characters"},
			{"$.actor.email", "format", "must be an e-mail address"},
			{"$.actor.msisdn.country_code", "format", "must be a country calling code of 1 to 3 digits"},
			{"$.actor.msisdn.phone_number", "format", "must be digits, 8 to 15 with the country code"},
		}},
		{name: "every problem at once", ch: otpprocess.Channel{Type: otpprocess.ChannelEmail}, tf: otpprocess.TwoFactorDocumentNumber,
			actor: func(a *otpprocess.Actor) { *a = otpprocess.Actor{Name: "Jane"} },
			want: []entry{
				{"$.actor.email", "required", "is required by channel EMAIL"},
				{"$.actor.identity_document.document_number", "required", "is required by two_factor_type DOCUMENT_NUMBER"},
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			te := e
			if tc.env != nil {
				te = tc.env
			}
			a := te.actor()
			if tc.actor != nil {
				tc.actor(&a)
			}
			_, err := te.svc.Create(context.Background(), otpprocess.CreateRequest{
				Token: tokAdminA, OrgID: "org-a", Actor: a, TwoFactorType: tc.tf, Channel: tc.ch,
			})
			requireKind(t, err, verifykit.KindInvalidInput, "Validation failed.")
			var got []entry
			for _, in := range err.(*verifykit.Error).Invalid {
				got = append(got, entry{in.Entry, in.Rule, in.Description})
			}
			require.Equal(t, tc.want, got)
		})
	}
	list, err := e.svc.List(context.Background(), otpprocess.ListRequest{Token: tokAdminA, OrgID: "org-a"})
	require.NoError(t, err)
	require.Zero(t, list.Total, "bad input stores nothing")
	require.Empty(t, e.sms.Attempts(), "bad input sends nothing")
	require.Empty(t, e.email.Attempts())
}

func TestCreateAndValidateEveryChannel(t *testing.T) {
	e := newEnv(t)
	for _, ch := range []otpprocess.Channel{
		{Type: otpprocess.ChannelSMS}, {Type: otpprocess.ChannelEmail}, {Type: otpprocess.ChannelWhatsApp},
		{Type: otpprocess.ChannelSMS, External: true}, {Type: otpprocess.ChannelEmail, External: true}, {Type: otpprocess.ChannelWhatsApp, External: true},
	} {
		t.Run(fmt.Sprintf("%s/external=%v", ch.Type, ch.External), func(t *testing.T) {
			sent := len(e.sms.Messages()) + len(e.email.Messages()) + len(e.whatsapp.Messages())
			p, code := e.create(t, ch, "")
			require.Equal(t, otpprocess.StateCreated, p.State)
			require.Equal(t, ch, p.Channel)
			require.Equal(t, 1, p.CodesSent)
			now := len(e.sms.Messages()) + len(e.email.Messages()) + len(e.whatsapp.Messages())
			if ch.External {
				require.Equal(t, sent, now, "an external code is not sent")
			} else {
				require.Equal(t, sent+1, now)
			}
			md, err := e.validate(p, code, "")
			require.NoError(t, err)
			require.Equal(t, otpprocess.StateValidated, md.State)
			got := e.get(t, p.ID)
			require.Equal(t, otpprocess.StateValidated, got.State)
			require.Equal(t, start, got.ValidatedAt)
		})
	}
}

func TestCreateDeliveryFailureLeavesNothing(t *testing.T) {
	e := newEnv(t)
	e.sms.FailNext(1, true)
	_, err := e.svc.Create(context.Background(), otpprocess.CreateRequest{Token: tokAdminA, OrgID: "org-a", Actor: e.actor(), Channel: sms})
	requireKind(t, err, verifykit.KindUnavailable, "The verification code could not be delivered; try again later.")
	require.ErrorIs(t, err, otp.ErrUndeliverable)
	list, err := e.svc.List(context.Background(), otpprocess.ListRequest{Token: tokAdminA, OrgID: "org-a"})
	require.NoError(t, err)
	require.Zero(t, list.Total, "a process whose code cannot be delivered is not kept")

	// Too many codes to one recipient: 429, nothing kept.
	a := e.actor()
	_, err = e.svc.Create(context.Background(), otpprocess.CreateRequest{Token: tokAdminA, OrgID: "org-a", Actor: a, Channel: sms})
	require.NoError(t, err)
	_, err = e.svc.Create(context.Background(), otpprocess.CreateRequest{Token: tokAdminA, OrgID: "org-a", Actor: a, Channel: sms})
	requireKind(t, err, verifykit.KindRateLimited, "")
	list, err = e.svc.List(context.Background(), otpprocess.ListRequest{Token: tokAdminA, OrgID: "org-a"})
	require.NoError(t, err)
	require.Equal(t, 1, list.Total)
}

func TestCreateSMSWithoutASenderIsRefusedUpFront(t *testing.T) {
	store := memory.NewProcessStore()
	tokens := memory.NewTokens()
	tokens.Add(tokAdminA, ports.Claims{Subject: "op-a", OrgID: "org-a", Scopes: []string{otpprocess.DefaultAdminScope}, ExpiresAt: start.Add(time.Hour)})
	engine := memory.NewTestEngine(t, otp.Deps{Clock: memory.NewClock(start)}, nil)
	svc, err := otpprocess.NewService(otpprocess.Deps{Store: store, OTP: engine, Tokens: tokens, Clock: memory.NewClock(start)}, otpprocess.DefaultConfig())
	require.NoError(t, err)
	actor := otpprocess.Actor{Name: "Ana", MSISDN: ports.ProcessPhone{CountryCode: "34", PhoneNumber: "600111222"}}
	_, err = svc.Create(context.Background(), otpprocess.CreateRequest{Token: tokAdminA, OrgID: "org-a", Actor: actor, Channel: sms})
	requireKind(t, err, verifykit.KindInvalidInput, "")
	require.Equal(t, "$.channel.type", err.(*verifykit.Error).Invalid[0].Entry)
	page, err := store.List(context.Background(), ports.ProcessFilter{OrgID: "org-a", Now: start, Limit: 10})
	require.NoError(t, err)
	require.Zero(t, page.Total, "nothing was kept")

	res, err := svc.Create(context.Background(), otpprocess.CreateRequest{Token: tokAdminA, OrgID: "org-a", Actor: actor,
		Channel: otpprocess.Channel{Type: otpprocess.ChannelSMS, External: true}})
	require.NoError(t, err, "the organisation can still deliver the code itself")
	require.Len(t, res.Code, 6)
}

func TestResend(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, old := e.create(t, sms, "")
	req := otpprocess.Request{Token: tokAdminA, OrgID: "org-a", ID: p.ID}

	_, err := e.svc.Resend(ctx, req)
	requireKind(t, err, verifykit.KindRateLimited, "Too many verification codes were sent to this recipient; try again in 30s.")

	e.clock.Advance(31 * time.Second)
	res, err := e.svc.Resend(ctx, req)
	require.NoError(t, err)
	require.Equal(t, 2, res.Process.CodesSent)
	require.Equal(t, start.Add(31*time.Second), res.Process.CodeSentAt)
	fresh := e.codeOf(t, res.Process, res.Code)
	if fresh != old {
		_, err = e.validate(p, old, "")
		requireKind(t, err, verifykit.KindInvalidInput, otp.MsgInvalidCode)
	}
	_, err = e.validate(p, fresh, "")
	require.NoError(t, err)

	ext, code := e.create(t, otpprocess.Channel{Type: otpprocess.ChannelEmail, External: true}, "")
	e.clock.Advance(31 * time.Second)
	res, err = e.svc.Resend(ctx, otpprocess.Request{Token: tokAdminA, OrgID: "org-a", ID: ext.ID})
	require.NoError(t, err)
	require.Len(t, res.Code, 6, "an external resend returns the new code once")
	require.Equal(t, ports.CodeActive, e.code(t, ext.ID).State)
	_, err = e.validate(ext, code, "")
	requireKind(t, err, verifykit.KindInvalidInput, otp.MsgInvalidCode)
	require.ErrorIs(t, err, otp.ErrWrongCode, "the old code is dead: only the new one is checked")
	_, err = e.validate(ext, res.Code, "")
	require.NoError(t, err)
}

func TestCancelNeedsReason(t *testing.T) {
	e := newEnv(t)
	p, code := e.create(t, sms, "")
	_, err := e.svc.Cancel(context.Background(), otpprocess.CancelRequest{Token: tokAdminA, OrgID: "org-a", ID: p.ID, Reason: "  "})
	requireKind(t, err, verifykit.KindInvalidInput, "Validation failed.")
	require.Equal(t, "$.reason", err.(*verifykit.Error).Invalid[0].Entry)
	require.Equal(t, otpprocess.StateCreated, e.get(t, p.ID).State, "a refused cancel changes nothing")

	e.clock.Advance(time.Minute)
	got, err := e.svc.Cancel(context.Background(), otpprocess.CancelRequest{Token: tokAdminA, OrgID: "org-a", ID: p.ID, Reason: " duplicate "})
	require.NoError(t, err)
	require.Equal(t, otpprocess.StateCancelled, got.State)
	require.Equal(t, "duplicate", got.CancelReason)
	require.Equal(t, start.Add(time.Minute), got.CancelledAt)
	require.Equal(t, ports.CodeSuperseded, e.code(t, p.ID).State, "a cancelled process's code is dead")
	_, err = e.validate(p, code, "")
	requireKind(t, err, verifykit.KindConflict, "The OTP identification process cannot be validated: it is CANCELLED")
}

func TestListAndExpireDue(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var ids []string
	for range 4 {
		p, _ := e.create(t, sms, "")
		ids = append(ids, p.ID)
		e.clock.Advance(time.Second)
	}
	_, err := e.svc.Cancel(ctx, otpprocess.CancelRequest{Token: tokAdminA, OrgID: "org-a", ID: ids[1], Reason: "r"})
	require.NoError(t, err)
	_, err = e.svc.Create(ctx, otpprocess.CreateRequest{Token: tokAdminA, OrgID: "org-a", Actor: e.actor(), Channel: sms, ExpiresIn: "PT1H"})
	require.NoError(t, err)
	_, err = e.svc.Create(ctx, otpprocess.CreateRequest{Token: tokAdminB, OrgID: "org-b", Actor: e.actor(), Channel: sms})
	require.NoError(t, err)
	e.clock.Advance(2 * time.Hour)

	list := func(req otpprocess.ListRequest) otpprocess.ListResult {
		t.Helper()
		req.Token, req.OrgID = tokAdminA, "org-a"
		res, err := e.svc.List(ctx, req)
		require.NoError(t, err)
		return res
	}
	all := list(otpprocess.ListRequest{})
	require.Equal(t, 5, all.Total)
	require.Equal(t, 50, all.Limit)
	require.Equal(t, ids, []string{all.Processes[0].ID, all.Processes[1].ID, all.Processes[2].ID, all.Processes[3].ID}, "oldest first")
	require.Equal(t, otpprocess.StateExpired, all.Processes[4].State, "reported EXPIRED once its time has passed")

	created := list(otpprocess.ListRequest{States: []otpprocess.State{otpprocess.StateCreated}})
	require.Equal(t, 3, created.Total)
	page := list(otpprocess.ListRequest{States: []otpprocess.State{otpprocess.StateCreated}, Offset: 1, Limit: 1})
	require.Equal(t, 3, page.Total)
	require.Len(t, page.Processes, 1)
	require.Equal(t, ids[2], page.Processes[0].ID)
	other := list(otpprocess.ListRequest{States: []otpprocess.State{otpprocess.StateCancelled, otpprocess.StateExpired}})
	require.Equal(t, 2, other.Total)

	_, err = e.svc.List(ctx, otpprocess.ListRequest{Token: tokAdminA, OrgID: "org-a", States: []otpprocess.State{"CREATED", "DONE"}, Offset: -1, Limit: 501})
	requireKind(t, err, verifykit.KindInvalidInput, "Validation failed.")
	var entries []string
	for _, in := range err.(*verifykit.Error).Invalid {
		entries = append(entries, in.Entry)
	}
	require.Equal(t, []string{"$.states[1]", "$.offset", "$.limit"}, entries)

	n, err := e.svc.ExpireDue(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = e.svc.ExpireDue(ctx, 0)
	requireKind(t, err, verifykit.KindInvalidInput, "")
}

func TestMetadataShowsNoCodeNorContact(t *testing.T) {
	e := newEnv(t)
	for _, ch := range []otpprocess.ChannelType{otpprocess.ChannelSMS, otpprocess.ChannelEmail} {
		p, code := e.create(t, otpprocess.Channel{Type: ch}, otpprocess.TwoFactorDocumentNumber)
		md, err := e.svc.Metadata(context.Background(), otpprocess.Request{Token: tokActorA, OrgID: "org-a", ID: p.ID})
		require.NoError(t, err)
		contact := ports.MaskPhone(p.Actor.MSISDN.E164())
		if ch == otpprocess.ChannelEmail {
			contact = ports.MaskEmail(p.Actor.Email)
		}
		require.Equal(t, otpprocess.Metadata{
			ID: p.ID, State: otpprocess.StateCreated, ExpiresAt: start.Add(7 * day),
			TwoFactorType: otpprocess.TwoFactorDocumentNumber, Channel: ch, MaskedContact: contact, Language: "es",
		}, md)
		text := fmt.Sprintf("%+v", md)
		for _, secret := range []string{code, p.Actor.Email, p.Actor.MSISDN.PhoneNumber, p.Actor.IdentityDocument.DocumentNumber} {
			require.NotContains(t, text, secret)
		}
	}
}

func TestAccessChecks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, code := e.create(t, sms, "")
	const missingAdmin = "Your scope does not allow to access this resource. Missing allowances: " + otpprocess.DefaultAdminScope
	const missingActor = "Your scope does not allow to access this resource. Missing allowances: " + otpprocess.DefaultActorScope
	cases := []struct {
		name, token, org, id string
		kind                 verifykit.Kind
		msg                  string
	}{
		{"unknown token", "nope", "org-a", p.ID, verifykit.KindUnauthorized, "Invalid access token"},
		{"no scope", tokNoScope, "org-a", p.ID, verifykit.KindForbidden, ""},
		{"token without org", tokNoOrg, "org-a", p.ID, verifykit.KindForbidden, otpprocess.MsgTokenWithoutOrg},
		{"other org's token on this org", tokAdminB, "org-a", p.ID, verifykit.KindNotFound, ""},
		{"other org's path", tokAdminB, "org-b", p.ID, verifykit.KindNotFound, otpprocess.MsgNotFound},
		{"unknown id", tokAdminAForce, "org-a", "10000000-0000-4000-8000-000000000000", verifykit.KindNotFound, otpprocess.MsgNotFound},
		{"malformed id", tokAdminAForce, "org-a", "../" + p.ID, verifykit.KindNotFound, otpprocess.MsgNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token := tc.token
			admin := func(err error) {
				t.Helper()
				msg := tc.msg
				if tc.token == tokNoScope {
					msg = missingAdmin
				}
				requireKind(t, err, tc.kind, msg)
			}
			r := otpprocess.Request{Token: token, OrgID: tc.org, ID: tc.id}
			_, err := e.svc.Get(ctx, r)
			admin(err)
			_, err = e.svc.Resend(ctx, r)
			admin(err)
			_, err = e.svc.Cancel(ctx, otpprocess.CancelRequest{Token: token, OrgID: tc.org, ID: tc.id, Reason: "r"})
			admin(err)
			_, err = e.svc.Delete(ctx, otpprocess.DeleteRequest{Token: token, OrgID: tc.org, ID: tc.id, Force: true})
			admin(err)
			actorMsg := tc.msg
			if tc.token == tokNoScope {
				actorMsg = missingActor
			}
			_, err = e.svc.Metadata(ctx, r)
			requireKind(t, err, tc.kind, actorMsg)
			_, err = e.svc.Validate(ctx, otpprocess.ValidateRequest{Token: token, OrgID: tc.org, ID: tc.id, Code: code})
			requireKind(t, err, tc.kind, actorMsg)
		})
	}
	_, err := e.svc.Validate(ctx, otpprocess.ValidateRequest{Token: tokAdminA, OrgID: "org-a", ID: p.ID, Code: code})
	requireKind(t, err, verifykit.KindForbidden, missingActor)
	_, err = e.svc.Get(ctx, otpprocess.Request{Token: tokActorA, OrgID: "org-a", ID: p.ID})
	requireKind(t, err, verifykit.KindForbidden, missingAdmin)
	_, err = e.svc.Create(ctx, otpprocess.CreateRequest{Token: tokAdminB, OrgID: "org-a", Actor: e.actor(), Channel: sms})
	requireKind(t, err, verifykit.KindNotFound, otpprocess.MsgOrgNotFound)
	_, err = e.svc.List(ctx, otpprocess.ListRequest{Token: tokAdminB, OrgID: "org-a"})
	requireKind(t, err, verifykit.KindNotFound, otpprocess.MsgOrgNotFound)
	list, err := e.svc.List(ctx, otpprocess.ListRequest{Token: tokAdminB, OrgID: "org-b"})
	require.NoError(t, err)
	require.Zero(t, list.Total, "an org lists only its own processes")

	got := e.get(t, p.ID)
	require.Equal(t, otpprocess.StateCreated, got.State, "refused calls change nothing")
	require.Zero(t, got.FailedAttempts)
	_, err = e.validate(p, code, "")
	require.NoError(t, err, "the code was never tried")
}
