package memory_test

import (
	"testing"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports"
	"github.com/verifykit/verifykit/ports/porttest"
)

func TestProcessStoreConformance(t *testing.T) {
	porttest.RunProcessStore(t, features, func(*testing.T) ports.ProcessStore { return memory.NewProcessStore() })
}
