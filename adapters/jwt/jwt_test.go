package jwt_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	vkjwt "github.com/verifykit/verifykit/adapters/jwt"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports"
)

// requireInvalid checks err is the bad-token error: 401 "Invalid access token".
func requireInvalid(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, vkjwt.ErrInvalidToken)
	require.ErrorIs(t, err, verifykit.ErrUnauthorized)
	var ve *verifykit.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "Invalid access token", ve.Message)
}

func requireUnavailable(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, verifykit.ErrUnavailable)
	require.NotErrorIs(t, err, vkjwt.ErrInvalidToken)
}

func TestVerifyToken(t *testing.T) {
	rs, es, ed := key("RS256"), key("ES256"), key("EdDSA")
	srv := newJWKSServer(t, rs, es, ed)
	clock := memory.NewClock(t0)
	v := newVerifier(t, srv, clock, nil)
	lenient := newVerifier(t, srv, clock, func(c *vkjwt.Config) { c.Leeway = 5 * time.Second })
	atOnly := newVerifier(t, srv, clock, func(c *vkjwt.Config) { c.RequireATJWT = true })
	at := map[string]any{"typ": "at+jwt"}
	atClaims := claims(map[string]any{"client_id": "portal", "jti": "j-1"})
	forged := mint(t, rs, nil, claims(nil))
	forged = forged[:strings.LastIndexByte(forged, '.')+1] + b64([]byte("not the signature"))

	tests := []struct {
		name     string
		v        *vkjwt.Verifier
		token    string
		ok       bool
		expires  time.Time
		subject  string
		scopesIn []string
	}{
		{name: "valid RS256", token: mint(t, rs, nil, claims(nil)), ok: true, expires: t0.Add(time.Hour)},
		{name: "valid ES256", token: mint(t, es, nil, claims(nil)), ok: true, expires: t0.Add(time.Hour)},
		{name: "valid EdDSA", token: mint(t, ed, nil, claims(nil)), ok: true, expires: t0.Add(time.Hour)},
		{name: "audience in an array", token: mint(t, rs, nil, claims(map[string]any{"aud": []string{"other", testAudience}})), ok: true, expires: t0.Add(time.Hour)},
		{name: "no typ", token: mint(t, rs, map[string]any{"typ": nil}, claims(nil)), ok: true, expires: t0.Add(time.Hour)},
		{name: "no kid: every key that fits", token: mint(t, es, map[string]any{"kid": nil}, claims(nil)), ok: true, expires: t0.Add(time.Hour)},
		{name: "RFC 9068 at+jwt", token: mint(t, rs, at, atClaims), ok: true, expires: t0.Add(time.Hour)},
		{name: "at+jwt required and given", v: atOnly, token: mint(t, rs, map[string]any{"typ": "application/at+jwt"}, atClaims), ok: true, expires: t0.Add(time.Hour)},
		{name: "at+jwt required, JWT given", v: atOnly, token: mint(t, rs, nil, atClaims)},
		{name: "at+jwt without jti", token: mint(t, rs, at, claims(map[string]any{"client_id": "portal"}))},
		{name: "at+jwt without client_id", token: mint(t, rs, at, claims(map[string]any{"jti": "j-1"}))},
		{name: "another type of JWT", token: mint(t, rs, map[string]any{"typ": "dpop+jwt"}, claims(nil))},
		{name: "expired by one second, leeway 0", token: mint(t, rs, nil, claims(map[string]any{"exp": t0.Add(-time.Second).Unix()}))},
		{name: "expires now", token: mint(t, rs, nil, claims(map[string]any{"exp": t0.Unix()}))},
		{name: "expired by one second, leeway 5s", v: lenient, token: mint(t, rs, nil, claims(map[string]any{"exp": t0.Add(-time.Second).Unix()})), ok: true, expires: t0.Add(4 * time.Second)},
		{name: "no exp", token: mint(t, rs, nil, claims(map[string]any{"exp": nil}))},
		{name: "nbf in the future", token: mint(t, rs, nil, claims(map[string]any{"nbf": t0.Add(time.Minute).Unix()}))},
		{name: "nbf in the future within the leeway", v: lenient, token: mint(t, rs, nil, claims(map[string]any{"nbf": t0.Add(3 * time.Second).Unix()})), ok: true, expires: t0.Add(time.Hour + 5*time.Second)},
		{name: "iat in the future", token: mint(t, rs, nil, claims(map[string]any{"iat": t0.Add(time.Minute).Unix()}))},
		{name: "wrong iss", token: mint(t, rs, nil, claims(map[string]any{"iss": "https://evil.example.com"}))},
		{name: "no iss", token: mint(t, rs, nil, claims(map[string]any{"iss": nil}))},
		{name: "wrong aud", token: mint(t, rs, nil, claims(map[string]any{"aud": "another-api"}))},
		{name: "no aud", token: mint(t, rs, nil, claims(map[string]any{"aud": nil}))},
		{name: "alg none", token: noneToken(claims(nil))},
		{name: "alg none, kid of a key", token: mint(t, rs, map[string]any{"alg": "none"}, claims(nil))},
		{name: "HS256 with the public key as secret", token: hmacToken(t, rs, claims(nil))},
		{name: "HS256 with the EC public key as secret", token: hmacToken(t, es, claims(nil))},
		{name: "signature of another message", token: forged},
		{name: "RS256 header on an ES256 key id", token: mint(t, es, map[string]any{"alg": "RS256"}, claims(nil))},
		{name: "ES256 signature under an RSA kid", token: mint(t, es, map[string]any{"kid": rs.kid}, claims(nil))},
		{name: "critical header", token: mint(t, rs, map[string]any{"crit": []string{"exp"}, "exp": 1}, claims(nil))},
		{name: "algorithm not allowed", token: mint(t, rs, map[string]any{"alg": "RS512"}, claims(nil))},
		{name: "scope of the wrong type", token: mint(t, rs, nil, claims(map[string]any{"scope": 42}))},
		{name: "empty", token: ""},
		{name: "garbage", token: "not a token"},
		{name: "four parts", token: mint(t, rs, nil, claims(nil)) + ".x"},
		{name: "header not JSON", token: b64([]byte("{")) + ".e30.sig"},
		{name: "too long", token: strings.Repeat("a", vkjwt.DefaultMaxTokenBytes+1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ver := tc.v
			if ver == nil {
				ver = v
			}
			c, err := ver.VerifyToken(context.Background(), tc.token)
			if !tc.ok {
				requireInvalid(t, err)
				require.Equal(t, ports.Claims{}, c)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "user-1", c.Subject)
			require.Equal(t, []string{"person_request:read", "person_request:write"}, c.Scopes)
			require.True(t, tc.expires.Equal(c.ExpiresAt), "expires %v, want %v", c.ExpiresAt, tc.expires)
		})
	}
	// One first fetch per verifier (three), and one refresh: the ES256 token under an RSA
	// kid found no key that fits, which may mean a rotation; later misses are rate-limited.
	require.EqualValues(t, 4, srv.fetches.Load())
}

