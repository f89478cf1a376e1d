package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/httpapi"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// countingTokens is a TokenVerifier that counts its calls.
type countingTokens struct {
	ports.TokenVerifier
	calls atomic.Int64
}

func (c *countingTokens) VerifyToken(ctx context.Context, token string) (ports.Claims, error) {
	c.calls.Add(1)
	return c.TokenVerifier.VerifyToken(ctx, token)
}

// downClients is a ClientVerifier whose key store is down.
type downClients struct{}

func (downClients) VerifyClient(context.Context, string) error {
	return verifykit.Wrap(verifykit.KindUnavailable, "The client keys cannot be read right now.", errors.New("store down"))
}

func TestClientKey(t *testing.T) {
	clock := memory.NewClock(t0)
	table := memory.NewTokens()
	table.Add("tok", ports.Claims{
		Subject: "registrar", PersonID: "olena", ExpiresAt: t0.Add(24 * time.Hour),
		Scopes: []string{personrequest.ScopeRead, authmethod.Scope},
	})
	tokens := &countingTokens{TokenVerifier: table}
	services := servicesWith(t, tokens, clock)
	build := func(c httpapi.ClientVerifier) http.Handler {
		api, err := httpapi.New(services, httpapi.Options{Clients: c})
		require.NoError(t, err)
		return checked(t, api)
	}
	keyed := build(httpapi.NewClientKeys("app-key-1", "app-key-2"))
	const pr = "/api/person_requests/5d6a4a7e-1c2b-4f3d-8e9a-0b1c2d3e4f50"
	const am = "/api/pis/authentication_methods/am-1/actions/deactivate"

	tests := []struct {
		name       string
		h          http.Handler
		method     string
		path, key  string
		want       int
		tokenCheck bool // the token was looked at
	}{
		{name: "person request, no api-key", h: keyed, method: "GET", path: pr, want: 401},
		{name: "person request, unknown api-key", h: keyed, method: "GET", path: pr, key: "app-key-3", want: 401},
		{name: "person request, blank api-key", h: keyed, method: "GET", path: pr, key: "  ", want: 401},
		{name: "person request, known api-key", h: keyed, method: "GET", path: pr, key: "app-key-2", want: 404, tokenCheck: true},
		{name: "person request list route, no api-key", h: keyed, method: "POST", path: "/api/person_requests", want: 401},
		{name: "auth method, no api-key", h: keyed, method: "PATCH", path: am, want: 401},
		{name: "auth method, known api-key", h: keyed, method: "PATCH", path: am, key: "app-key-1", want: 404, tokenCheck: true},
		{name: "SDK.Finance route needs none", h: keyed, method: "GET", path: "/api/v1/profiles/my", want: 404, tokenCheck: true},
		{name: "Identification OTP route needs none", h: keyed, method: "GET", path: "/v1/orgs/org-1/identifications/otp/x", want: 403, tokenCheck: true},
		{name: "healthz needs none", h: keyed, method: "GET", path: "/healthz", want: 200},
		{name: "key store down", h: build(downClients{}), method: "GET", path: pr, key: "app-key-1", want: 503},
		{name: "no ClientVerifier: no check", h: build(nil), method: "GET", path: pr, want: 404, tokenCheck: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tokens.calls.Load()
			body := ""
			if tc.method != "GET" {
				body = "{}"
			}
			req := newRequest(tc.method, tc.path, "tok", body)
			if tc.key != "" {
				req.Header.Set("api-key", tc.key)
			}
			rec := serveReq(tc.h, req)
			require.Equal(t, tc.want, rec.Code, rec.Body.String())
			require.Equal(t, tc.tokenCheck, tokens.calls.Load() > before, "token looked at")
			if tc.want == 401 {
				errBody := errorOf(t, decode(t, rec, 401))
				require.Equal(t, "access_denied", errBody["type"])
				require.Equal(t, "Invalid access token", errBody["message"])
			}
		})
	}
}

func TestClientKeys(t *testing.T) {
	keys := httpapi.NewClientKeys("a", "", "b")
	ctx := context.Background()
	require.NoError(t, keys.VerifyClient(ctx, "a"))
	require.NoError(t, keys.VerifyClient(ctx, "b"))
	require.ErrorIs(t, keys.VerifyClient(ctx, ""), httpapi.ErrUnknownClientKey)
	require.ErrorIs(t, keys.VerifyClient(ctx, "c"), httpapi.ErrUnknownClientKey)
}
