package httpstatus_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/internal/httpstatus"
)

func TestOf(t *testing.T) {
	for k, want := range map[verifykit.Kind]int{
		verifykit.KindInvalidInput: 422, verifykit.KindBadRequest: 400, verifykit.KindUnauthorized: 401,
		verifykit.KindForbidden: 403, verifykit.KindNotFound: 404, verifykit.KindConflict: 409,
		verifykit.KindRateLimited: 429, verifykit.KindUnavailable: 503, verifykit.KindInternal: 500, verifykit.KindNone: 500,
	} {
		code, typ := httpstatus.Of(k)
		require.Equal(t, want, code, k.String())
		require.NotEmpty(t, typ)
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	require.EqualValues(t, 1, httpstatus.RetryAfterSeconds(time.Millisecond), "rounded up")
	require.EqualValues(t, 30, httpstatus.RetryAfterSeconds(30*time.Second))
	require.EqualValues(t, 31, httpstatus.RetryAfterSeconds(30*time.Second+time.Nanosecond))
}
