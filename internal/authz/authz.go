// Package authz checks access tokens the same way for every domain package: the token is
// verified, its expiry compared with the clock, and the scopes a use case needs are
// required, with the messages of the eHealth APIs.
package authz

import (
	"context"
	"errors"
	"strings"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

// MsgInvalidToken is the message of every token failure.
const MsgInvalidToken = "Invalid access token"

// MsgMissingScopes starts the message of a scope failure; the missing scopes follow,
// separated by ", ".
const MsgMissingScopes = "Your scope does not allow to access this resource. Missing allowances: "

// Authorize verifies token, checks that it has not expired at clk.Now(), and that it
// carries every scope of scopes. It returns the claims, or a KindUnauthorized error
// "Invalid access token", or a KindForbidden error naming the missing scopes.
func Authorize(ctx context.Context, v ports.TokenVerifier, clk ports.Clock, token string, scopes ...string) (ports.Claims, error) {
	if strings.TrimSpace(token) == "" {
		return ports.Claims{}, verifykit.New(verifykit.KindUnauthorized, MsgInvalidToken)
	}
	claims, err := v.VerifyToken(ctx, token)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return ports.Claims{}, verifykit.Wrap(verifykit.KindUnavailable, "token verification was interrupted", err)
		}
		if k := verifykit.KindOf(err); k == verifykit.KindUnavailable {
			return ports.Claims{}, verifykit.Wrap(k, "token verification is unavailable", err)
		}
		return ports.Claims{}, verifykit.Wrap(verifykit.KindUnauthorized, MsgInvalidToken, err)
	}
	if claims.ExpiresAt.IsZero() || !clk.Now().Before(claims.ExpiresAt) {
		return ports.Claims{}, verifykit.New(verifykit.KindUnauthorized, MsgInvalidToken)
	}
	if err := RequireScopes(claims, scopes...); err != nil {
		return ports.Claims{}, err
	}
	return claims, nil
}

// RequireScopes returns a KindForbidden error naming the scopes of want that claims lack,
// or nil. Use it after Authorize when a check must come between the token and the scopes.
func RequireScopes(claims ports.Claims, want ...string) error {
	if missing := claims.MissingScopes(want...); len(missing) > 0 {
		return verifykit.New(verifykit.KindForbidden, MsgMissingScopes+strings.Join(missing, ", "))
	}
	return nil
}
