package postgres_test

import (
	"testing"

	"github.com/verifykit/verifykit/adapters/postgres/pgtest"
	"github.com/verifykit/verifykit/ports"
	"github.com/verifykit/verifykit/ports/porttest"
)

func TestOTPStoreConformance(t *testing.T) {
	pool := pgtest.NewPool(t)
	porttest.RunOTPStore(t, func(t *testing.T) ports.OTPStore { return pgtest.NewOn(t, pool).OTPStore() })
}

func TestRateLimiterConformance(t *testing.T) {
	pool := pgtest.NewPool(t)
	porttest.RunRateLimiter(t, func(t *testing.T) ports.RateLimiter { return pgtest.NewOn(t, pool).RateLimiter() })
}
