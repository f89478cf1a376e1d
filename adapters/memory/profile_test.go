package memory_test

import (
	"testing"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports/porttest"
)

// profileStores returns a new ProfileStore with its read views.
func profileStores(*testing.T) porttest.ProfileStores {
	s, o := memory.NewProfileStore(), memory.NewOutbox()
	s.PublishTo(o)
	return porttest.ProfileStores{Profiles: s, ResetRequests: s.ResetRequests(), Audit: s.AuditLog(), Outbox: o}
}

func TestProfileStoreConformance(t *testing.T) {
	porttest.RunProfileStore(t, features, profileStores)
}

func TestResetRequestStoreConformance(t *testing.T) {
	porttest.RunResetRequestStore(t, features, profileStores)
}

func TestProfileAuditLogConformance(t *testing.T) {
	porttest.RunProfileAuditLog(t, features, profileStores)
}
