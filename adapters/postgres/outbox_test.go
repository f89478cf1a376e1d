package postgres_test

import (
	"testing"

	"github.com/verifykit/verifykit/adapters/postgres/pgtest"
	"github.com/verifykit/verifykit/ports/porttest"
)

func TestOutboxConformance(t *testing.T) {
	pool := pgtest.NewPool(t)
	porttest.RunOutboxStore(t, features, func(t *testing.T) porttest.OutboxStores {
		db := pgtest.NewOn(t, pool)
		return porttest.OutboxStores{Outbox: db.Outbox(), Log: db.Outbox(), PersonRequests: db.PersonRequestStore()}
	})
}
