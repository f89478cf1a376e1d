// Package introspection verifies access tokens by asking the authorization server about
// them: OAuth 2.0 Token Introspection (RFC 7662). It is a ports.TokenVerifier for opaque
// (reference) tokens, or for hosts that want the server's word on revocation.
//
// The verifier authenticates itself to the introspection endpoint as a confidential
// client — HTTP Basic (client_secret_basic, the default) or form parameters
// (client_secret_post) — posts the token, and accepts it only when the answer says
// "active": true (and, when configured, names the expected issuer and audience). The
// answer's claims are mapped to ports.Claims by the same ClaimMapping as adapters/jwt.
//
// Answers are cached, so that a burst of requests with one token costs one call:
// positive answers until the earlier of the token's "exp" and Config.CacheTTL, negative
// answers for Config.NegativeTTL, at most Config.MaxEntries of them (the least recently
// used go first). The cache is keyed by the SHA-256 of the token: the token itself is kept
// only for the time of its call, and never logged. Concurrent verifications of one token
// share one call.
//
// Errors: a token the server does not vouch for gets a KindUnauthorized *verifykit.Error
// "Invalid access token" wrapping ErrInvalidToken (HTTP 401, the answer the domain gives a
// token the static table of adapters/memory does not know); an endpoint that times out,
// cannot be reached, refuses the verifier's credentials or answers something that is not an
// introspection answer gets a KindUnavailable error (HTTP 503).
package introspection

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/internal/claimmap"
	"github.com/verifykit/verifykit/internal/authz"
	"github.com/verifykit/verifykit/internal/depcheck"
	"github.com/verifykit/verifykit/ports"
)

// ClaimMapping names the claims of an introspection answer that fill ports.Claims; it is
// the ClaimMapping of adapters/jwt. The zero value reads "sub" and the scopes of "scope"
// or "scp".
type ClaimMapping = claimmap.Mapping

// DefaultClaimMapping returns the mapping of an answer that follows the standards only:
// the subject from "sub", the scopes from "scope" (space-separated) or "scp".
func DefaultClaimMapping() ClaimMapping { return claimmap.Default() }

// ErrInvalidToken is wrapped by the error of every token the server does not vouch for.
var ErrInvalidToken = errors.New("introspection: invalid access token")

// MsgUnavailable is the message of the KindUnavailable error of a token that could not be
// introspected.
const MsgUnavailable = "Access tokens cannot be checked right now."

// AuthMethod is how the verifier authenticates to the introspection endpoint.
type AuthMethod int

const (
	// ClientSecretBasic sends the client id and secret in an Authorization: Basic header
	// (RFC 6749 §2.3.1, each form-encoded first). The default.
	ClientSecretBasic AuthMethod = iota
	// ClientSecretPost sends them as the client_id and client_secret form parameters.
	ClientSecretPost
)

// DefaultTimeout is the default of Config.Timeout.
const DefaultTimeout = 5 * time.Second

// DefaultCacheTTL is the default of Config.CacheTTL.
const DefaultCacheTTL = 5 * time.Minute

// DefaultNegativeTTL is the default of Config.NegativeTTL.
const DefaultNegativeTTL = 10 * time.Second

// DefaultMaxEntries is the default of Config.MaxEntries.
const DefaultMaxEntries = 10_000

// DefaultMaxInFlight is the default of Config.MaxInFlight.
const DefaultMaxInFlight = 256

// DefaultMaxTokenBytes is the default of Config.MaxTokenBytes.
const DefaultMaxTokenBytes = 16 << 10

// maxAnswerBytes bounds an introspection answer.
const maxAnswerBytes = 1 << 20