func TestClaimMapping(t *testing.T) {
	rs := key("RS256")
	srv := newJWKSServer(t, rs)
	clock := memory.NewClock(t0)
	keycloak := newVerifier(t, srv, clock, func(c *vkjwt.Config) {
		c.Claims = vkjwt.ClaimMapping{
			PersonID:    "person_id",
			OrgID:       "organization.id",
			Permissions: []string{"realm_access.roles", "resource_access.verifykit.roles"},
		}
	})
	tests := []struct {
		name   string
		v      *vkjwt.Verifier
		claims map[string]any
		want   ports.Claims
	}{
		{
			name:   "scope as a space-separated string",
			claims: claims(map[string]any{"scope": "a:read  b:write a:read"}),
			want:   ports.Claims{Subject: "user-1", Scopes: []string{"a:read", "b:write"}},
		},
		{
			name:   "scp as an array",
			claims: claims(map[string]any{"scope": nil, "scp": []string{"a:read", "b:write"}}),
			want:   ports.Claims{Subject: "user-1", Scopes: []string{"a:read", "b:write"}},
		},
		{
			name:   "no scopes",
			claims: claims(map[string]any{"scope": nil}),
			want:   ports.Claims{Subject: "user-1"},
		},
		{
			name: "Keycloak roles, person and organisation",
			v:    keycloak,
			claims: claims(map[string]any{
				"person_id":       "olena",
				"organization":    map[string]any{"id": "org-1"},
				"realm_access":    map[string]any{"roles": []string{"RESET_IDENTIFICATION_INITIATOR", "offline_access"}},
				"resource_access": map[string]any{"verifykit": map[string]any{"roles": []string{"FORCE_DELETE"}}},
			}),
			want: ports.Claims{
				Subject: "user-1", PersonID: "olena", OrgID: "org-1",
				Scopes:      []string{"person_request:read", "person_request:write"},
				Permissions: []string{"RESET_IDENTIFICATION_INITIATOR", "offline_access", "FORCE_DELETE"},
			},
		},
		{
			name:   "numeric person id",
			v:      keycloak,
			claims: claims(map[string]any{"person_id": 12345678901, "scope": nil}),
			want:   ports.Claims{Subject: "user-1", PersonID: "12345678901"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ver := tc.v
			if ver == nil {
				ver = newVerifier(t, srv, clock, nil)
			}
			c, err := ver.VerifyToken(context.Background(), mint(t, rs, nil, tc.claims))
			require.NoError(t, err)
			tc.want.ExpiresAt = t0.Add(time.Hour)
			require.Equal(t, tc.want.Subject, c.Subject)
			require.Equal(t, tc.want.PersonID, c.PersonID)
			require.Equal(t, tc.want.OrgID, c.OrgID)
			require.Equal(t, tc.want.Scopes, c.Scopes)
			require.Equal(t, tc.want.Permissions, c.Permissions)
			require.True(t, tc.want.ExpiresAt.Equal(c.ExpiresAt))
		})
	}
}

