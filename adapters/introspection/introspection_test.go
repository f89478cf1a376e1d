package introspection_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/introspection"
	"github.com/verifykit/verifykit/adapters/memory"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

const (
	clientID     = "verifykit:api" // a colon: it must be form-encoded in Basic auth
	clientSecret = "s3cr&t"
)

// server is an RFC 7662 endpoint with a table of answers; it counts the calls.
type server struct {
	*httptest.Server
	calls   atomic.Int64
	mu      sync.Mutex
	answers map[string]map[string]any // token -> answer; unknown tokens are inactive
	status  atomic.Int32
	hang    atomic.Bool   // calls do not answer until the test ends
	stop    chan struct{} // closed when the test ends
	method  introspection.AuthMethod
}

func newServer(t *testing.T, method introspection.AuthMethod) *server {
	t.Helper()
	s := &server{answers: map[string]map[string]any{}, method: method, stop: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(s.stop) }) // first: let hanging calls end
	return s
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	if s.hang.Load() {
		<-s.stop
		return
	}
	if st := s.status.Load(); st != 0 {
		w.WriteHeader(int(st))
		return
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var id, secret string
	if s.method == introspection.ClientSecretBasic {
		u, p, ok := r.BasicAuth()
		if !ok || r.PostForm.Has("client_secret") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		id, _ = url.QueryUnescape(u)
		secret, _ = url.QueryUnescape(p)
	} else {
		if _, _, ok := r.BasicAuth(); ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != clientID || secret != clientSecret {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	answer, ok := s.answers[r.PostForm.Get("token")]
	s.mu.Unlock()
	if !ok {
		answer = map[string]any{"active": false}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer)
}

func (s *server) set(token string, answer map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[token] = answer
}

func active(exp time.Time, extra map[string]any) map[string]any {
	a := map[string]any{
		"active": true, "sub": "user-1", "client_id": "portal", "scope": "person_request:read person_request:write",
		"exp": exp.Unix(), "iss": "https://id.example.com", "aud": []string{"verifykit"},
	}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

func newVerifier(t *testing.T, s *server, clock *memory.Clock, edit func(*introspection.Config)) *introspection.Verifier {
	t.Helper()
	cfg := introspection.Config{
		Endpoint: s.URL, ClientID: clientID, ClientSecret: clientSecret, AuthMethod: s.method,
		Clock: clock, Timeout: 2 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	v, err := introspection.New(cfg)
	require.NoError(t, err)
	return v
}

func requireInvalid(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, introspection.ErrInvalidToken)
	require.ErrorIs(t, err, verifykit.ErrUnauthorized)
	var ve *verifykit.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "Invalid access token", ve.Message)
}

func requireUnavailable(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, verifykit.ErrUnavailable)
	require.NotErrorIs(t, err, introspection.ErrInvalidToken)
}

func TestActiveAndInactive(t *testing.T) {
	for _, method := range []introspection.AuthMethod{introspection.ClientSecretBasic, introspection.ClientSecretPost} {
		t.Run(fmt.Sprint("auth method ", method), func(t *testing.T) {
			s := newServer(t, method)
			clock := memory.NewClock(t0)
			v := newVerifier(t, s, clock, func(c *introspection.Config) {
				c.Issuer, c.Audience = "https://id.example.com", "verifykit"
				c.Claims = introspection.ClaimMapping{PersonID: "ext.person_id", Permissions: []string{"realm_access.roles"}}
			})
			s.set("good", active(t0.Add(time.Hour), map[string]any{
				"ext":          map[string]any{"person_id": "olena"},
				"realm_access": map[string]any{"roles": []string{"RESET_IDENTIFICATION_INITIATOR"}},
			}))
			s.set("wrong-iss", active(t0.Add(time.Hour), map[string]any{"iss": "https://evil.example.com"}))
			s.set("wrong-aud", active(t0.Add(time.Hour), map[string]any{"aud": "another"}))
			s.set("bad-scope", active(t0.Add(time.Hour), map[string]any{"scope": 7}))
			tests := []struct {
				token string
				ok    bool
			}{
				{token: "good", ok: true},
				{token: "revoked"},
				{token: "wrong-iss"},
				{token: "wrong-aud"},
				{token: "bad-scope"},
				{token: ""},
			}
			for _, tc := range tests {
				c, err := v.VerifyToken(context.Background(), tc.token)
				if !tc.ok {
					requireInvalid(t, err)
					continue
				}
				require.NoError(t, err)
				require.Equal(t, "user-1", c.Subject)
				require.Equal(t, "olena", c.PersonID)
				require.Equal(t, []string{"person_request:read", "person_request:write"}, c.Scopes)
				require.Equal(t, []string{"RESET_IDENTIFICATION_INITIATOR"}, c.Permissions)
				require.True(t, t0.Add(time.Hour).Equal(c.ExpiresAt))
			}
			require.EqualValues(t, 5, s.calls.Load(), "the empty token is refused without a call")
		})
	}
}

func TestCachedOneCallForManyVerifications(t *testing.T) {
	s := newServer(t, introspection.ClientSecretBasic)
	clock := memory.NewClock(t0)
	v := newVerifier(t, s, clock, nil)
	s.set("good", active(t0.Add(time.Hour), nil))
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			c, err := v.VerifyToken(context.Background(), "good")
			if err != nil || c.Subject != "user-1" {
				t.Errorf("verify: %v %v", c, err)
			}
		})
	}
	wg.Wait()
	for range 100 {
		c, err := v.VerifyToken(context.Background(), "good")
		require.NoError(t, err)
		c.Scopes[0] = "changed by a caller" // a copy: the cache keeps its own
	}
	c, err := v.VerifyToken(context.Background(), "good")
	require.NoError(t, err)
	require.Equal(t, "person_request:read", c.Scopes[0])
	require.EqualValues(t, 1, s.calls.Load())

	// Negative answers are kept briefly.
	for range 10 {
		_, err := v.VerifyToken(context.Background(), "revoked")
		requireInvalid(t, err)
	}
	require.EqualValues(t, 2, s.calls.Load())
	clock.Advance(introspection.DefaultNegativeTTL)
	_, err = v.VerifyToken(context.Background(), "revoked")
	requireInvalid(t, err)
	require.EqualValues(t, 3, s.calls.Load(), "a negative answer is kept for NegativeTTL only")
}

