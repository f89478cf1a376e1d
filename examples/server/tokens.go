package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"

	"github.com/verifykit/verifykit"
	vkjwt "github.com/verifykit/verifykit/adapters/jwt"
	"github.com/verifykit/verifykit/ports"
)

// tokenFlags are the flags of real token verification.
type tokenFlags struct {
	jwksURL  string
	issuer   string
	audience string
}

// addTokenFlags defines -jwks-url, -issuer and -audience on fs.
func addTokenFlags(fs *flag.FlagSet, f *tokenFlags) {
	fs.StringVar(&f.jwksURL, "jwks-url", "", "verify access tokens as JWTs with the keys of this JWKS URL (needs -issuer and -audience); with -dev the demo tokens still work; default: the demo tokens only")
	fs.StringVar(&f.issuer, "issuer", "", "the required \"iss\" of JWT access tokens (with -jwks-url)")
	fs.StringVar(&f.audience, "audience", "", "the required \"aud\" of JWT access tokens (with -jwks-url)")
}

// demoTokens is what the app keeps its tokens in: the demo table (memory.Tokens), or the
// JWT verifier with the demo table beside it.
type demoTokens interface {
	ports.TokenVerifier
	Add(token string, c ports.Claims)
}

// jwtTokens verifies JWTs; with dev, a token of the demo table is accepted first.
type jwtTokens struct {
	demo demoTokens
	jwt  *vkjwt.Verifier
	dev  bool
}

// Add registers a demo token (accepted only with -dev).
func (t *jwtTokens) Add(token string, c ports.Claims) { t.demo.Add(token, c) }

// VerifyToken accepts a demo token when dev, else verifies token as a JWT.
func (t *jwtTokens) VerifyToken(ctx context.Context, token string) (ports.Claims, error) {
	if t.dev {
		if c, err := t.demo.VerifyToken(ctx, token); err == nil {
			return c, nil
		}
	}
	return t.jwt.VerifyToken(ctx, token)
}

// serverClaims is the claim mapping of the server: Keycloak-shaped, with the person and
// organisation in claims of their own (a protocol mapper adds them).
func serverClaims() vkjwt.ClaimMapping {
	return vkjwt.ClaimMapping{
		PersonID:    "person_id",
		OrgID:       "org_id",
		Permissions: []string{"realm_access.roles", "permissions"},
	}
}

// useTokenVerifier makes a verify JWTs when -jwks-url is set; the JWKS is refreshed in the
// background until ctx is done. Without it the demo tokens stay the only ones.
func (a *app) useTokenVerifier(ctx context.Context, f tokenFlags, logger *slog.Logger) error {
	if f.jwksURL == "" {
		if f.issuer != "" || f.audience != "" {
			return errors.New("-issuer and -audience need -jwks-url")
		}
		return nil
	}
	v, err := vkjwt.New(vkjwt.Config{
		JWKSURL: f.jwksURL, Issuer: f.issuer, Audience: f.audience,
		Claims: serverClaims(), Clock: a.clock, Logger: logger,
	})
	if err != nil {
		var ve *verifykit.Error
		if errors.As(err, &ve) && len(ve.Invalid) > 0 {
			return errors.New("-jwks-url, -issuer, -audience: " + ve.Error())
		}
		return err
	}
	go func() { _ = v.Run(ctx) }()
	a.tokens = &jwtTokens{demo: a.tokens, jwt: v, dev: a.dev}
	logger.Info("access tokens are verified as JWTs", slog.String("jwks_url", f.jwksURL),
		slog.String("issuer", f.issuer), slog.String("audience", f.audience), slog.Bool("demo_tokens", a.dev))
	return nil
}
