package memory_test

import (
	"testing"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports"
	"github.com/verifykit/verifykit/ports/porttest"
)

// Stores that have only what the ports ask (and the suites' seeding method), as a host's
// own stores may: the adapter's other methods are hidden behind the interfaces.
type (
	narrowPersons    struct{ porttest.SeedablePersonStore }
	narrowConfidants struct {
		porttest.SeedableConfidantStore
	}
	narrowProcesses struct{ ports.ProcessStore }
	narrowResets    struct{ ports.ResetRequestStore }
)

// TestNarrowStoresPassTheSuites: a store with only the port's methods passes its suite
// with no porttest.Features; the cases of the adapters' extra methods
// (porttest.PersonUpdater, ...) are skipped.
func TestNarrowStoresPassTheSuites(t *testing.T) {
	t.Run("PersonStore", func(t *testing.T) {
		porttest.RunPersonStore(t, porttest.Features{}, func(*testing.T) porttest.SeedablePersonStore { return narrowPersons{memory.NewPersonStore()} })
	})
	t.Run("ConfidantStore", func(t *testing.T) {
		porttest.RunConfidantStore(t, porttest.Features{}, func(*testing.T) porttest.SeedableConfidantStore {
			return narrowConfidants{memory.NewConfidantStore()}
		})
	})
	t.Run("ProcessStore", func(t *testing.T) {
		porttest.RunProcessStore(t, porttest.Features{}, func(*testing.T) ports.ProcessStore { return narrowProcesses{memory.NewProcessStore()} })
	})
	t.Run("ResetRequestStore", func(t *testing.T) {
		porttest.RunResetRequestStore(t, porttest.Features{}, func(t *testing.T) porttest.ProfileStores {
			st := profileStores(t)
			st.ResetRequests = narrowResets{st.ResetRequests}
			return st
		})
	})
}
