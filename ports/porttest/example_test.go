package porttest_test

import (
	"testing"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports"
	"github.com/verifykit/verifykit/ports/porttest"
)

// A host that writes a store of its own runs the same conformance suites as the shipped
// adapters, from a test of its own package; a failing case reads by name. (An example
// cannot hold a *testing.T, so this one shows the test function.)
func Example() {
	_ = func(t *testing.T) { // func TestMyRateLimiter(t *testing.T) in the host's package
		porttest.RunRateLimiter(t, func(*testing.T) ports.RateLimiter {
			return memory.NewRateLimiter() // the host's own limiter here
		}, porttest.ModelSequences(1000))
	}
}
