package authmethod_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/ports"
)

var kyiv = mustLoad("Europe/Kyiv")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// today is the fixtures' default "now": 15 June 2026, 09:00 in Kyiv.
var today = time.Date(2026, 6, 15, 9, 0, 0, 0, kyiv)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// fixture is a Service on the memory adapters.
type fixture struct {
	clock      *memory.Clock
	tokens     *memory.Tokens
	persons    *memory.PersonStore
	methods    *memory.AuthMethodStore
	confidants *memory.ConfidantStore
	svc        *authmethod.Service
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureWith(t, authmethod.DefaultConfig())
}

func newFixtureWith(t testing.TB, cfg authmethod.Config) *fixture {
	t.Helper()
	f := &fixture{
		clock:      memory.NewClock(today),
		tokens:     memory.NewTokens(),
		persons:    memory.NewPersonStore(),
		methods:    memory.NewAuthMethodStore(),
		confidants: memory.NewConfidantStore(),
	}
	var err error
	f.svc, err = authmethod.NewService(authmethod.Deps{
		Persons: f.persons, Methods: f.methods, Confidants: f.confidants,
		Tokens: f.tokens, Clock: f.clock,
	}, cfg)
	require.NoError(t, err)
	return f
}

// personOpt changes a person before it is stored.
type personOpt func(*ports.PersonRecord)

func withDocs(types ...string) personOpt {
	return func(p *ports.PersonRecord) {
		for i, typ := range types {
			p.Documents = append(p.Documents, ports.PersonDocument{Type: typ, Number: fmt.Sprint("NUM-SECRET-", i)})
		}
	}
}

func withVerification(status string) personOpt {
	return func(p *ports.PersonRecord) { p.VerificationStatus = status }
}

func withStatus(status string, isActive bool) personOpt {
	return func(p *ports.PersonRecord) { p.Status, p.IsActive = status, isActive }
}

// addPerson stores an active, verified person born on birth.
func (f *fixture) addPerson(t testing.TB, id string, birth time.Time, opts ...personOpt) {
	t.Helper()
	p := ports.PersonRecord{ID: id, BirthDate: birth, Status: "active", IsActive: true, VerificationStatus: "VERIFIED"}
	for _, o := range opts {
		o(&p)
	}
	require.NoError(t, f.persons.CreatePerson(context.Background(), p))
}

// token registers a token for personID with the deactivation scope, valid for an hour.
func (f *fixture) token(t testing.TB, personID string) string {
	t.Helper()
	tok := "token-" + personID
	f.tokens.Add(tok, ports.Claims{Subject: "user-" + personID, PersonID: personID,
		Scopes: []string{authmethod.Scope}, ExpiresAt: f.clock.Now().Add(time.Hour)})
	return tok
}

// addMethod stores a method of personID, started `ago` before now.
func (f *fixture) addMethod(t testing.TB, personID, id string, typ ports.AuthMethodType, ago time.Duration, change ...func(*ports.AuthMethodRecord)) {
	t.Helper()
	m := ports.AuthMethodRecord{ID: id, PersonID: personID, Type: typ, Alias: "alias-" + id,
		StartedAt: f.clock.Now().Add(-ago), IsActive: true}
	if typ == authmethod.TypeOTP {
		m.Phone = "+380931234585"
	}
	for _, c := range change {
		c(&m)
	}
	require.NoError(t, f.methods.AddAuthMethod(context.Background(), m))
}

// addStandardMethods gives personID a primary OTP method "otp" and a THIRD_PERSON method
// "tp", the one the tests deactivate.
func (f *fixture) addStandardMethods(t testing.TB, personID string) {
	t.Helper()
	f.addMethod(t, personID, personID+"-otp", authmethod.TypeOTP, 48*time.Hour, primary)
	f.addMethod(t, personID, personID+"-tp", authmethod.TypeThirdPerson, 24*time.Hour)
}

func primary(m *ports.AuthMethodRecord) { m.IsPrimary = true }

func inactive(m *ports.AuthMethodRecord) { m.IsActive = false }

// relOpt changes a relationship before it is stored.
type relOpt func(*ports.ConfidantRelationship)

func relStatus(s string) relOpt {
	return func(r *ports.ConfidantRelationship) { r.VerificationStatus = s }
}

func relInactive(r *ports.ConfidantRelationship) { r.IsActive = false }

func relActiveTo(t time.Time) relOpt { return func(r *ports.ConfidantRelationship) { r.ActiveTo = t } }

func (f *fixture) addRelationship(t testing.TB, id, personID, confidantID string, opts ...relOpt) {
	t.Helper()
	r := ports.ConfidantRelationship{ID: id, PersonID: personID, ConfidantPersonID: confidantID,
		VerificationStatus: "VERIFIED", IsActive: true}
	for _, o := range opts {
		o(&r)
	}
	require.NoError(t, f.confidants.AddConfidantRelationship(context.Background(), r))
}

// deactivate runs Explain and then Deactivate on req and checks that they agree: when
// wantMsg is empty both allow, else both deny with kind and message, the denial's rule is
// wantRule, and Deactivate changed nothing.
func (f *fixture) deactivate(t *testing.T, req authmethod.DeactivateRequest, wantKind verifykit.Kind, wantMsg string, wantRule authmethod.Rule) (authmethod.DeactivateResult, error) {
	t.Helper()
	ctx := context.Background()
	personID := req.PersonID
	if personID == "" {
		claims, err := f.tokens.VerifyToken(ctx, req.Token)
		require.NoError(t, err)
		personID = claims.PersonID
	}
	before, err := f.methods.AuthMethods(ctx, personID)
	require.NoError(t, err)

	ex, err := f.svc.Explain(ctx, req)
	require.NoError(t, err)
	after, err := f.methods.AuthMethods(ctx, personID)
	require.NoError(t, err)
	require.Equal(t, before, after, "Explain changes nothing")
	require.Equal(t, wantMsg == "", ex.Allowed, "Explain: %+v", ex.Checks)

	res, err := f.svc.Deactivate(ctx, req)
	if wantMsg == "" {
		require.NoError(t, err)
		require.NoError(t, ex.Err)
		return res, nil
	}
	denyErr := err
	requireError(t, err, wantKind, wantMsg)
	require.Equal(t, err.Error(), ex.Err.Error(), "Explain tells the error Deactivate returns")
	var d *authmethod.Denial
	require.ErrorAs(t, err, &d)
	require.Equal(t, wantRule, d.Rule)
	require.NotEmpty(t, d.Reason)
	after, err = f.methods.AuthMethods(ctx, personID)
	require.NoError(t, err)
	require.Equal(t, before, after, "a denied request changes nothing")
	return res, denyErr
}

// requireError checks that err is a *verifykit.Error of kind with exactly msg.
func requireError(t *testing.T, err error, kind verifykit.Kind, msg string) {
	t.Helper()
	require.Error(t, err)
	var e *verifykit.Error
	require.True(t, errors.As(err, &e), "want *verifykit.Error, got %T: %v", err, err)
	require.Equal(t, kind, e.Kind, "%v", err)
	require.Equal(t, msg, e.Message)
}

// reasonOf returns the reason of the denial in err.
func reasonOf(t *testing.T, err error) string {
	t.Helper()
	var d *authmethod.Denial
	require.ErrorAs(t, err, &d)
	return d.Reason
}
