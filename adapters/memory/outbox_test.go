package memory_test

import (
	"testing"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports/porttest"
)

func TestOutboxConformance(t *testing.T) {
	porttest.RunOutboxStore(t, features, func(t *testing.T) porttest.OutboxStores {
		o := memory.NewOutbox()
		prs := memory.NewPersonRequestStore()
		prs.PublishTo(o)
		return porttest.OutboxStores{Outbox: o, Log: o, PersonRequests: prs}
	})
}
