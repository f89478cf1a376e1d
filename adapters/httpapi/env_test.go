package httpapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // authmethod counts ages in Europe/Kyiv

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/httpapi"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/internal/openapicheck"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// fullEnv is a Handler with every service on the memory adapters, and what tests need to
// look behind it.
type fullEnv struct {
	handler  checkedHandler // every exchange checked against the OpenAPI document
	clock    *memory.Clock
	tokens   *memory.Tokens
	profiles *memory.ProfileStore
	sms      *memory.SMSOutbox
	otp      *otp.Service
	requests *personrequest.Service
	// The stores of the authentication-method flow.
	persons    *memory.PersonStore
	methods    *memory.AuthMethodStore
	confidants *memory.ConfidantStore
}

func newFullHandler(t testing.TB) *fullEnv {
	t.Helper()
	return newLoggedHandler(t, nil)
}

// newLoggedHandler is newFullHandler with every service and the Handler logging to logger
// (nil: discard).
func newLoggedHandler(t testing.TB, logger *slog.Logger) *fullEnv {
	t.Helper()
	e := &fullEnv{clock: memory.NewClock(t0), tokens: memory.NewTokens(), profiles: memory.NewProfileStore(), sms: memory.NewSMSOutbox()}
	codes := memory.NewTestEngine(t, otp.Deps{SMS: e.sms, Clock: e.clock, Logger: logger}, nil)
	e.otp = codes
	processes, err := otpprocess.NewService(otpprocess.Deps{
		Store: memory.NewProcessStore(), OTP: codes, Tokens: e.tokens, Clock: e.clock,
		Email: memory.NewEmailOutbox(), WhatsApp: memory.NewWhatsAppOutbox(), Logger: logger,
	}, otpprocess.DefaultConfig())
	require.NoError(t, err)
	profiles, err := identification.NewProfileService(identification.ProfileDeps{
		Profiles: e.profiles, ResetRequests: e.profiles.ResetRequests(),
		Tokens: e.tokens, Clock: e.clock, Logger: logger,
	}, identification.DefaultProfileConfig())
	require.NoError(t, err)
	e.requests, err = personrequest.NewService(personrequest.Deps{
		Store: memory.NewPersonRequestStore(), OTP: codes, Tokens: e.tokens, Uploads: memory.NewUploadSigner(), Clock: e.clock, Logger: logger,
	}, personrequest.DefaultConfig())
	require.NoError(t, err)
	e.persons, e.methods, e.confidants = memory.NewPersonStore(), memory.NewAuthMethodStore(), memory.NewConfidantStore()
	methods, err := authmethod.NewService(authmethod.Deps{
		Persons: e.persons, Methods: e.methods, Confidants: e.confidants, Tokens: e.tokens, Clock: e.clock, Logger: logger,
	}, authmethod.DefaultConfig())
	require.NoError(t, err)
	h, err := httpapi.New(httpapi.Services{
		Profiles: profiles, Processes: processes, PersonRequests: e.requests, AuthMethods: methods,
	}, httpapi.Options{Logger: logger})
	require.NoError(t, err)
	e.handler = checked(t, h)
	return e
}

// contract is the checker of the package's tests: the embedded OpenAPI document, and the
// headers the Handler sets that a response must declare when it sends them.
var contract = sync.OnceValues(func() (*openapicheck.Checker, error) {
	return openapicheck.New(openapicheck.DeclaredHeaders("X-Request-Id", "Retry-After", "Allow"))
})

// checkedHandler is a Handler whose every request and response is checked against the
// OpenAPI document (internal/openapicheck): a mismatch fails the test that built it.
type checkedHandler struct {
	http.Handler // h, checked
	api          *httpapi.Handler
}

// Routes returns the routes of the Handler.
func (c checkedHandler) Routes() []string { return c.api.Routes() }

// checked wraps h so that every exchange is checked against the OpenAPI document, with
// mismatches reported to t. Every test serves its Handler through it.
func checked(t testing.TB, h *httpapi.Handler) checkedHandler {
	t.Helper()
	c, err := contract()
	require.NoError(t, err)
	return checkedHandler{Handler: c.Handler(t, h), api: h}
}

// token registers a token valid for a day with the given claims.
func (e *fullEnv) token(name string, c ports.Claims) string {
	c.ExpiresAt = t0.Add(24 * time.Hour)
	e.tokens.Add(name, c)
	return name
}

// newRequest builds a request with a JSON body (when not empty) and a Bearer token (when
// not empty).
func newRequest(method, path, token, body string) *http.Request {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// serveReq serves req with h, a checked handler (checked): an unchecked *httpapi.Handler
// would bypass the contract checks, and panics.
func serveReq(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	if _, raw := h.(*httpapi.Handler); raw {
		panic("serveReq: an unchecked *httpapi.Handler; wrap it with checked(t, h)")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func serve(h http.Handler, method, path, token, body string) *httptest.ResponseRecorder {
	return serveReq(h, newRequest(method, path, token, body))
}

// call serves the request and decodes the JSON answer into a map, requiring status want.
func call(t *testing.T, h http.Handler, method, path, token, body string, want int) map[string]any {
	t.Helper()
	return decode(t, serve(h, method, path, token, body), want)
}

// decode requires status want and decodes the JSON answer (nil when empty) into a map.
func decode(t *testing.T, rec *httptest.ResponseRecorder, want int) map[string]any {
	t.Helper()
	require.Equal(t, want, rec.Code, rec.Body.String())
	if rec.Body.Len() == 0 {
		return nil
	}
	var out map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), rec.Body.String())
	return out
}

// lastCode reads the code out of the last SMS sent to phone.
func (e *fullEnv) lastCode(t *testing.T, phone string) string {
	t.Helper()
	msg, ok := e.sms.Last(phone)
	require.True(t, ok, "an SMS to %s", phone)
	code, ok := memory.CodeIn(msg.Body)
	require.True(t, ok, "no code in %q", msg.Body)
	return code
}

// errorOf returns the "error" object of an error body.
func errorOf(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	e, ok := body["error"].(map[string]any)
	require.True(t, ok, "an error body: %v", body)
	return e
}

func (e *fullEnv) addProfile(t testing.TB, user string, st ports.IdentificationStatus) {
	t.Helper()
	require.NoError(t, e.profiles.Create(context.Background(), ports.ProfileRecord{
		UserID: user, OrganizationID: "org-1",
		Profile: ports.Profile{
			Person:  ports.ProfilePerson{NamePlain: ports.ProfileName{First: "Anna", Last: "Smith"}},
			Contact: ports.ProfileContact{Email: "anna@example.com"},
			Type:    "base", Status: st,
			Address: ports.ProfileAddress{Country: "UA", City: "Kyiv", Street: "Main"},
		},
		Documents: []ports.ProfileDocument{{ID: "d1", Type: "PASSPORT", Status: ports.DocumentApproved}},
		CreatedAt: t0, UpdatedAt: t0,
	}))
}