func TestUnknownKidRefreshesOnceThenAcceptsRotatedKey(t *testing.T) {
	a, b := key("RS256"), key("RS256b")
	srv := newJWKSServer(t, a)
	clock := memory.NewClock(t0)
	v := newVerifier(t, srv, clock, nil)
	ctx := context.Background()

	_, err := v.VerifyToken(ctx, mint(t, a, nil, claims(nil)))
	require.NoError(t, err)
	require.EqualValues(t, 1, srv.fetches.Load())

	srv.publish(t, b) // the provider rotates its key
	c, err := v.VerifyToken(ctx, mint(t, b, nil, claims(nil)))
	require.NoError(t, err, "the unknown kid made the verifier fetch the JWKS again")
	require.Equal(t, "user-1", c.Subject)
	require.EqualValues(t, 2, srv.fetches.Load(), "exactly one refresh")

	_, err = v.VerifyToken(ctx, mint(t, b, nil, claims(nil)))
	require.NoError(t, err)
	_, err = v.VerifyToken(ctx, mint(t, a, nil, claims(nil)))
	requireInvalid(t, err) // the old key is gone, and no refresh is due yet
	require.EqualValues(t, 2, srv.fetches.Load())
}

func TestRandomKidsFetchAtMostOncePerInterval(t *testing.T) {
	rs := key("RS256")
	srv := newJWKSServer(t, rs)
	clock := memory.NewClock(t0)
	v := newVerifier(t, srv, clock, func(c *vkjwt.Config) { c.MinRefreshInterval = time.Minute })
	ctx := context.Background()
	_, err := v.VerifyToken(ctx, mint(t, rs, nil, claims(nil)))
	require.NoError(t, err)
	require.EqualValues(t, 1, srv.fetches.Load())

	flood := func(n int) {
		tokens := make(chan string, n)
		for range n {
			tokens <- mint(t, rs, map[string]any{"kid": rand.Text()}, claims(nil))
		}
		close(tokens)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for tok := range tokens {
					_, err := v.VerifyToken(ctx, tok)
					if !assertInvalid(err) {
						t.Errorf("a made-up kid: %v", err)
					}
				}
			})
		}
		wg.Wait()
	}
	flood(1000)
	require.EqualValues(t, 2, srv.fetches.Load(), "1000 made-up kids: one refresh in the interval")
	clock.Advance(30 * time.Second)
	flood(100)
	require.EqualValues(t, 2, srv.fetches.Load(), "still in the interval")
	clock.Advance(30 * time.Second)
	flood(100)
	require.EqualValues(t, 3, srv.fetches.Load(), "the next interval: one more")

	_, err = v.VerifyToken(ctx, mint(t, rs, nil, claims(nil)))
	require.NoError(t, err, "the real kid stays good through the flood")
}

func assertInvalid(err error) bool {
	return err != nil && verifykit.KindOf(err) == verifykit.KindUnauthorized && strings.Contains(err.Error(), "Invalid access token")
}