// Config configures a Verifier.
type Config struct {
	// Endpoint is the introspection endpoint, e.g.
	// https://id.example.com/realms/health/protocol/openid-connect/token/introspect.
	// Required.
	Endpoint string
	// ClientID and ClientSecret authenticate the verifier to the endpoint. Required.
	ClientID, ClientSecret string
	// AuthMethod says how they are sent. Default ClientSecretBasic.
	AuthMethod AuthMethod
	// Issuer, when set, must be the answer's "iss".
	Issuer string
	// Audience, when set, must be among the answer's "aud".
	Audience string
	// Claims maps the answer to ports.Claims. Empty fields of Subject and Scopes take the
	// defaults of DefaultClaimMapping.
	Claims ClaimMapping
	// Timeout bounds one call to the endpoint. Default DefaultTimeout.
	Timeout time.Duration
	// CacheTTL is the longest a positive answer is kept (it is never kept past the token's
	// exp). Default DefaultCacheTTL; negative: answers are not cached.
	CacheTTL time.Duration
	// NegativeTTL is how long a negative answer is kept. Default DefaultNegativeTTL;
	// negative: not kept.
	NegativeTTL time.Duration
	// MaxEntries bounds the cache. Default DefaultMaxEntries.
	MaxEntries int
	// MaxInFlight bounds the introspection calls under way at once (one per distinct
	// token; callers of one token share its call). A token that would start one more is
	// answered unavailable without a call, so a flood of made-up tokens cannot make the
	// verifier flood the authorization server. Default DefaultMaxInFlight.
	MaxInFlight int
	// MaxTokenBytes is the longest token sent to the endpoint. Default
	// DefaultMaxTokenBytes.
	MaxTokenBytes int
	// HTTPClient makes the calls. Default: a client of its own.
	HTTPClient *http.Client
	// Clock tells the time of the cache. Default: the system clock. Give the domain's clock.
	Clock ports.Clock
	// Logger receives the failed calls (status or error, never a token). Default: discard.
	Logger *slog.Logger
}

// Verifier verifies access tokens by introspection; it is a ports.TokenVerifier, safe for
// concurrent use. Build it with New.
type Verifier struct {
	endpoint, clientID, secret string
	authMethod                 AuthMethod
	issuer, audience           string
	mapping                    ClaimMapping
	timeout, ttl, negTTL       time.Duration
	maxBytes                   int
	client                     *http.Client
	clock                      ports.Clock
	log                        *slog.Logger

	mu       sync.Mutex
	cache    map[[32]byte]*list.Element // of *entry
	lru      *list.List                 // front: most recently used
	max      int
	inflight map[[32]byte]*call
	// maxInFlight bounds len(inflight).
	maxInFlight int
}

var _ ports.TokenVerifier = (*Verifier)(nil)

// entry is a cached answer.
type entry struct {
	key    [32]byte
	claims ports.Claims // zero for a negative answer
	active bool
	until  time.Time
}

// call is a call in flight; its waiters read claims and err once done is closed.
type call struct {
	done   chan struct{}
	claims ports.Claims
	err    error
}

// New checks cfg and returns its Verifier. Configuration errors are a KindInvalidInput
// *verifykit.Error naming every offending field.
func New(cfg Config) (*Verifier, error) {
	var v verifykit.Validation
	bad := func(field, rule, desc string) {
		v.AddEntry(verifykit.InvalidEntry{Entry: field, EntryType: verifykit.EntryConfig, Rule: rule, Description: desc})
	}
	if u, err := url.Parse(cfg.Endpoint); cfg.Endpoint == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("Endpoint", "format", "is required, an http(s) URL")
	}
	if cfg.ClientID == "" {
		bad("ClientID", "required", "is required")
	}
	if cfg.ClientSecret == "" {
		bad("ClientSecret", "required", "is required")
	}
	if cfg.AuthMethod != ClientSecretBasic && cfg.AuthMethod != ClientSecretPost {
		bad("AuthMethod", "inclusion", "is not ClientSecretBasic or ClientSecretPost")
	}
	if cfg.Timeout < 0 || cfg.MaxEntries < 0 || cfg.MaxTokenBytes < 0 || cfg.MaxInFlight < 0 {
		bad("Timeout", "range", "Timeout, MaxEntries and MaxTokenBytes must not be negative")
	}
	mapping := cfg.Claims.WithDefaults()
	var ve *verifykit.Error
	if err := mapping.Validate("Claims."); errors.As(err, &ve) {
		for _, e := range ve.Invalid {
			v.AddEntry(e)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	out := &Verifier{
		endpoint: cfg.Endpoint, clientID: cfg.ClientID, secret: cfg.ClientSecret, authMethod: cfg.AuthMethod,
		issuer: cfg.Issuer, audience: cfg.Audience, mapping: mapping,
		timeout:  orDuration(cfg.Timeout, DefaultTimeout),
		ttl:      orDuration(cfg.CacheTTL, DefaultCacheTTL),
		negTTL:   orDuration(cfg.NegativeTTL, DefaultNegativeTTL),
		maxBytes: cfg.MaxTokenBytes, max: cfg.MaxEntries, maxInFlight: cfg.MaxInFlight,
		client: cfg.HTTPClient, clock: depcheck.ClockOr(cfg.Clock), log: depcheck.LoggerOr(cfg.Logger),
		cache: map[[32]byte]*list.Element{}, lru: list.New(), inflight: map[[32]byte]*call{},
	}
	if out.maxBytes == 0 {
		out.maxBytes = DefaultMaxTokenBytes
	}
	if out.max == 0 {
		out.max = DefaultMaxEntries
	}
	if out.maxInFlight == 0 {
		out.maxInFlight = DefaultMaxInFlight
	}
	if out.client == nil {
		out.client = &http.Client{Timeout: out.timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // never send the request (a token) on to another host
		}}
	}
	return out, nil
}

