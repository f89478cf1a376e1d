package jwt

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"
	"golang.org/x/time/rate"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/internal/claimmap"
	"github.com/verifykit/verifykit/internal/authz"
	"github.com/verifykit/verifykit/internal/depcheck"
	"github.com/verifykit/verifykit/ports"
)

// ClaimMapping names the claims that fill ports.Claims; adapters/introspection has the
// same type. The zero value reads "sub" and the scopes of "scope" or "scp".
type ClaimMapping = claimmap.Mapping

// DefaultClaimMapping returns the mapping of a token that follows the standards only: the
// subject from "sub", the scopes from "scope" (space-separated) or "scp" (an array).
func DefaultClaimMapping() ClaimMapping { return claimmap.Default() }

// ErrInvalidToken is wrapped by the error of every token that fails a check: match it with
// errors.Is. The error itself is a *verifykit.Error of KindUnauthorized.
var ErrInvalidToken = errors.New("jwt: invalid access token")

// Defaults of Config, and limits.
const (
	// DefaultRefreshInterval is the default of Config.RefreshInterval.
	DefaultRefreshInterval = 15 * time.Minute
	// DefaultMinRefreshInterval is the default of Config.MinRefreshInterval.
	DefaultMinRefreshInterval = 30 * time.Second
	// DefaultFetchTimeout is the default of Config.FetchTimeout.
	DefaultFetchTimeout = 10 * time.Second
	// DefaultMaxTokenBytes is the default of Config.MaxTokenBytes.
	DefaultMaxTokenBytes = 16 << 10
	// MaxJWKSBytes is the largest JWKS document the verifier reads.
	MaxJWKSBytes = 1 << 20
	// MinRSABits is the smallest RSA modulus the verifier accepts as a key.
	MinRSABits = 2048
)

// DefaultAlgorithms are the algorithms Config.Algorithms allows when it is empty.
func DefaultAlgorithms() []string { return []string{"RS256", "ES256", "EdDSA"} }

// supportedAlgorithms are the algorithms Config.Algorithms may name: asymmetric ones only.
var supportedAlgorithms = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true,
	"EdDSA": true, "Ed25519": true,
}

// Key is a static public key.
type Key struct {
	// ID is the key id: a token whose header names this kid is checked with this key. A
	// token without a kid is checked with every key that fits its algorithm.
	ID string
	// Public is the key: *rsa.PublicKey (at least MinRSABits), *ecdsa.PublicKey (P-256,
	// P-384, P-521) or ed25519.PublicKey. Private and symmetric keys are refused.
	Public crypto.PublicKey
	// Algorithm, when set, is the only algorithm this key verifies, e.g. "RS256".
	Algorithm string
}

// Config configures a Verifier.
type Config struct {
	// JWKSURL is where the JSON Web Key Set is fetched, e.g.
	// https://id.example.com/realms/health/protocol/openid-connect/certs. Either JWKSURL or
	// Keys (or both) is required.
	JWKSURL string
	// Keys are static public keys, used beside those of the JWKS.
	Keys []Key
	// Issuer is the required "iss" of every token. Required.
	Issuer string
	// Audience must be among the "aud" of every token. Required.
	Audience string
	// Algorithms is the allow-list of signature algorithms. Default DefaultAlgorithms().
	// Only asymmetric algorithms may be named (RS*, PS*, ES*, EdDSA, Ed25519).
	Algorithms []string
	// Leeway is the clock skew allowed on "exp", "nbf" and "iat". Default 0. It is added
	// to Claims.ExpiresAt, so that the domain's own expiry check allows it too.
	Leeway time.Duration
	// RequireATJWT refuses every token whose header "typ" is not "at+jwt" (RFC 9068).
	RequireATJWT bool
	// Claims maps the token's claims to ports.Claims. Empty fields of Subject and Scopes
	// take the defaults of DefaultClaimMapping.
	Claims ClaimMapping
	// RefreshInterval is the age at which the JWKS is fetched again. Default
	// DefaultRefreshInterval.
	RefreshInterval time.Duration
	// MinRefreshInterval is the least time between two fetches of the JWKS that tokens
	// caused (an unknown kid, keys past RefreshInterval, a failed fetch to retry). Default
	// DefaultMinRefreshInterval.
	MinRefreshInterval time.Duration
	// HTTPClient fetches the JWKS. Default: a client of its own.
	HTTPClient *http.Client
	// FetchTimeout bounds one fetch of the JWKS. Default DefaultFetchTimeout.
	FetchTimeout time.Duration
	// MaxTokenBytes is the longest token looked at. Default DefaultMaxTokenBytes.
	MaxTokenBytes int
	// Clock tells the time of the time claims and of the refreshes. Default: the system
	// clock. Give the domain's clock.
	Clock ports.Clock
	// Logger receives the JWKS fetch failures (the URL and the error, never a token).
	// Default: discard.
	Logger *slog.Logger
}