func TestJWKSDown(t *testing.T) {
	rs := key("RS256")
	ctx := context.Background()

	t.Run("unreachable before the first fetch", func(t *testing.T) {
		srv := newJWKSServer(t, rs)
		srv.Close()
		v := newVerifier(t, srv, memory.NewClock(t0), nil)
		_, err := v.VerifyToken(ctx, mint(t, rs, nil, claims(nil)))
		requireUnavailable(t, err)
		_, err = v.VerifyToken(ctx, mint(t, rs, nil, claims(nil)))
		requireUnavailable(t, err) // the retry is rate-limited: still unavailable, not 401
		require.Error(t, v.Refresh(ctx))
	})
	t.Run("answers 500", func(t *testing.T) {
		srv := newJWKSServer(t, rs)
		srv.status.Store(500)
		clock := memory.NewClock(t0)
		v := newVerifier(t, srv, clock, nil)
		_, err := v.VerifyToken(ctx, mint(t, rs, nil, claims(nil)))
		requireUnavailable(t, err)
		for range 50 {
			_, err = v.VerifyToken(ctx, mint(t, rs, nil, claims(nil)))
			requireUnavailable(t, err)
		}
		require.EqualValues(t, 2, srv.fetches.Load(), "the first fetch, then one retry per interval")
		srv.status.Store(0)
		clock.Advance(time.Minute)
		_, err = v.VerifyToken(ctx, mint(t, rs, nil, claims(nil)))
		require.NoError(t, err, "back once the provider is")
	})
	t.Run("down after the keys were fetched", func(t *testing.T) {
		srv := newJWKSServer(t, rs)
		clock := memory.NewClock(t0)
		v := newVerifier(t, srv, clock, nil)
		_, err := v.VerifyToken(ctx, mint(t, rs, nil, claims(nil)))
		require.NoError(t, err)
		srv.status.Store(503)

		clock.Advance(vkjwt.DefaultRefreshInterval) // the keys are due for a refresh
		good := claims(map[string]any{"iat": clock.Now().Unix(), "exp": clock.Now().Add(time.Hour).Unix()})
		_, err = v.VerifyToken(ctx, mint(t, rs, nil, good))
		require.NoError(t, err, "the keys in hand stay good while the provider is down")
		require.EqualValues(t, 2, srv.fetches.Load())

		clock.Advance(time.Minute)
		_, err = v.VerifyToken(ctx, mint(t, rs, map[string]any{"kid": "rotated"}, good))
		requireUnavailable(t, err) // the kid may be in the JWKS we cannot read
		_, err = v.VerifyToken(ctx, mint(t, rs, map[string]any{"kid": "rotated-2"}, good))
		requireUnavailable(t, err)
		require.EqualValues(t, 3, srv.fetches.Load())
	})
	t.Run("callers that hang up do not start a fetch each", func(t *testing.T) {
		srv := newJWKSServer(t, rs)
		v := newVerifier(t, srv, memory.NewClock(t0), nil)
		for i := range 20 {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := v.VerifyToken(cctx, mint(t, rs, map[string]any{"kid": fmt.Sprint("made-up-", i)}, claims(nil)))
			require.Error(t, err)
		}
		require.LessOrEqual(t, srv.fetches.Load(), int64(2), "the first fetch and at most one per interval: every fetch counts")
	})
	t.Run("a cancelled request", func(t *testing.T) {
		srv := newJWKSServer(t, rs)
		v := newVerifier(t, srv, memory.NewClock(t0), nil)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := v.VerifyToken(cctx, mint(t, rs, nil, claims(nil)))
		requireUnavailable(t, err)
		_, err = v.VerifyToken(ctx, mint(t, rs, nil, claims(nil)))
		require.NoError(t, err, "a cancelled caller is not the provider's failure")
	})
}

func TestScheduledRefresh(t *testing.T) {
	a, b := key("RS256"), key("RS256b")
	srv := newJWKSServer(t, a, b)
	clock := memory.NewClock(t0)
	v := newVerifier(t, srv, clock, func(c *vkjwt.Config) { c.RefreshInterval = 10 * time.Minute })
	ctx := context.Background()
	_, err := v.VerifyToken(ctx, mint(t, a, nil, claims(nil)))
	require.NoError(t, err)
	clock.Advance(9 * time.Minute)
	_, err = v.VerifyToken(ctx, mint(t, a, nil, claims(nil)))
	require.NoError(t, err)
	require.EqualValues(t, 1, srv.fetches.Load())

	srv.publish(t, b) // a is withdrawn
	clock.Advance(time.Minute)
	_, err = v.VerifyToken(ctx, mint(t, b, nil, claims(nil)))
	require.NoError(t, err)
	require.EqualValues(t, 2, srv.fetches.Load(), "keys past RefreshInterval are fetched again")
	_, err = v.VerifyToken(ctx, mint(t, a, nil, claims(nil)))
	requireInvalid(t, err)

	require.NoError(t, v.Refresh(ctx))
	require.EqualValues(t, 3, srv.fetches.Load())

	rctx, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, v.Run(rctx), context.Canceled)
}

