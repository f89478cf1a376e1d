package memory_test

import (
	"testing"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports/porttest"
)

func TestAuthMethodStoreConformance(t *testing.T) {
	porttest.RunAuthMethodStore(t, features, func(*testing.T) porttest.SeedableAuthMethodStore { return memory.NewAuthMethodStore() })
}
