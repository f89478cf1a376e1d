package jwt_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/stretchr/testify/require"

	vkjwt "github.com/verifykit/verifykit/adapters/jwt"
	"github.com/verifykit/verifykit/adapters/memory"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

const (
	testIssuer   = "https://id.example.com/realms/health"
	testAudience = "verifykit"
)

// signingKey is a private key of the test issuer and the kid it is published under.
type signingKey struct {
	kid    string
	alg    string
	signer crypto.Signer
}

// testKeys are generated once per test binary: RSA generation is slow under -race.
var testKeys = sync.OnceValue(func() map[string]signingKey {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	rk2, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	_, edk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return map[string]signingKey{
		"RS256":  {kid: "rsa-1", alg: "RS256", signer: rk},
		"RS256b": {kid: "rsa-2", alg: "RS256", signer: rk2},
		"ES256":  {kid: "ec-1", alg: "ES256", signer: ek},
		"EdDSA":  {kid: "ed-1", alg: "EdDSA", signer: edk},
	}
})

func key(name string) signingKey { return testKeys()[name] }

// b64 is base64url without padding.
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// mint signs claims with k by hand (not with jwx, so the verifier is not checked against
// itself). hdr adds to or replaces the header members alg, kid and typ.
func mint(t testing.TB, k signingKey, hdr map[string]any, claims map[string]any) string {
	t.Helper()
	h := map[string]any{"alg": k.alg, "kid": k.kid, "typ": "JWT"}
	for n, v := range hdr {
		if v == nil {
			delete(h, n)
		} else {
			h[n] = v
		}
	}
	hb, err := json.Marshal(h)
	require.NoError(t, err)
	cb, err := json.Marshal(claims)
	require.NoError(t, err)
	input := b64(hb) + "." + b64(cb)
	sum := sha256.Sum256([]byte(input))
	var sig []byte
	switch s := k.signer.(type) {
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(rand.Reader, s, crypto.SHA256, sum[:])
	case *ecdsa.PrivateKey:
		var r, ss *big.Int
		r, ss, err = ecdsa.Sign(rand.Reader, s, sum[:])
		if err == nil {
			sig = make([]byte, 64)
			r.FillBytes(sig[:32])
			ss.FillBytes(sig[32:])
		}
	case ed25519.PrivateKey:
		sig = ed25519.Sign(s, []byte(input))
	}
	require.NoError(t, err)
	return input + "." + b64(sig)
}

// hmacToken is an HS256 token whose secret is the PEM of k's public key: the algorithm
// confusion attack.
func hmacToken(t testing.TB, k signingKey, claims map[string]any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.signer.Public())
	require.NoError(t, err)
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	hb, _ := json.Marshal(map[string]any{"alg": "HS256", "kid": k.kid, "typ": "JWT"})
	cb, _ := json.Marshal(claims)
	input := b64(hb) + "." + b64(cb)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + b64(m.Sum(nil))
}

// noneToken is an unsigned token, alg "none".
func noneToken(claims map[string]any) string {
	hb, _ := json.Marshal(map[string]any{"alg": "none", "typ": "JWT"})
	cb, _ := json.Marshal(claims)
	return b64(hb) + "." + b64(cb) + "."
}

// claims returns good claims at t0 with the overrides (a nil value removes the claim).
func claims(over map[string]any) map[string]any {
	c := map[string]any{
		"iss": testIssuer, "aud": testAudience, "sub": "user-1",
		"iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix(),
		"scope": "person_request:read person_request:write",
	}
	for n, v := range over {
		if v == nil {
			delete(c, n)
		} else {
			c[n] = v
		}
	}
	return c
}

// jwksServer serves a JWKS of the keys it is given and counts the fetches.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int64
	body    atomic.Pointer[[]byte]
	status  atomic.Int32 // 0: 200
}

func newJWKSServer(t testing.TB, keys ...signingKey) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.publish(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fetches.Add(1)
		if st := s.status.Load(); st != 0 {
			w.WriteHeader(int(st))
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(*s.body.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

// publish replaces the keys served.
func (s *jwksServer) publish(t testing.TB, keys ...signingKey) {
	t.Helper()
	set := jwk.NewSet()
	for _, k := range keys {
		jk, err := jwk.PublicKeyOf(k.signer)
		require.NoError(t, err)
		require.NoError(t, jk.Set(jwk.KeyIDKey, k.kid))
		require.NoError(t, jk.Set(jwk.KeyUsageKey, "sig"))
		require.NoError(t, set.AddKey(jk))
	}
	b, err := json.Marshal(set)
	require.NoError(t, err)
	s.body.Store(&b)
}

// newVerifier is a verifier of the test issuer on srv's JWKS, at the clock's time.
func newVerifier(t testing.TB, srv *jwksServer, clock *memory.Clock, edit func(*vkjwt.Config)) *vkjwt.Verifier {
	t.Helper()
	cfg := vkjwt.Config{Issuer: testIssuer, Audience: testAudience, Clock: clock, MinRefreshInterval: time.Minute}
	if srv != nil {
		cfg.JWKSURL = srv.URL
	}
	if edit != nil {
		edit(&cfg)
	}
	v, err := vkjwt.New(cfg)
	require.NoError(t, err)
	return v
}
