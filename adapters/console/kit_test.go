package console_test

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/console"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// The test data: two organisations, their operators, profiles, reset requests, processes,
// and one person request (eHealth person requests belong to no organisation).
const (
	orgA = "org-a"
	orgB = "org-b"

	tokA        = "operator-a"         // org-a: every scope and permission the console uses
	tokANoForce = "operator-a-noforce" // org-a: process admin without force-delete
	tokB        = "operator-b"         // org-b: like tokA
	tokPlatform = "platform-operator"  // no organisation: RESET_IDENTIFICATION_INITIATOR, process admin
	tokNothing  = "operator-nothing"   // valid, with no scope nor permission
	tokExpired  = "operator-expired"

	evil = "<script>alert(1)</script>"

	processCreated   = "8f1e2d3c-4b5a-4697-a8b9-c0d1e2f3a4b5"
	processCancelled = "1b2c3d4e-5f60-4718-9a0b-1c2d3e4f5a6b"
	processOfB       = "2c3d4e5f-6071-4829-8b1c-2d3e4f5a6b7c"
	personRequest    = "5d6a4a7e-1c2b-4f3d-8e9a-0b1c2d3e4f50"

	phonePetro  = "+380931234585"
	phoneOksana = "+380501112233"
)

// kit is the console over memory adapters with the test data.
type kit struct {
	clock     *memory.Clock
	tokens    *memory.Tokens
	sms       *memory.SMSOutbox
	profiles  *memory.ProfileStore
	processes *memory.ProcessStore
	requests  *memory.PersonRequestStore
	svc       console.Services
	handler   *console.Handler
	// resetRequests are the ids of the PENDING reset requests, by user.
	resetRequests map[string]string
}

