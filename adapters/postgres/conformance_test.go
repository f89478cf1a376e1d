package postgres_test

import (
	"testing"

	"github.com/verifykit/verifykit/adapters/postgres"
	"github.com/verifykit/verifykit/adapters/postgres/pgtest"
	"github.com/verifykit/verifykit/ports"
	"github.com/verifykit/verifykit/ports/porttest"
)

// features are the optional guarantees of the PostgreSQL stores: all of them, each suite
// using its own.
var features = porttest.Features{ProcessDelete: true, PersonUpdate: true, ConfidantUpdate: true, ResetRequestOpen: true}

// TestConformance runs every ports/porttest suite against PostgreSQL, each sub-test of a
// suite on its own new schema of one shared pool.
func TestConformance(t *testing.T) {
	pool := pgtest.NewPool(t)
	db := func(t *testing.T) *postgres.DB { return pgtest.NewOn(t, pool) }

	t.Run("OTPStore", func(t *testing.T) {
		porttest.RunOTPStore(t, features, func(t *testing.T) ports.OTPStore { return db(t).OTPStore() })
	})
	t.Run("OTPStoreOutbox", func(t *testing.T) {
		porttest.RunOTPStoreOutbox(t, features, func(t *testing.T) porttest.OTPOutboxStores {
			d := db(t)
			return porttest.OTPOutboxStores{Store: d.OTPStore(), Outbox: d.Outbox(), Limiter: d.RateLimiter()}
		})
	})
	t.Run("RateLimiter", func(t *testing.T) {
		porttest.RunRateLimiter(t, features, func(t *testing.T) ports.RateLimiter { return db(t).RateLimiter() })
	})
	profileStores := func(t *testing.T) porttest.ProfileStores {
		d := db(t)
		return porttest.ProfileStores{Profiles: d.ProfileStore(), ResetRequests: d.ResetRequestStore(), Audit: d.ProfileAuditLog(), Outbox: d.Outbox()}
	}
	t.Run("ProfileStore", func(t *testing.T) { porttest.RunProfileStore(t, features, profileStores) })
	t.Run("ResetRequestStore", func(t *testing.T) { porttest.RunResetRequestStore(t, features, profileStores) })
	t.Run("ProfileAuditLog", func(t *testing.T) { porttest.RunProfileAuditLog(t, features, profileStores) })
	t.Run("ProcessStore", func(t *testing.T) {
		porttest.RunProcessStore(t, features, func(t *testing.T) ports.ProcessStore { return db(t).ProcessStore() })
	})
	t.Run("PersonRequestStore", func(t *testing.T) {
		porttest.RunPersonRequestStore(t, features, func(t *testing.T) ports.PersonRequestStore { return db(t).PersonRequestStore() })
	})
	t.Run("PersonStore", func(t *testing.T) {
		porttest.RunPersonStore(t, features, func(t *testing.T) porttest.SeedablePersonStore { return db(t).PersonStore() })
	})
	t.Run("AuthMethodStore", func(t *testing.T) {
		porttest.RunAuthMethodStore(t, features, func(t *testing.T) porttest.SeedableAuthMethodStore { return db(t).AuthMethodStore() })
	})
	t.Run("ConfidantStore", func(t *testing.T) {
		porttest.RunConfidantStore(t, features, func(t *testing.T) porttest.SeedableConfidantStore { return db(t).ConfidantStore() })
	})
}