func orDuration(v, d time.Duration) time.Duration {
	if v == 0 {
		return d
	}
	return v
}

func invalid(why string) error {
	return verifykit.Wrap(verifykit.KindUnauthorized, authz.MsgInvalidToken, fmt.Errorf("%w: %s", ErrInvalidToken, why))
}

// VerifyToken returns the claims of token when the server says it is active, from the
// cache when it answered recently.
func (v *Verifier) VerifyToken(ctx context.Context, token string) (ports.Claims, error) {
	if token == "" || len(token) > v.maxBytes {
		return ports.Claims{}, invalid("empty or too long")
	}
	k := sha256.Sum256([]byte(token))
	now := v.clock.Now()

	v.mu.Lock()
	if el, ok := v.cache[k]; ok {
		e := el.Value.(*entry)
		if now.Before(e.until) {
			v.lru.MoveToFront(el)
			v.mu.Unlock()
			if !e.active {
				return ports.Claims{}, invalid("inactive (cached)")
			}
			return cloneClaims(e.claims), nil
		}
		v.lru.Remove(el)
		delete(v.cache, k)
	}
	c, found := v.inflight[k]
	if !found {
		if len(v.inflight) >= v.maxInFlight {
			v.mu.Unlock()
			return ports.Claims{}, verifykit.Wrap(verifykit.KindUnavailable, MsgUnavailable, errTooManyInFlight)
		}
		c = &call{done: make(chan struct{})}
		v.inflight[k] = c
	}
	v.mu.Unlock()
	if !found {
		// The first caller of this token asks; it runs on in a goroutine of its own, bounded
		// by the timeout, so that its caller going away does not fail the others.
		go v.ask(context.WithoutCancel(ctx), k, token, c)
	}
	select {
	case <-c.done:
		return cloneClaims(c.claims), c.err
	case <-ctx.Done():
		return ports.Claims{}, verifykit.Wrap(verifykit.KindUnavailable, MsgUnavailable, ctx.Err())
	}
}

// errTooManyInFlight is the cause of the answer to a token that would start a call past
// Config.MaxInFlight.
var errTooManyInFlight = errors.New("introspection: too many calls under way")

// ask introspects token, caches the answer and hands it to the waiters of c.
func (v *Verifier) ask(ctx context.Context, k [32]byte, token string, c *call) {
	claims, active, until, err := v.introspect(ctx, token)
	v.mu.Lock()
	delete(v.inflight, k)
	if err == nil && v.clock.Now().Before(until) {
		v.store(&entry{key: k, claims: claims, active: active, until: until})
	}
	v.mu.Unlock()
	switch {
	case err != nil:
		c.err = err
	case !active:
		c.err = invalid("inactive")
	default:
		c.claims = claims
	}
	close(c.done)
}

// store caches e, dropping the least recently used entries past the bound. v.mu is held.
func (v *Verifier) store(e *entry) {
	if el, ok := v.cache[e.key]; ok {
		v.lru.Remove(el)
	}
	v.cache[e.key] = v.lru.PushFront(e)
	for v.lru.Len() > v.max {
		last := v.lru.Back()
		v.lru.Remove(last)
		delete(v.cache, last.Value.(*entry).key)
	}
}

