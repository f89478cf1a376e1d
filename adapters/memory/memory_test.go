package memory_test

import (
	"testing"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports"
	"github.com/verifykit/verifykit/ports/porttest"
)

func TestOTPStoreConformance(t *testing.T) {
	porttest.RunOTPStore(t, func(*testing.T) ports.OTPStore { return memory.NewOTPStore() })
}

func TestOTPStoreOutbox(t *testing.T) {
	porttest.RunOTPStoreOutbox(t, func(*testing.T) porttest.OTPOutboxStores {
		s, o := memory.NewOTPStore(), memory.NewOutbox()
		s.PublishTo(o)
		return porttest.OTPOutboxStores{Store: s, Outbox: o, Limiter: memory.NewRateLimiter()}
	})
}

func TestRateLimiterConformance(t *testing.T) {
	// Memory is fast: compare it with the model over many more sequences than the default.
	porttest.RunRateLimiter(t, func(*testing.T) ports.RateLimiter { return memory.NewRateLimiter() }, porttest.ModelSequences(5_000))
}
