package httpapi_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/httpapi"
	vkjwt "github.com/verifykit/verifykit/adapters/jwt"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

const (
	jwtIssuer   = "https://id.example.com/realms/health"
	jwtAudience = "verifykit"
)

// servicesWith builds every service on the memory adapters with tokens as their
// TokenVerifier (the shared kit's newFullHandler wires the static table).
func servicesWith(t *testing.T, tokens ports.TokenVerifier, clock ports.Clock) httpapi.Services {
	t.Helper()
	codes := memory.NewTestEngine(t, otp.Deps{SMS: memory.NewSMSOutbox(), Clock: clock}, nil)
	processes, err := otpprocess.NewService(otpprocess.Deps{
		Store: memory.NewProcessStore(), OTP: codes, Tokens: tokens, Clock: clock,
		Email: memory.NewEmailOutbox(), WhatsApp: memory.NewWhatsAppOutbox(),
	}, otpprocess.DefaultConfig())
	require.NoError(t, err)
	profileStore := memory.NewProfileStore()
	profiles, err := identification.NewProfileService(identification.ProfileDeps{
		Profiles: profileStore, ResetRequests: profileStore.ResetRequests(), Tokens: tokens, Clock: clock,
	}, identification.DefaultProfileConfig())
	require.NoError(t, err)
	requests, err := personrequest.NewService(personrequest.Deps{
		Store: memory.NewPersonRequestStore(), OTP: codes, Tokens: tokens, Uploads: memory.NewUploadSigner(), Clock: clock,
	}, personrequest.DefaultConfig())
	require.NoError(t, err)
	methods, err := authmethod.NewService(authmethod.Deps{
		Persons: memory.NewPersonStore(), Methods: memory.NewAuthMethodStore(), Confidants: memory.NewConfidantStore(),
		Tokens: tokens, Clock: clock,
	}, authmethod.DefaultConfig())
	require.NoError(t, err)
	return httpapi.Services{Profiles: profiles, Processes: processes, PersonRequests: requests, AuthMethods: methods}
}

// jwtIssuerKit is an identity provider: an Ed25519 key published by an httptest JWKS.
type jwtIssuerKit struct {
	priv ed25519.PrivateKey
	jwks *httptest.Server
}

func newJWTIssuer(t *testing.T) *jwtIssuerKit {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	jk, err := jwk.PublicKeyOf(pub)
	require.NoError(t, err)
	require.NoError(t, jk.Set(jwk.KeyIDKey, "k1"))
	set := jwk.NewSet()
	require.NoError(t, set.AddKey(jk))
	body, err := json.Marshal(set)
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
	t.Cleanup(srv.Close)
	return &jwtIssuerKit{priv: priv, jwks: srv}
}

// verifier is the JWT verifier of the kit's JWKS, Keycloak-shaped claims.
func (k *jwtIssuerKit) verifier(t *testing.T, clock ports.Clock) *vkjwt.Verifier {
	t.Helper()
	v, err := vkjwt.New(vkjwt.Config{
		JWKSURL: k.jwks.URL, Issuer: jwtIssuer, Audience: jwtAudience, Clock: clock,
		Claims: vkjwt.ClaimMapping{PersonID: "person_id", OrgID: "org_id", Permissions: []string{"realm_access.roles"}},
	})
	require.NoError(t, err)
	return v
}

// token mints a token valid at t0 for an hour, with every scope and permission of the
// routes.
func (k *jwtIssuerKit) token(t *testing.T) string {
	t.Helper()
	tok, err := jwxjwt.NewBuilder().Issuer(jwtIssuer).Audience([]string{jwtAudience}).Subject("user-1").
		IssuedAt(t0).Expiration(t0.Add(time.Hour)).
		Claim("scope", strings.Join([]string{
			personrequest.ScopeRead, personrequest.ScopeWrite, authmethod.Scope, authmethod.ReadScope,
			otpprocess.DefaultAdminScope, otpprocess.DefaultActorScope,
		}, " ")).
		Claim("person_id", "olena").Claim("org_id", "org-1").
		Claim("realm_access", map[string]any{"roles": []string{
			identification.PermissionResetIdentificationInitiator, otpprocess.DefaultForceDeletePermission,
		}}).
		Build()
	require.NoError(t, err)
	hdr := jws.NewHeaders()
	require.NoError(t, hdr.Set(jws.KeyIDKey, "k1"))
	signed, err := jwxjwt.Sign(tok, jwxjwt.WithKey(jwa.EdDSA(), k.priv, jws.WithProtectedHeaders(hdr)))
	require.NoError(t, err)
	return string(signed)
}

// routePath fills the parameters of a route pattern's path.
func routePath(path string) string {
	return strings.NewReplacer(
		"{org_id}", "org-1", "{id}", "5d6a4a7e-1c2b-4f3d-8e9a-0b1c2d3e4f50",
		"{userId}", "user-1", "{reqId}", "5d6a4a7e-1c2b-4f3d-8e9a-0b1c2d3e4f51",
	).Replace(path)
}

// publicRoutes are the routes that need no token.
var publicRoutes = map[string]bool{"GET /healthz": true, "GET /openapi.json": true}

// TestEveryProtectedRouteAcceptsAJWT calls every route that needs a token once with a token
// the JWT verifier checks against an httptest JWKS: none answers 401. The same call with a
// forged token answers 401, so each route does reach the verifier.
func TestEveryProtectedRouteAcceptsAJWT(t *testing.T) {
	clock := memory.NewClock(t0)
	idp := newJWTIssuer(t)
	api, err := httpapi.New(servicesWith(t, idp.verifier(t, clock), clock), httpapi.Options{})
	require.NoError(t, err)
	h := checked(t, api) // the shared kit's contract check
	good := idp.token(t)
	forged := good[:strings.LastIndexByte(good, '.')+1] + "AAAA"

	checked := 0
	for _, route := range h.Routes() {
		if publicRoutes[route] {
			continue
		}
		method, path, _ := strings.Cut(route, " ")
		t.Run(route, func(t *testing.T) {
			body := ""
			if method != http.MethodGet && method != http.MethodDelete {
				body = "{}"
			}
			rec := serve(h, method, routePath(path), forged, body)
			require.Equal(t, http.StatusUnauthorized, rec.Code, "a forged token: %s", rec.Body.String())
			rec = serve(h, method, routePath(path), good, body)
			require.NotEqual(t, http.StatusUnauthorized, rec.Code, rec.Body.String())
			require.NotEqual(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
		})
		checked++
	}
	require.Greater(t, checked, 20, "every flow's routes were called")
}
