package memory_test

import (
	"testing"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports/porttest"
)

func TestConfidantStoreConformance(t *testing.T) {
	porttest.RunConfidantStore(t, features, func(*testing.T) porttest.SeedableConfidantStore { return memory.NewConfidantStore() })
}
