package jwt

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"golang.org/x/time/rate"

	"github.com/verifykit/verifykit"
)

// MsgKeysUnavailable is the message of the KindUnavailable error of a token whose keys
// cannot be fetched.
const MsgKeysUnavailable = "The keys that verify access tokens cannot be fetched right now."

// errRefreshLimited says a refresh was not tried: one was tried less than
// MinRefreshInterval ago.
var errRefreshLimited = errors.New("jwks refresh rate-limited")

// key is one public key the verifier may check signatures with.
type key struct {
	id     string
	alg    string // "" for any algorithm that fits the key
	public any    // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// newKey checks a public key and the algorithm it is restricted to.
func newKey(id, alg string, public any) (key, error) {
	switch p := public.(type) {
	case *rsa.PublicKey:
		if p == nil || p.N == nil || p.N.BitLen() < MinRSABits {
			return key{}, fmt.Errorf("an RSA key of fewer than %d bits", MinRSABits)
		}
	case *ecdsa.PublicKey:
		if p == nil || (p.Curve != elliptic.P256() && p.Curve != elliptic.P384() && p.Curve != elliptic.P521()) {
			return key{}, errors.New("an EC key of a curve other than P-256, P-384 and P-521")
		}
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return key{}, errors.New("an Ed25519 key of the wrong size")
		}
	default:
		return key{}, fmt.Errorf("a %T is not a supported public key (RSA, ECDSA P-256/384/521, Ed25519)", public)
	}
	k := key{id: id, alg: alg, public: public}
	if alg != "" && !supportedAlgorithms[alg] {
		return key{}, fmt.Errorf("algorithm %q is not an asymmetric signature algorithm", alg)
	}
	if alg != "" && !k.fits(alg) {
		return key{}, fmt.Errorf("algorithm %q does not fit the key", alg)
	}
	return k, nil
}

// fits reports whether k may verify a signature of alg: its type and curve fit the
// algorithm, and its own algorithm, when it names one, is alg.
func (k key) fits(alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch p := k.public.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return p.Curve == elliptic.P256()
		case "ES384":
			return p.Curve == elliptic.P384()
		case "ES512":
			return p.Curve == elliptic.P521()
		}
		return false
	case ed25519.PublicKey:
		return alg == "EdDSA" || alg == "Ed25519"
	}
	return false
}

// keyCache holds the static keys and the last JWKS fetched.
type keyCache struct {
	static  []key
	limiter *rate.Limiter // the fetches tokens cause, after the first
	sem     chan struct{} // one fetch at a time

	mu        sync.RWMutex
	remote    []key
	fetchedAt time.Time
	attempts  uint64 // fetches tried, ended (a waiter that sees it move does not fetch again)
	lastErr   error  // of the last fetch tried; nil after a success
}

type cacheState struct {
	attempts  uint64
	fetchedAt time.Time
	lastErr   error
}

func (c *keyCache) state() cacheState {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return cacheState{attempts: c.attempts, fetchedAt: c.fetchedAt, lastErr: c.lastErr}
}

// candidates returns the keys that may verify a token of kid and alg.
func (c *keyCache) candidates(kid, alg string) []key {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []key
	for _, list := range [][]key{c.static, c.remote} {
		for _, k := range list {
			if (kid == "" || k.id == kid) && k.fits(alg) {
				out = append(out, k)
			}
		}
	}
	return out
}

// keysFor returns the keys that may verify a token of kid and alg, fetching the JWKS when
// it was never fetched, when it is older than the refresh interval, or when kid names no
// key known — each fetch after the first rate-limited.
func (v *Verifier) keysFor(ctx context.Context, kid, alg string) ([]key, error) {
	c := v.keys
	if v.jwksURL == "" {
		if ks := c.candidates(kid, alg); len(ks) > 0 {
			return ks, nil
		}
		return nil, invalidf("no key fits kid %q and algorithm %s", truncate(kid), alg)
	}
	st := c.state()
	stale := st.fetchedAt.IsZero() || !v.clock.Now().Before(st.fetchedAt.Add(v.refreshAge))
	ks := c.candidates(kid, alg)
	if len(ks) > 0 && !stale {
		return ks, nil
	}
	// The keys are missing or old: fetch (or wait for the fetch in flight).
	// With keys in hand that fit, do not wait for a fetch another token started.
	err := v.refresh(ctx, st.attempts, false, len(ks) == 0)
	if cerr := ctx.Err(); cerr != nil && len(ks) == 0 {
		// The caller went away; the fetch it may have started goes on and counts.
		return nil, verifykit.Wrap(verifykit.KindUnavailable, MsgKeysUnavailable, cerr)
	}
	if err != nil && len(ks) > 0 {
		// Old keys that fit stay good until a fetch succeeds.
		if !errors.Is(err, errRefreshLimited) {
			v.log.LogAttrs(ctx, slog.LevelWarn, "jwks refresh failed; keeping the keys in hand",
				slog.String("jwks_url", v.jwksURL), slog.String("error", err.Error()))
		}
		return ks, nil
	}
	if ks = c.candidates(kid, alg); len(ks) > 0 {
		return ks, nil
	}
	switch {
	case err == nil:
		return nil, invalidf("no key fits kid %q and algorithm %s", truncate(kid), alg)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return nil, verifykit.Wrap(verifykit.KindUnavailable, MsgKeysUnavailable, err)
	case errors.Is(err, errRefreshLimited):
		if last := c.state().lastErr; last != nil {
			// The JWKS could not be fetched the last time: the kid may well be in it.
			return nil, verifykit.Wrap(verifykit.KindUnavailable, MsgKeysUnavailable, last)
		}
		return nil, invalidf("no key fits kid %q and algorithm %s", truncate(kid), alg)
	default:
		return nil, verifykit.Wrap(verifykit.KindUnavailable, MsgKeysUnavailable, err)
	}
}

