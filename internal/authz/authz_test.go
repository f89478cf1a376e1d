package authz_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/internal/authz"
	"github.com/verifykit/verifykit/ports"
)

func TestAuthorize(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	clock := memory.NewClock(now)
	tokens := memory.NewTokens()
	tokens.Add("good", ports.Claims{Subject: "u", Scopes: []string{"a", "b"}, ExpiresAt: now.Add(time.Hour)})
	tokens.Add("expired", ports.Claims{Subject: "u", Scopes: []string{"a"}, ExpiresAt: now})
	tokens.Add("no-expiry", ports.Claims{Subject: "u", Scopes: []string{"a"}})
	cases := []struct {
		name, token string
		scopes      []string
		kind        verifykit.Kind
		msg         string
	}{
		{"valid", "good", []string{"a", "b"}, 0, ""},
		{"empty token", "", nil, verifykit.KindUnauthorized, "Invalid access token"},
		{"unknown token", "nope", nil, verifykit.KindUnauthorized, "Invalid access token"},
		{"expired at the instant", "expired", nil, verifykit.KindUnauthorized, "Invalid access token"},
		{"no expiry", "no-expiry", nil, verifykit.KindUnauthorized, "Invalid access token"},
		{"missing scopes", "good", []string{"a", "c", "d"}, verifykit.KindForbidden,
			"Your scope does not allow to access this resource. Missing allowances: c, d"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := authz.Authorize(context.Background(), tokens, clock, tc.token, tc.scopes...)
			if tc.msg == "" {
				require.NoError(t, err)
				require.Equal(t, "u", claims.Subject)
				return
			}
			var ve *verifykit.Error
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.kind, ve.Kind)
			require.Equal(t, tc.msg, ve.Message)
		})
	}
}