func TestCacheExpiresAtExpOrTTL(t *testing.T) {
	s := newServer(t, introspection.ClientSecretBasic)
	clock := memory.NewClock(t0)
	v := newVerifier(t, s, clock, func(c *introspection.Config) { c.CacheTTL = 5 * time.Minute })
	ctx := context.Background()
	s.set("short", active(t0.Add(2*time.Minute), nil)) // exp before the TTL
	s.set("long", active(t0.Add(time.Hour), nil))      // the TTL before exp
	s.set("no-exp", map[string]any{"active": true, "sub": "svc"})

	for _, tok := range []string{"short", "long", "no-exp"} {
		_, err := v.VerifyToken(ctx, tok)
		require.NoError(t, err)
	}
	require.EqualValues(t, 3, s.calls.Load())

	clock.Set(t0.Add(2*time.Minute - time.Second))
	for _, tok := range []string{"short", "long", "no-exp"} {
		_, err := v.VerifyToken(ctx, tok)
		require.NoError(t, err)
	}
	require.EqualValues(t, 3, s.calls.Load(), "all cached")

	clock.Set(t0.Add(2 * time.Minute)) // "short" reaches its exp
	c, err := v.VerifyToken(ctx, "short")
	require.NoError(t, err) // the server still answers active; the domain's clock refuses it
	require.False(t, clock.Now().Before(c.ExpiresAt))
	require.EqualValues(t, 4, s.calls.Load(), "the answer was dropped at exp")
	_, err = v.VerifyToken(ctx, "long")
	require.NoError(t, err)
	require.EqualValues(t, 4, s.calls.Load())

	clock.Set(t0.Add(5 * time.Minute)) // the TTL of "long" and "no-exp"
	c, err = v.VerifyToken(ctx, "no-exp")
	require.NoError(t, err)
	require.True(t, clock.Now().Add(5*time.Minute).Equal(c.ExpiresAt), "without exp, valid while the answer is trusted")
	_, err = v.VerifyToken(ctx, "long")
	require.NoError(t, err)
	require.EqualValues(t, 6, s.calls.Load())
}

func TestCacheIsBounded(t *testing.T) {
	s := newServer(t, introspection.ClientSecretBasic)
	v := newVerifier(t, s, memory.NewClock(t0), func(c *introspection.Config) { c.MaxEntries = 3 })
	ctx := context.Background()
	for i := range 5 {
		tok := fmt.Sprint("t", i)
		s.set(tok, active(t0.Add(time.Hour), nil))
		_, err := v.VerifyToken(ctx, tok)
		require.NoError(t, err)
	}
	require.Equal(t, 3, v.CacheLen())
	_, err := v.VerifyToken(ctx, "t4")
	require.NoError(t, err)
	require.EqualValues(t, 5, s.calls.Load(), "the newest stays")
	_, err = v.VerifyToken(ctx, "t0")
	require.NoError(t, err)
	require.EqualValues(t, 6, s.calls.Load(), "the least recently used went first")
	require.Equal(t, 3, v.CacheLen())
}

func TestServerDownIsUnavailable(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(*server)
	}{
		{name: "unreachable", setup: func(s *server) { s.Close() }},
		{name: "500", setup: func(s *server) { s.status.Store(500) }},
		{name: "our credentials refused", setup: func(s *server) { s.status.Store(401) }},
		{name: "timeout", setup: func(s *server) { s.hang.Store(true) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, introspection.ClientSecretBasic)
			s.set("good", active(t0.Add(time.Hour), nil))
			tc.setup(s)
			v := newVerifier(t, s, memory.NewClock(t0), func(c *introspection.Config) { c.Timeout = 100 * time.Millisecond })
			_, err := v.VerifyToken(ctx, "good")
			requireUnavailable(t, err)
			_, err = v.VerifyToken(ctx, "good")
			requireUnavailable(t, err)
			require.Equal(t, 0, v.CacheLen(), "failures are not cached")
		})
	}
	t.Run("caller gone", func(t *testing.T) {
		s := newServer(t, introspection.ClientSecretBasic)
		v := newVerifier(t, s, memory.NewClock(t0), nil)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := v.VerifyToken(cctx, "good")
		requireUnavailable(t, err)
	})
}

func TestNewRefusesBadConfig(t *testing.T) {
	_, err := introspection.New(introspection.Config{Endpoint: "not a url", AuthMethod: 7})
	var ve *verifykit.Error
	require.ErrorAs(t, err, &ve)
	var entries []string
	for _, e := range ve.Invalid {
		entries = append(entries, e.Entry)
	}
	require.Equal(t, []string{"Endpoint", "ClientID", "ClientSecret", "AuthMethod"}, entries)
}
