package memory

import (
	"context"
	"errors"
	"sync"

	"github.com/verifykit/verifykit/ports"
)

// ErrUnknownToken is returned by Tokens.VerifyToken for a token that is not in the table.
var ErrUnknownToken = errors.New("unknown access token")

// Tokens is a static table of access tokens and their claims: a ports.TokenVerifier for
// tests, demos and hosts whose tokens are checked upstream.
type Tokens struct {
	mu     sync.RWMutex
	claims map[string]ports.Claims
}

// NewTokens returns an empty token table.
func NewTokens() *Tokens { return &Tokens{claims: make(map[string]ports.Claims)} }

// Add registers token with its claims, replacing any earlier claims of the same token.
func (t *Tokens) Add(token string, claims ports.Claims) {
	claims.Scopes = append([]string(nil), claims.Scopes...)
	claims.Permissions = append([]string(nil), claims.Permissions...)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.claims[token] = claims
}

// Remove forgets token.
func (t *Tokens) Remove(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.claims, token)
}

// VerifyToken returns the claims registered for token, or ErrUnknownToken.
func (t *Tokens) VerifyToken(_ context.Context, token string) (ports.Claims, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	c, ok := t.claims[token]
	if !ok {
		return ports.Claims{}, ErrUnknownToken
	}
	return c, nil
}
