package porttest_test

import (
	"fmt"
	"testing"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports"
	"github.com/verifykit/verifykit/ports/porttest"
)

// A host that writes a store of its own runs the same conformance suites as the shipped
// adapters, from a test of its own package, with the Features its stores have; a failing
// case reads by name, TestMyProcessStore/ListFiltersOrdersAndPages for example. (An
// example cannot hold a *testing.T, so this one shows the test functions.)
func Example() {
	_ = func(t *testing.T) { // func TestMyProcessStore(t *testing.T) in the host's package
		// The host's store has Delete (porttest.ProcessDeleter): its cases run too.
		porttest.RunProcessStore(t, porttest.Features{ProcessDelete: true}, func(*testing.T) ports.ProcessStore {
			return memory.NewProcessStore() // the host's own store here
		})
	}
	_ = func(t *testing.T) { // func TestMyRateLimiter(t *testing.T)
		porttest.RunRateLimiter(t, porttest.Features{ModelSequences: 1000}, func(*testing.T) ports.RateLimiter {
			return memory.NewRateLimiter() // the host's own limiter here
		})
	}
}

// The cases of RunProcessStore, by the names a host's test output shows after its own
// test's (DeleteChecksAtomically needs Features.ProcessDelete).
func ExampleCaseNames() {
	for _, name := range porttest.CaseNames()["ProcessStore"] {
		fmt.Println(name)
	}
	// Output:
	// Errors
	// CreateGetRoundTrips
	// CreateDuplicateIDInAnyOrg
	// OtherOrgIsNotFound
	// UpdateWritesWhatFnLeaves
	// FailedUpdateLeavesTheProcessAsBefore
	// ValuesAreCopied
	// DeleteChecksAtomically
	// ListFiltersOrdersAndPages
	// ExpireDue
	// ConcurrentUpdatesAreSerialised
	// ConcurrentTransitionSucceedsOnce
	// ConcurrentDeleteAndUpdate
	// CancelledContext
}
