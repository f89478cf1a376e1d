package memory_test

import (
	"testing"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports"
	"github.com/verifykit/verifykit/ports/porttest"
)

func TestPersonRequestStoreConformance(t *testing.T) {
	porttest.RunPersonRequestStore(t, features, func(*testing.T) ports.PersonRequestStore { return memory.NewPersonRequestStore() })
}