// refresh fetches the JWKS unless a fetch ended since the caller saw seen attempts (it then
// uses that one's keys), or, unless forced, a fetch was tried less than MinRefreshInterval
// ago (errRefreshLimited). The first fetch is never limited. Unless wait, a fetch in flight
// is not waited for (errRefreshLimited).
func (v *Verifier) refresh(ctx context.Context, seen uint64, force, wait bool) error {
	c := v.keys
	if wait {
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	} else {
		select {
		case c.sem <- struct{}{}:
		default:
			return errRefreshLimited
		}
	}
	defer func() { <-c.sem }()
	st := c.state()
	if st.attempts != seen {
		return st.lastErr
	}
	if !force && st.attempts > 0 && !c.limiter.AllowN(v.clock.Now(), 1) {
		return errRefreshLimited
	}
	// The fetch does not end with the caller that started it (v.fetch bounds it with the
	// verifier's timeout), and every fetch counts: callers that hang up cannot start one
	// unlimited fetch each.
	keys, err := v.fetch(context.WithoutCancel(ctx))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.attempts++
	c.lastErr = err
	if err != nil {
		v.log.LogAttrs(ctx, slog.LevelWarn, "jwks fetch failed",
			slog.String("jwks_url", v.jwksURL), slog.String("error", err.Error()))
		return err
	}
	c.remote, c.fetchedAt = keys, v.clock.Now()
	return ctx.Err() // the keys are kept; a caller that went away still gets its answer
}

// Refresh fetches the JWKS now, whatever the rate limit, and keeps its keys. On failure the
// keys in hand stay, and the error is a KindUnavailable *verifykit.Error. With no JWKSURL it
// does nothing.
func (v *Verifier) Refresh(ctx context.Context) error {
	if v.jwksURL == "" {
		return nil
	}
	if err := v.refresh(ctx, v.keys.state().attempts, true, true); err != nil {
		return verifykit.Wrap(verifykit.KindUnavailable, MsgKeysUnavailable, err)
	}
	return nil
}

// Run refreshes the JWKS every RefreshInterval (by the wall clock) until ctx is done, then
// returns ctx's error. It is optional — keys past RefreshInterval are refreshed on the next
// token anyway — and spares that token the fetch. Start it in a goroutine of your own.
func (v *Verifier) Run(ctx context.Context) error {
	if v.jwksURL == "" {
		<-ctx.Done()
		return ctx.Err()
	}
	t := time.NewTicker(v.refreshAge)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			_ = v.Refresh(ctx) // logged by refresh; the old keys stay
		}
	}
}

// fetch GETs and parses the JWKS. Symmetric keys, keys whose "use" is not "sig", and keys
// of types the verifier does not support are left out.
func (v *Verifier) fetch(ctx context.Context) ([]key, error) {
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.jwksURL, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks request: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks fetch: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks fetch: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("jwks read: %w", err)
	}
	if len(body) > MaxJWKSBytes {
		return nil, fmt.Errorf("jwks larger than %d bytes", MaxJWKSBytes)
	}
	set, err := jwk.Parse(body, jwk.WithStrictKeySetParsing(false))
	if err != nil {
		return nil, fmt.Errorf("jwks parse: %w", err)
	}
	keys := make([]key, 0, set.Len())
	for i := range set.Len() {
		jk, ok := set.Key(i)
		if !ok || jk.KeyType() == jwa.OctetSeq() {
			continue
		}
		if use, ok := jk.KeyUsage(); ok && use != "sig" {
			continue
		}
		id, _ := jk.KeyID()
		var alg string
		if a, ok := jk.Algorithm(); ok {
			alg = a.String()
		}
		pub, err := jwk.PublicRawKeyOf(jk)
		if err != nil {
			continue
		}
		k, err := newKey(id, alg, pub)
		if err != nil {
			continue // an unsupported or weak key: never used
		}
		keys = append(keys, k)
	}
	return keys, nil
}