// Verifier verifies JWT access tokens; it is a ports.TokenVerifier, safe for concurrent
// use. Build it with New.
type Verifier struct {
	jwksURL    string
	issuer     string
	audience   string
	algs       map[string]jwa.SignatureAlgorithm
	leeway     time.Duration
	requireAT  bool
	mapping    ClaimMapping
	maxBytes   int
	refreshAge time.Duration
	client     *http.Client
	timeout    time.Duration
	clock      ports.Clock
	log        *slog.Logger
	keys       *keyCache
}

var _ ports.TokenVerifier = (*Verifier)(nil)

// New checks cfg and returns its Verifier. It fetches nothing: the JWKS is fetched when the
// first token needs it (or by Refresh), so a provider that is down at start-up does not keep
// the host from starting. Configuration errors are a KindInvalidInput *verifykit.Error
// naming every offending field.
func New(cfg Config) (*Verifier, error) {
	var v verifykit.Validation
	bad := func(field, rule, desc string) {
		v.AddEntry(verifykit.InvalidEntry{Entry: field, EntryType: verifykit.EntryConfig, Rule: rule, Description: desc})
	}
	if cfg.JWKSURL == "" && len(cfg.Keys) == 0 {
		bad("JWKSURL", "required", "is required when there are no static Keys")
	}
	if cfg.JWKSURL != "" {
		if u, err := url.Parse(cfg.JWKSURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("JWKSURL", "format", "is not an http(s) URL")
		}
	}
	if strings.TrimSpace(cfg.Issuer) == "" {
		bad("Issuer", "required", "is required")
	}
	if strings.TrimSpace(cfg.Audience) == "" {
		bad("Audience", "required", "is required")
	}
	names := cfg.Algorithms
	if len(names) == 0 {
		names = DefaultAlgorithms()
	}
	algs := make(map[string]jwa.SignatureAlgorithm, len(names))
	for i, name := range names {
		a, ok := jwa.LookupSignatureAlgorithm(name)
		if !supportedAlgorithms[name] || !ok {
			bad(fmt.Sprintf("Algorithms[%d]", i), "inclusion", "is not an asymmetric signature algorithm (none and HMAC are never allowed)")
			continue
		}
		algs[name] = a
	}
	if cfg.Leeway < 0 {
		bad("Leeway", "range", "must not be negative")
	}
	if cfg.RefreshInterval < 0 || cfg.MinRefreshInterval < 0 || cfg.FetchTimeout < 0 || cfg.MaxTokenBytes < 0 {
		bad("RefreshInterval", "range", "durations and sizes must not be negative")
	}
	static := make([]key, 0, len(cfg.Keys))
	for i, k := range cfg.Keys {
		sk, err := newKey(k.ID, k.Algorithm, k.Public)
		if err != nil {
			bad(fmt.Sprintf("Keys[%d]", i), "format", err.Error())
			continue
		}
		static = append(static, sk)
	}
	mapping := cfg.Claims.WithDefaults()
	if err := mapping.Validate("Claims."); err != nil {
		var ve *verifykit.Error
		if errors.As(err, &ve) {
			for _, e := range ve.Invalid {
				v.AddEntry(e)
			}
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	out := &Verifier{
		jwksURL: cfg.JWKSURL, issuer: cfg.Issuer, audience: cfg.Audience, algs: algs,
		leeway: cfg.Leeway, requireAT: cfg.RequireATJWT, mapping: mapping,
		maxBytes:   orInt(cfg.MaxTokenBytes, DefaultMaxTokenBytes),
		refreshAge: orDuration(cfg.RefreshInterval, DefaultRefreshInterval),
		client:     cfg.HTTPClient,
		timeout:    orDuration(cfg.FetchTimeout, DefaultFetchTimeout),
		clock:      depcheck.ClockOr(cfg.Clock),
		log:        depcheck.LoggerOr(cfg.Logger),
	}
	if out.client == nil {
		out.client = &http.Client{Timeout: out.timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // never send the request (a token) on to another host
		}}
	}
	minGap := orDuration(cfg.MinRefreshInterval, DefaultMinRefreshInterval)
	out.keys = &keyCache{
		static:  static,
		limiter: rate.NewLimiter(rate.Every(minGap), 1),
		sem:     make(chan struct{}, 1),
	}
	return out, nil
}

func orInt(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

func orDuration(v, d time.Duration) time.Duration {
	if v == 0 {
		return d
	}
	return v
}

// header is the part of a JWS protected header the verifier reads before any key.
type header struct {
	Alg  string   `json:"alg"`
	Kid  string   `json:"kid"`
	Typ  string   `json:"typ"`
	Crit []string `json:"crit"`
}

// invalid returns the error of a token that fails a check: KindUnauthorized, the rules'
// message, wrapping ErrInvalidToken and why.
func invalid(why error) error {
	return verifykit.Wrap(verifykit.KindUnauthorized, authz.MsgInvalidToken, fmt.Errorf("%w: %w", ErrInvalidToken, why))
}

func invalidf(format string, args ...any) error { return invalid(fmt.Errorf(format, args...)) }

// VerifyToken checks token and returns its claims. A token that fails a check gets a
// KindUnauthorized error wrapping ErrInvalidToken; keys that cannot be fetched when the
// token needs them get a KindUnavailable error.
func (v *Verifier) VerifyToken(ctx context.Context, token string) (ports.Claims, error) {
	if token == "" || len(token) > v.maxBytes {
		return ports.Claims{}, invalidf("empty or longer than %d bytes", v.maxBytes)
	}
	if strings.Count(token, ".") != 2 {
		return ports.Claims{}, invalidf("not a compact JWS")
	}
	h, err := parseHeader(token[:strings.IndexByte(token, '.')])
	if err != nil {
		return ports.Claims{}, invalid(err)
	}
	alg, ok := v.algs[h.Alg]
	if !ok {
		return ports.Claims{}, invalidf("algorithm %q is not allowed", truncate(h.Alg))
	}
	at, err := v.checkType(h.Typ)
	if err != nil {
		return ports.Claims{}, invalid(err)
	}
	if len(h.Crit) > 0 {
		return ports.Claims{}, invalidf("critical header parameters are not supported")
	}
	candidates, err := v.keysFor(ctx, h.Kid, h.Alg)
	if err != nil {
		return ports.Claims{}, err
	}
	var payload []byte
	verr := errors.New("no key")
	for _, k := range candidates {
		payload, verr = jws.Verify([]byte(token), jws.WithKey(alg, k.public), jws.WithAlgorithmMatch(true))
		if verr == nil {
			break
		}
	}
	if verr != nil {
		return ports.Claims{}, invalidf("signature: %w", verr)
	}
	return v.claims(token, payload, at)
}

// claims validates the registered claims of a token whose signature was verified, and maps
// its claims.
func (v *Verifier) claims(token string, payload []byte, atJWT bool) (ports.Claims, error) {
	opts := []jwxjwt.ParseOption{
		jwxjwt.WithVerify(false), // verified above, with the algorithm and key we chose
		jwxjwt.WithValidate(true),
		jwxjwt.WithIssuer(v.issuer),
		jwxjwt.WithAudience(v.audience),
		jwxjwt.WithAcceptableSkew(v.leeway),
		jwxjwt.WithClock(v.clock),
		jwxjwt.WithRequiredClaim(jwxjwt.ExpirationKey),
	}
	if atJWT {
		for _, c := range []string{jwxjwt.SubjectKey, jwxjwt.IssuedAtKey, jwxjwt.JwtIDKey, "client_id"} {
			opts = append(opts, jwxjwt.WithRequiredClaim(c))
		}
	}
	tok, err := jwxjwt.ParseString(token, opts...)
	if err != nil {
		return ports.Claims{}, invalidf("claims: %w", err)
	}
	exp, ok := tok.Expiration()
	if !ok || exp.IsZero() {
		return ports.Claims{}, invalidf("no exp")
	}
	var all map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&all); err != nil || all == nil {
		return ports.Claims{}, invalidf("claims are not a JSON object")
	}
	c, err := v.mapping.Apply(all)
	if err != nil {
		return ports.Claims{}, invalid(err)
	}
	c.ExpiresAt = exp.Add(v.leeway)
	return c, nil
}

// parseHeader decodes the protected header of a compact JWS.
func parseHeader(seg string) (header, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		return header{}, errors.New("header is not base64url")
	}
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return header{}, errors.New("header is not a JSON object of the expected members")
	}
	return h, nil
}

// checkType accepts the header types of an access token and reports whether it is an
// RFC 9068 "at+jwt".
func (v *Verifier) checkType(typ string) (bool, error) {
	t := strings.ToLower(typ)
	at := t == "at+jwt" || t == "application/at+jwt"
	switch {
	case at:
		return true, nil
	case v.requireAT:
		return false, fmt.Errorf("typ %q is not at+jwt", truncate(typ))
	case t == "" || t == "jwt":
		return false, nil
	default:
		return false, fmt.Errorf("typ %q is not an access token type", truncate(typ))
	}
}

// truncate keeps a value a token chose short enough to put in an error.
func truncate(s string) string {
	const max = 32
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