// newKit builds the services, the console at /console/, and stores the test data.
func newKit(t testing.TB) *kit {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	k := &kit{
		clock: memory.NewClock(now), tokens: memory.NewTokens(), sms: memory.NewSMSOutbox(),
		profiles: memory.NewProfileStore(), processes: memory.NewProcessStore(), requests: memory.NewPersonRequestStore(),
		resetRequests: map[string]string{},
	}
	valid := now.Add(24 * time.Hour)
	all := ports.Claims{
		Scopes:      []string{personrequest.ScopeRead, personrequest.ScopeWrite, otpprocess.DefaultAdminScope},
		Permissions: []string{identification.PermissionResetIdentificationInitiator, otpprocess.DefaultForceDeletePermission},
		ExpiresAt:   valid,
	}
	withOrg := func(c ports.Claims, subject, org string) ports.Claims {
		c.Subject, c.OrgID = subject, org
		return c
	}
	k.tokens.Add(tokA, withOrg(all, "alice", orgA))
	k.tokens.Add(tokB, withOrg(all, "bruno", orgB))
	k.tokens.Add(tokANoForce, ports.Claims{Subject: "carol", OrgID: orgA, Scopes: []string{otpprocess.DefaultAdminScope}, ExpiresAt: valid})
	k.tokens.Add(tokPlatform, ports.Claims{
		Subject: "pat", Scopes: []string{otpprocess.DefaultAdminScope},
		Permissions: []string{identification.PermissionResetIdentificationInitiator}, ExpiresAt: valid,
	})
	k.tokens.Add(tokNothing, ports.Claims{Subject: "nemo", OrgID: orgA, ExpiresAt: valid})
	expired := withOrg(all, "old", orgA)
	expired.ExpiresAt = now
	k.tokens.Add(tokExpired, expired)

	codes := memory.NewTestEngine(t, otp.Deps{SMS: k.sms, Clock: k.clock}, nil)
	profiles, err := identification.NewProfileService(identification.ProfileDeps{
		Profiles: k.profiles, ResetRequests: k.profiles.ResetRequests(), Tokens: k.tokens, Clock: k.clock,
	}, identification.DefaultProfileConfig())
	require.NoError(t, err)
	processes, err := otpprocess.NewService(otpprocess.Deps{
		Store: k.processes, OTP: codes, Tokens: k.tokens, Clock: k.clock,
	}, otpprocess.DefaultConfig())
	require.NoError(t, err)
	requests, err := personrequest.NewService(personrequest.Deps{
		Store: k.requests, OTP: codes, Tokens: k.tokens, Uploads: memory.NewUploadSigner(), Clock: k.clock,
	}, personrequest.DefaultConfig())
	require.NoError(t, err)
	k.svc = console.Services{Profiles: profiles, Processes: processes, PersonRequests: requests}
	k.handler, err = console.New(k.svc, console.Options{
		BasePath: "/console/", Tokens: k.tokens, Clock: k.clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)

	// Profiles, each user asking for a reset, a minute apart.
	for i, p := range []struct {
		user, org, first, last, description string
	}{
		{"user-anna", orgA, "Anna", "Smith", "I moved to Lviv"},
		{"user-bob", orgA, "Bob", "Brown", "New passport"},
		{"user-eve", orgA, evil, "Mallory", evil},
		{"user-zed", orgB, "Zed", "Other", "Of the other organisation"},
	} {
		require.NoError(t, k.profiles.Create(ctx, ports.ProfileRecord{
			UserID: p.user, OrganizationID: p.org,
			Profile: ports.Profile{
				Person:  ports.ProfilePerson{NamePlain: ports.ProfileName{First: p.first, Last: p.last}},
				Contact: ports.ProfileContact{Email: strings.TrimPrefix(p.user, "user-") + "@example.com"},
				Type:    "base", Status: ports.IdentificationApproved,
				Address: ports.ProfileAddress{Country: "UA", City: "Kyiv", Street: "Khreshchatyk", HouseNumber: "1"},
			},
			Documents: []ports.ProfileDocument{{ID: "doc-" + p.user, Type: "PASSPORT", Status: ports.DocumentApproved}},
			CreatedAt: now, UpdatedAt: now,
		}))
		k.tokens.Add("user-token-"+p.user, ports.Claims{Subject: p.user, ExpiresAt: valid})
		k.clock.Set(now.Add(time.Duration(i) * time.Minute))
		res, err := profiles.AskForReset(ctx, identification.AskForResetRequest{Token: "user-token-" + p.user, Description: p.description})
		require.NoError(t, err)
		k.resetRequests[p.user] = res.Request.ID
	}
	k.clock.Set(now.Add(10 * time.Minute))

	// Processes: one CREATED and one CANCELLED of org-a, one of org-b.
	for _, p := range []struct {
		id, org string
		state   otpprocess.State
		name    string
	}{
		{processCreated, orgA, otpprocess.StateCreated, "Ana"},
		{processCancelled, orgA, otpprocess.StateCancelled, "Luis"},
		{processOfB, orgB, otpprocess.StateCreated, "Bea"},
	} {
		require.NoError(t, k.processes.Create(ctx, ports.ProcessRecord{Process: otpprocess.Process{
			ID: p.id, OrgID: p.org, State: p.state,
			Actor: otpprocess.Actor{
				Name: p.name, LastName: "Ruiz", Email: strings.ToLower(p.name) + "@example.com", Language: "es",
				MSISDN:           ports.ProcessPhone{CountryCode: "34", PhoneNumber: "600111222"},
				IdentityDocument: otpprocess.IdentityDocument{DocumentType: "ID_CARD", DocumentNumber: "X1234567L", Country: "ES"},
			},
			TwoFactorType: otpprocess.TwoFactorDocumentNumber, Channel: otpprocess.Channel{Type: otpprocess.ChannelSMS},
			CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(7 * 24 * time.Hour),
		}}))
	}

	// The person request: Petro, his phone primary, his mother Oksana his THIRD_PERSON method.
	require.NoError(t, k.requests.Create(ctx, ports.PersonRequest{
		ID: personRequest, Status: personrequest.StatusNew,
		Person: personrequest.Person{
			FirstName: "Petro", LastName: "Ivanenko",
			Documents: []personrequest.Document{{Type: "BIRTH_CERTIFICATE", Number: "I-AB 123456"}},
			AuthMethods: []personrequest.AuthMethod{
				{Type: personrequest.AuthOTP, Alias: "own phone", Phone: phonePetro, Primary: true},
				{Type: personrequest.AuthThirdPerson, Alias: "mother"},
			},
		},
		ThirdPerson: personrequest.Person{
			FirstName: "Oksana", LastName: "Ivanenko",
			Documents:   []personrequest.Document{{Type: "PASSPORT", Number: "CD654321"}},
			AuthMethods: []personrequest.AuthMethod{{Type: personrequest.AuthOTP, Phone: phoneOksana, Primary: true}},
		},
		CreatedAt: k.clock.Now(), UpdatedAt: k.clock.Now(),
	}))
	_, err = requests.ResendAuthMethod(ctx, personrequest.ResendRequest{Token: tokA, ID: personRequest})
	require.NoError(t, err)
	return k
}

// answer is a response of the console, its body read.
type answer struct {
	status int
	header http.Header
	body   string
}

// request sends method path to the console with the session cookie of token ("" for
// none) and, for POST, the form; headers are added as given ("Name: value").
func (k *kit) request(t testing.TB, method, path, token string, form url.Values, headers ...string) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, "http://console.test"+path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		r.AddCookie(&http.Cookie{Name: "verifykit_console", Value: base64.RawURLEncoding.EncodeToString([]byte(token))})
	}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ": ")
		require.True(t, ok, h)
		r.Header.Set(name, value)
	}
	w := httptest.NewRecorder()
	k.handler.ServeHTTP(w, r)
	res := w.Result()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return answer{status: res.StatusCode, header: res.Header, body: string(b)}
}

// resetStatus returns the status of a user's reset request now.
func (k *kit) resetStatus(t testing.TB, user string) ports.ResetRequestStatus {
	t.Helper()
	rr, err := k.profiles.ResetRequests().Get(context.Background(), k.resetRequests[user])
	require.NoError(t, err)
	return rr.Status
}

// processState returns the stored state of a process, "" when it does not exist.
func (k *kit) processState(t testing.TB, org, id string) string {
	t.Helper()
	rec, err := k.processes.Get(context.Background(), org, id)
	if err != nil {
		require.ErrorIs(t, err, ports.ErrProcessNotFound)
		return ""
	}
	return string(rec.State)
}