func TestStaticKeys(t *testing.T) {
	rs, ed := key("RS256"), key("EdDSA")
	v, err := vkjwt.New(vkjwt.Config{
		Issuer: testIssuer, Audience: testAudience, Clock: memory.NewClock(t0),
		Keys: []vkjwt.Key{{ID: rs.kid, Public: rs.signer.Public()}, {ID: ed.kid, Public: ed.signer.Public(), Algorithm: "EdDSA"}},
	})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = v.VerifyToken(ctx, mint(t, rs, nil, claims(nil)))
	require.NoError(t, err)
	_, err = v.VerifyToken(ctx, mint(t, ed, nil, claims(nil)))
	require.NoError(t, err)
	_, err = v.VerifyToken(ctx, mint(t, rs, map[string]any{"kid": "nope"}, claims(nil)))
	requireInvalid(t, err) // no JWKS to ask
	require.NoError(t, v.Refresh(ctx))
}

func TestNewRefusesBadConfig(t *testing.T) {
	rs := key("RS256")
	tests := []struct {
		name    string
		cfg     vkjwt.Config
		entries []string
	}{
		{name: "nothing", cfg: vkjwt.Config{}, entries: []string{"JWKSURL", "Issuer", "Audience"}},
		{name: "none and HMAC", cfg: vkjwt.Config{JWKSURL: "https://id.example.com/certs", Issuer: "i", Audience: "a",
			Algorithms: []string{"RS256", "none", "HS256", "HS512"}}, entries: []string{"Algorithms[1]", "Algorithms[2]", "Algorithms[3]"}},
		{name: "not a URL", cfg: vkjwt.Config{JWKSURL: "ftp://x", Issuer: "i", Audience: "a"}, entries: []string{"JWKSURL"}},
		{name: "a private key", cfg: vkjwt.Config{Issuer: "i", Audience: "a", Keys: []vkjwt.Key{{Public: rs.signer}}}, entries: []string{"Keys[0]"}},
		{name: "a secret", cfg: vkjwt.Config{Issuer: "i", Audience: "a", Keys: []vkjwt.Key{{Public: []byte("secret")}}}, entries: []string{"Keys[0]"}},
		{name: "an algorithm that does not fit the key", cfg: vkjwt.Config{Issuer: "i", Audience: "a",
			Keys: []vkjwt.Key{{Public: rs.signer.Public(), Algorithm: "ES256"}}}, entries: []string{"Keys[0]"}},
		{name: "a bad claim path", cfg: vkjwt.Config{JWKSURL: "https://id.example.com/certs", Issuer: "i", Audience: "a",
			Claims: vkjwt.ClaimMapping{Permissions: []string{"realm_access..roles"}}}, entries: []string{"Claims.Permissions[0]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := vkjwt.New(tc.cfg)
			var ve *verifykit.Error
			require.ErrorAs(t, err, &ve)
			require.Equal(t, verifykit.KindInvalidInput, ve.Kind)
			var got []string
			for _, e := range ve.Invalid {
				got = append(got, e.Entry)
			}
			require.Equal(t, tc.entries, got)
		})
	}
}

// FuzzVerify feeds the parser any string: it never panics, and every answer that is not a
// success is the bad-token error (static keys: there is no JWKS to be unavailable).
func FuzzVerify(f *testing.F) {
	rs, es := key("RS256"), key("ES256")
	v, err := vkjwt.New(vkjwt.Config{
		Issuer: testIssuer, Audience: testAudience, Clock: memory.NewClock(t0),
		Keys: []vkjwt.Key{{ID: rs.kid, Public: rs.signer.Public()}, {ID: es.kid, Public: es.signer.Public()}},
	})
	if err != nil {
		f.Fatal(err)
	}
	valid := mint(f, rs, nil, claims(nil))
	f.Add(valid)
	f.Add(mint(f, es, map[string]any{"typ": "at+jwt"}, claims(map[string]any{"scp": []any{"a", 1}})))
	f.Add(noneToken(claims(nil)))
	f.Add(hmacToken(f, rs, claims(nil)))
	f.Add(valid[:len(valid)-3])
	f.Add("")
	f.Add("..")
	f.Add("e30.e30.e30")
	f.Add(b64([]byte(`{"alg":"RS256","kid":"rsa-1"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(`[]`)) + ".AA")
	f.Add(b64([]byte(`{"alg":"RS256","crit":["b64"],"b64":false}`)) + ".e30.")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.VerifyToken(context.Background(), token)
		if err == nil {
			require.False(t, c.ExpiresAt.IsZero())
			return
		}
		requireInvalid(t, err)
	})
}

func BenchmarkVerifyRS256(b *testing.B) {
	rs := key("RS256")
	srv := newJWKSServer(b, rs)
	v := newVerifier(b, srv, memory.NewClock(t0), nil)
	tok := mint(b, rs, nil, claims(nil))
	ctx := context.Background()
	for b.Loop() {
		if _, err := v.VerifyToken(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
