package memory_test

import (
	"testing"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports"
	"github.com/verifykit/verifykit/ports/porttest"
)

func TestPersonStoreConformance(t *testing.T) {
	porttest.RunPersonStore(t, func(*testing.T) ports.PersonStore { return memory.NewPersonStore() })
}

func TestAuthMethodStoreConformance(t *testing.T) {
	porttest.RunAuthMethodStore(t, func(*testing.T) ports.AuthMethodStore { return memory.NewAuthMethodStore() })
}

func TestConfidantStoreConformance(t *testing.T) {
	porttest.RunConfidantStore(t, func(*testing.T) ports.ConfidantStore { return memory.NewConfidantStore() })
}