// CacheLen returns the number of cached answers (for tests and metrics).
func (v *Verifier) CacheLen() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.lru.Len()
}

// introspect makes one call. It returns the claims, whether the token is active, until when
// the answer may be cached, or a KindUnavailable error.
func (v *Verifier) introspect(ctx context.Context, token string) (ports.Claims, bool, time.Time, error) {
	unavailable := func(err error) (ports.Claims, bool, time.Time, error) {
		v.log.LogAttrs(ctx, slog.LevelWarn, "token introspection failed",
			slog.String("endpoint", v.endpoint), slog.String("error", err.Error()))
		return ports.Claims{}, false, time.Time{}, verifykit.Wrap(verifykit.KindUnavailable, MsgUnavailable, err)
	}
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	if v.authMethod == ClientSecretPost {
		form.Set("client_id", v.clientID)
		form.Set("client_secret", v.secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return unavailable(fmt.Errorf("request: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if v.authMethod == ClientSecretBasic {
		req.SetBasicAuth(url.QueryEscape(v.clientID), url.QueryEscape(v.secret))
	}
	resp, err := v.client.Do(req)
	if err != nil {
		// The url.Error of a failed call names the endpoint, never the form.
		return unavailable(fmt.Errorf("call: %w", err))
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return unavailable(fmt.Errorf("status %d", resp.StatusCode))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return unavailable(fmt.Errorf("read: %w", err))
	}
	if len(body) > maxAnswerBytes {
		return unavailable(errors.New("answer too large"))
	}
	var answer map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&answer); err != nil || answer == nil {
		return unavailable(errors.New("answer is not a JSON object"))
	}
	active, ok := answer["active"].(bool)
	if !ok {
		return unavailable(errors.New(`answer has no boolean "active"`))
	}
	now := v.clock.Now()
	negative := func() (ports.Claims, bool, time.Time, error) {
		return ports.Claims{}, false, now.Add(v.negTTL), nil
	}
	if !active || !v.vouches(answer) || refreshToken(answer) {
		return negative()
	}
	claims, err := v.mapping.Apply(answer)
	if err != nil {
		return negative()
	}
	until := now.Add(v.ttl)
	if exp, ok := numericDate(answer["exp"]); ok {
		claims.ExpiresAt = exp
		if exp.Before(until) {
			until = exp
		}
	} else {
		// No exp: the token is good for as long as the answer is trusted (uncached
		// answers, a negative TTL: for the default TTL).
		claims.ExpiresAt = now.Add(DefaultCacheTTL)
		if v.ttl > 0 {
			claims.ExpiresAt = until
		}
	}
	return claims, true, until, nil
}

// refreshToken reports whether an answer says the token is a refresh token
// ("token_type", or Keycloak's "typ", or "token_use"): an authorization server that
// introspects refresh tokens too must not have them accepted as access tokens.
func refreshToken(answer map[string]any) bool {
	for _, k := range []string{"token_type", "typ", "token_use"} {
		if t, ok := answer[k].(string); ok {
			switch strings.ToLower(t) {
			case "refresh", "refresh_token", "refresh-token":
				return true
			}
		}
	}
	return false
}

// vouches checks the issuer and audience of an active answer, when configured.
func (v *Verifier) vouches(answer map[string]any) bool {
	if v.issuer != "" {
		if iss, _ := answer["iss"].(string); iss != v.issuer {
			return false
		}
	}
	if v.audience != "" {
		switch aud := answer["aud"].(type) {
		case string:
			return aud == v.audience
		case []any:
			return slices.Contains(aud, any(v.audience))
		default:
			return false
		}
	}
	return true
}

// numericDate reads a JSON NumericDate (seconds since the epoch).
func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || f <= 0 || f > 1<<40 {
		return time.Time{}, false
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), true
}

func cloneClaims(c ports.Claims) ports.Claims {
	c.Scopes = slices.Clone(c.Scopes)
	c.Permissions = slices.Clone(c.Permissions)
	return c
}
