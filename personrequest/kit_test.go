package personrequest_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Tokens of the test kit.
const (
	tokWriter  = "tok-writer"  // person_request:write and :read
	tokReader  = "tok-reader"  // person_request:read only
	tokNone    = "tok-none"    // no scope
	tokExpired = "tok-expired" // both scopes, expired
)

// Phones of the fixtures.
const (
	phonePerson = "+380931234585"
	phoneThird  = "+380501112233"
	phoneOther  = "+380671234567"
)

// kit is a memory test kit with a personrequest.Service on it.
type kit struct {
	ctx    context.Context
	clock  *memory.Clock
	sms    *memory.SMSOutbox
	store  *memory.PersonRequestStore
	codes  *memory.OTPStore
	signer *memory.UploadSigner
	engine *otp.Service
	svc    *personrequest.Service
	logs   *memory.LogBuffer
}

func newKit(t testing.TB, tweak ...func(*personrequest.Config, *otp.Config)) *kit {
	t.Helper()
	cfg := personrequest.DefaultConfig()
	// The tweaks change both configurations; NewTestKit runs them before it returns.
	tk := memory.NewTestKit(t, memory.TestKitConfig{Start: start, OTP: func(ocfg *otp.Config) {
		for _, f := range tweak {
			f(&cfg, ocfg)
		}
	}})
	k := &kit{
		ctx: context.Background(), clock: tk.Clock, sms: tk.SMS, store: memory.NewPersonRequestStore(),
		codes: tk.Codes, signer: memory.NewUploadSigner(), engine: tk.OTP, logs: tk.Logs,
	}
	both := []string{personrequest.ScopeWrite, personrequest.ScopeRead}
	tk.AddToken(tokWriter, ports.Claims{Subject: "w", Scopes: both})
	tk.AddToken(tokReader, ports.Claims{Subject: "r", Scopes: []string{personrequest.ScopeRead}})
	tk.AddToken(tokNone, ports.Claims{Subject: "n"})
	tk.AddToken(tokExpired, ports.Claims{Subject: "e", Scopes: both, ExpiresAt: start})
	var err error
	k.svc, err = personrequest.NewService(personrequest.Deps{
		Store: k.store, OTP: k.engine, Tokens: tk.Tokens, Uploads: k.signer, Clock: k.clock, Logger: tk.Logger,
	}, cfg)
	require.NoError(t, err)
	return k
}

// person returns a person whose primary method is OTP, with OFFLINE, NA and THIRD_PERSON
// methods, and two documents.
func person() personrequest.Person {
	return personrequest.Person{
		FirstName: "Petro", LastName: "Ivanenko",
		Documents: []personrequest.Document{{Type: "PASSPORT", Number: "AB123456"}, {Type: "TAX_ID", Number: "1234567890"}},
		AuthMethods: []personrequest.AuthMethod{
			{Type: personrequest.AuthOTP, Alias: "mobile", Phone: phonePerson, Primary: true},
			{Type: personrequest.AuthOffline, Alias: "documents"},
			{Type: personrequest.AuthThirdPerson, Alias: "mother"},
			{Type: personrequest.AuthOTP, Alias: "work", Phone: phoneOther},
			{Type: personrequest.AuthNA, Alias: "none"},
		},
	}
}

// thirdPerson returns a third person whose primary method is OTP.
func thirdPerson() personrequest.Person {
	return personrequest.Person{
		FirstName: "Olena", LastName: "Ivanenko",
		Documents:   []personrequest.Document{{Type: "PASSPORT", Number: "CD654321"}},
		AuthMethods: []personrequest.AuthMethod{{Type: personrequest.AuthOTP, Alias: "own", Phone: phoneThird, Primary: true}},
	}
}

// withPrimary returns p with the method at index i as its only primary.
func withPrimary(p personrequest.Person, i int) personrequest.Person {
	p = p.Clone()
	for j := range p.AuthMethods {
		p.AuthMethods[j].Primary = j == i
	}
	return p
}

// offlinePerson returns a person whose primary method is OFFLINE, with no THIRD_PERSON
// method.
func offlinePerson() personrequest.Person {
	p := withPrimary(person(), 1)
	p.AuthMethods = append(p.AuthMethods[:2], p.AuthMethods[3:]...)
	return p
}

func (k *kit) create(t testing.TB, p, third personrequest.Person) personrequest.Request {
	t.Helper()
	r, err := k.svc.Create(k.ctx, personrequest.CreateRequest{Token: tokWriter, Person: p, ThirdPerson: third})
	require.NoError(t, err)
	return r
}

// newRequest creates the default request (OTP primary, with a third person) and moves the
// clock past the send spacing, so a resend is allowed at once.
func (k *kit) newRequest(t testing.TB) personrequest.Request {
	t.Helper()
	r := k.create(t, person(), thirdPerson())
	k.clock.Advance(31 * time.Second)
	return r
}

var codeRE = regexp.MustCompile(`\d{4,10}`)

// lastCode returns the code of the last SMS delivered to phone.
func (k *kit) lastCode(t testing.TB, phone string) string {
	t.Helper()
	msg, ok := k.sms.Last(phone)
	require.True(t, ok, "no SMS to %s", phone)
	code := codeRE.FindString(msg.Body)
	require.NotEmpty(t, code)
	return code
}

// code returns the latest code stored with request id (its hash, never the code).
func (k *kit) code(t testing.TB, id string) ports.OTPRecord {
	t.Helper()
	r, err := k.store.Get(k.ctx, id)
	require.NoError(t, err)
	return r.Verification.Code
}

// codeOf returns the code in the SMS that delivered the code with the id codeID.
func (k *kit) codeOf(t testing.TB, codeID string) (code, phone string) {
	t.Helper()
	for _, m := range k.sms.Messages() {
		if m.IdempotencyKey == codeID {
			code = codeRE.FindString(m.Body)
			require.NotEmpty(t, code)
			return code, m.To
		}
	}
	require.Failf(t, "no SMS", "for code %s", codeID)
	return "", ""
}

func (k *kit) resend(id, alias string, typ personrequest.AuthType) (personrequest.Request, error) {
	return k.svc.ResendAuthMethod(k.ctx, personrequest.ResendRequest{Token: tokWriter, ID: id, Alias: alias, Type: typ})
}

func (k *kit) approve(id, code string) (personrequest.Request, error) {
	return k.svc.Approve(k.ctx, personrequest.ApproveRequest{Token: tokWriter, ID: id, Code: code})
}

func (k *kit) get(t testing.TB, id string) personrequest.Request {
	t.Helper()
	r, err := k.svc.Get(k.ctx, personrequest.GetRequest{Token: tokReader, ID: id})
	require.NoError(t, err)
	return r
}

// requireErr checks err's kind and message.
func requireErr(t testing.TB, err error, kind verifykit.Kind, msg string) *verifykit.Error {
	t.Helper()
	require.Error(t, err)
	var e *verifykit.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, kind, e.Kind, "kind of %v", err)
	require.Equal(t, msg, e.Message)
	return e
}

// requireEntries checks that err is a validation error naming exactly entries (with rules).
func requireEntries(t testing.TB, err error, entries ...string) {
	t.Helper()
	e := requireErr(t, err, verifykit.KindInvalidInput, "Validation failed.")
	var got []string
	for _, in := range e.Invalid {
		got = append(got, in.Entry+" "+in.Rule)
	}
	require.ElementsMatch(t, entries, got)
}

func urls(r personrequest.Request) []string {
	var out []string
	for _, d := range r.Urgent.Documents {
		out = append(out, d.URL)
	}
	return out
}
