package httpapi

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/internal/authz"
)

// ClientKeyHeader is the header that names the calling application on the eHealth routes.
const ClientKeyHeader = "api-key"

// MsgInvalidClientKey is the message of a missing or unknown api-key. RULES.md names no
// message of its own for it, so it is the token's 401 ("Invalid access token", type
// access_denied), which also keeps a caller from telling which credential was refused.
const MsgInvalidClientKey = authz.MsgInvalidToken

// ErrUnknownClientKey is what ClientKeys.VerifyClient returns for a key it does not hold.
var ErrUnknownClientKey = errors.New("httpapi: unknown api-key")

// ClientVerifier checks the api-key header of the eHealth routes (/api/person_requests...
// and /api/pis/...), before any token work: plug one in through Options.Clients. VerifyClient
// returns nil for a key of a known application. Any error refuses the request with 401, except
// a KindUnavailable *verifykit.Error (or a context error), which answers 503: the key store is
// down, the key may well be good. It is called with "" when the header is missing.
type ClientVerifier interface {
	VerifyClient(ctx context.Context, key string) error
}

// ClientKeys is a ClientVerifier of a fixed set of keys. It keeps their SHA-256 only.
type ClientKeys struct {
	sums map[[sha256.Size]byte]struct{}
}

// NewClientKeys returns the ClientVerifier that knows keys. Empty keys are ignored.
func NewClientKeys(keys ...string) *ClientKeys {
	c := &ClientKeys{sums: make(map[[sha256.Size]byte]struct{}, len(keys))}
	for _, k := range keys {
		if k != "" {
			c.sums[sha256.Sum256([]byte(k))] = struct{}{}
		}
	}
	return c
}

// VerifyClient returns nil when key is one of c's, else ErrUnknownClientKey. Keys are
// compared by their hashes, so the time it takes says nothing about a key's bytes.
func (c *ClientKeys) VerifyClient(_ context.Context, key string) error {
	if key == "" {
		return ErrUnknownClientKey
	}
	if _, ok := c.sums[sha256.Sum256([]byte(key))]; !ok {
		return ErrUnknownClientKey
	}
	return nil
}

// needsClientKey reports whether a route path is an eHealth route, whose callers name
// their application with the api-key header: the person requests and the patient-portal
// routes. The SDK.Finance (/api/v1/...) and Identification OTP (/v1/...) routes, /healthz
// and /openapi.json carry no api-key in their APIs and are not checked.
func needsClientKey(path string) bool {
	return path == "/api/person_requests" || strings.HasPrefix(path, "/api/person_requests/") ||
		strings.HasPrefix(path, "/api/pis/")
}

// withClientKey wraps the handler of an eHealth route with the api-key check, when the
// Handler has a ClientVerifier.
func (h *Handler) withClientKey(path string, fn handlerFunc) handlerFunc {
	if h.clients == nil || !needsClientKey(path) {
		return fn
	}
	clients := h.clients
	return func(w http.ResponseWriter, r *http.Request) error {
		err := clients.VerifyClient(r.Context(), strings.TrimSpace(r.Header.Get(ClientKeyHeader)))
		switch {
		case err == nil:
			return fn(w, r)
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			return verifykit.Wrap(verifykit.KindUnavailable, "The api-key check was interrupted.", err)
		case verifykit.KindOf(err) == verifykit.KindUnavailable:
			return err
		default:
			return verifykit.Wrap(verifykit.KindUnauthorized, MsgInvalidClientKey, err)
		}
	}
}
