package jwt_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"

	vkjwt "github.com/verifykit/verifykit/adapters/jwt"
	"github.com/verifykit/verifykit/adapters/memory"
)

// Example verifies a Keycloak-shaped access token against the provider's JWKS: the roles
// of realm_access become the permissions, the person_id claim the person.
func Example() {
	// The identity provider: an Ed25519 key, published in a JWKS.
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	jk, _ := jwk.PublicKeyOf(pub)
	_ = jk.Set(jwk.KeyIDKey, "k1")
	set := jwk.NewSet()
	_ = set.AddKey(jk)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(set)
	}))
	defer idp.Close()

	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	v, err := vkjwt.New(vkjwt.Config{
		JWKSURL:  idp.URL,
		Issuer:   "https://id.example.com/realms/health",
		Audience: "verifykit",
		Leeway:   30 * time.Second,
		Claims: vkjwt.ClaimMapping{
			PersonID:    "person_id",
			Permissions: []string{"realm_access.roles"},
		},
		Clock: memory.NewClock(now), // the domain's clock
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// A token the provider issued.
	tok, _ := jwxjwt.NewBuilder().
		Issuer("https://id.example.com/realms/health").Audience([]string{"verifykit"}).
		Subject("f1c2").IssuedAt(now).Expiration(now.Add(5*time.Minute)).
		Claim("scope", "openid authentication_method_request:deactivate_pis").
		Claim("person_id", "olena").
		Claim("realm_access", map[string]any{"roles": []string{"RESET_IDENTIFICATION_INITIATOR"}}).
		Build()
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, "k1")
	signed, _ := jwxjwt.Sign(tok, jwxjwt.WithKey(jwa.EdDSA(), priv, jws.WithProtectedHeaders(hdr)))

	claims, err := v.VerifyToken(context.Background(), string(signed))
	fmt.Println(err)
	fmt.Println(claims.Subject, claims.PersonID, claims.Scopes, claims.Permissions)
	fmt.Println(claims.ExpiresAt.Format(time.TimeOnly)) // exp plus the leeway

	_, err = v.VerifyToken(context.Background(), "eyJhbGciOiJub25lIn0.e30.")
	fmt.Println(err != nil)
	// Output:
	// <nil>
	// f1c2 olena [openid authentication_method_request:deactivate_pis] [RESET_IDENTIFICATION_INITIATOR]
	// 09:05:30
	// true
}
