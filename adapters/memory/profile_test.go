package memory_test

import (
	"testing"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports"
	"github.com/verifykit/verifykit/ports/porttest"
)

func TestProfileStoreConformance(t *testing.T) {
	porttest.RunProfileStore(t, func(*testing.T) ports.ProfileStore { return memory.NewProfileStore() })
}

func TestResetRequestStoreConformance(t *testing.T) {
	porttest.RunResetRequestStore(t, func(*testing.T) ports.ResetRequestStore { return memory.NewResetRequestStore() })
}

func TestProfileAuditLogConformance(t *testing.T) {
	porttest.RunProfileAuditLog(t, func(*testing.T) ports.ProfileAuditLog { return memory.NewProfileAuditLog() })
}
