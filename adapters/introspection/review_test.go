package introspection_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/introspection"
	"github.com/verifykit/verifykit/adapters/memory"
)

// TestRedirectsAreNotFollowed: an endpoint that redirects does not get the token and the
// client secret sent on to another host; the answer is unavailable.
func TestRedirectsAreNotFollowed(t *testing.T) {
	var leaked atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		leaked.Store(string(b))
	}))
	t.Cleanup(other.Close)
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirecting.Close)
	v, err := introspection.New(introspection.Config{
		Endpoint: redirecting.URL, ClientID: clientID, ClientSecret: clientSecret, AuthMethod: introspection.ClientSecretPost,
		Clock: memory.NewClock(t0), Timeout: 2 * time.Second,
	})
	require.NoError(t, err)
	_, err = v.VerifyToken(context.Background(), "live-token")
	require.ErrorIs(t, err, verifykit.ErrUnavailable)
	got, _ := leaked.Load().(string)
	require.False(t, strings.Contains(got, "live-token") || strings.Contains(got, "s3cr"), "nothing reached the other host: %q", got)
}

// TestUncachedAnswersWithoutExpStillVerify: with CacheTTL < 0 (answers not cached), an
// active answer without exp gives claims that are not already expired.
func TestUncachedAnswersWithoutExpStillVerify(t *testing.T) {
	s := newServer(t, introspection.ClientSecretBasic)
	a := active(t0, nil)
	delete(a, "exp")
	s.set("tok", a)
	v := newVerifier(t, s, memory.NewClock(t0), func(c *introspection.Config) { c.CacheTTL = -1 })
	c, err := v.VerifyToken(context.Background(), "tok")
	require.NoError(t, err)
	require.True(t, c.ExpiresAt.After(t0), "ExpiresAt %v is after now", c.ExpiresAt)
}

// TestRefreshTokensAreNotAccessTokens: an active answer that says the token is a refresh
// token is refused, whichever claim says it.
func TestRefreshTokensAreNotAccessTokens(t *testing.T) {
	s := newServer(t, introspection.ClientSecretBasic)
	for i, claim := range []map[string]any{{"token_type": "refresh_token"}, {"typ": "Refresh"}, {"token_use": "refresh"}} {
		s.set(fmt.Sprint("refresh-", i), active(t0.Add(time.Hour), claim))
	}
	s.set("access", active(t0.Add(time.Hour), map[string]any{"typ": "Bearer", "token_type": "Bearer"}))
	v := newVerifier(t, s, memory.NewClock(t0), nil)
	for i := range 3 {
		_, err := v.VerifyToken(context.Background(), fmt.Sprint("refresh-", i))
		requireInvalid(t, err)
	}
	_, err := v.VerifyToken(context.Background(), "access")
	require.NoError(t, err)
}

// TestCallsUnderWayAreBounded: while MaxInFlight calls hang, a further made-up token is
// answered unavailable without a call to the server.
func TestCallsUnderWayAreBounded(t *testing.T) {
	s := newServer(t, introspection.ClientSecretBasic)
	s.hang.Store(true)
	v := newVerifier(t, s, memory.NewClock(t0), func(c *introspection.Config) { c.MaxInFlight = 3 })
	for i := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // the caller goes; its call stays under way
		_, err := v.VerifyToken(ctx, fmt.Sprint("made-up-", i))
		require.ErrorIs(t, err, verifykit.ErrUnavailable)
	}
	for s.calls.Load() < 3 { // the three calls reach the server (no time limit: go test's own bounds a hang)
		time.Sleep(time.Millisecond)
	}
	_, err := v.VerifyToken(context.Background(), "one-more")
	require.ErrorIs(t, err, verifykit.ErrUnavailable)
	require.EqualValues(t, 3, s.calls.Load(), "no fourth call")
}
