package memory_test

import (
	"testing"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports/porttest"
)

func TestPersonStoreConformance(t *testing.T) {
	porttest.RunPersonStore(t, features, func(*testing.T) porttest.SeedablePersonStore { return memory.NewPersonStore() })
}
