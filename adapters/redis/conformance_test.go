package redis_test

import (
	"testing"

	"github.com/verifykit/verifykit/adapters/redis"
	"github.com/verifykit/verifykit/ports"
	"github.com/verifykit/verifykit/ports/porttest"
)

// layouts are the two key layouts of the OTPStore: a hash tag per purpose and subject, and,
// with KeepEvents, the outbox's shards.
var layouts = []struct {
	name string
	opts redis.Options
}{
	{"OwnTag", redis.Options{}},
	{"KeepEvents", redis.Options{KeepEvents: true}},
}

func TestOTPStoreConformance(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		client := tg.client(t)
		for _, l := range layouts {
			t.Run(l.name, func(t *testing.T) {
				porttest.RunOTPStore(t, porttest.Features{}, func(t *testing.T) ports.OTPStore {
					return newDB(t, client, l.opts).OTPStore()
				})
			})
		}
	})
}

func TestOTPStoreConformanceWaitingForAReplica(t *testing.T) {
	need(t, envCluster)
	client := clusterClient(t)
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			opts := l.opts
			opts.WaitReplicas = 1
			porttest.RunOTPStore(t, porttest.Features{}, func(t *testing.T) ports.OTPStore {
				return newDB(t, client, opts).OTPStore()
			})
		})
	}
}

func TestOutboxConformance(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		client := tg.client(t)
		for _, shards := range []struct {
			name string
			n    int
		}{{"DefaultShards", 0}, {"OneShard", 1}} {
			t.Run(shards.name, func(t *testing.T) {
				porttest.RunOutboxStore(t, porttest.Features{}, func(t *testing.T) porttest.OutboxStores {
					db := newDB(t, client, redis.Options{KeepEvents: true, EventShards: shards.n})
					return porttest.OutboxStores{Outbox: db.Outbox(), Log: db.Outbox()}
				})
			})
		}
	})
}

// TestOTPStoreOutbox checks the events of the OTPStore with KeepEvents: written with their
// Verifications and stamped with their versions, those of the otp engine too.
func TestOTPStoreOutbox(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		client := tg.client(t)
		porttest.RunOTPStoreOutbox(t, porttest.Features{}, func(t *testing.T) porttest.OTPOutboxStores {
			db := newDB(t, client, redis.Options{KeepEvents: true})
			return porttest.OTPOutboxStores{Store: db.OTPStore(), Outbox: db.Outbox(), Limiter: db.RateLimiter()}
		})
	})
}

func TestRateLimiterConformanceWaitingForAReplica(t *testing.T) {
	need(t, envCluster)
	client := clusterClient(t)
	porttest.RunRateLimiter(t, porttest.Features{}, func(t *testing.T) ports.RateLimiter {
		return newDB(t, client, redis.Options{WaitReplicas: 1}).RateLimiter()
	})
}

func TestRateLimiterConformance(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		client := tg.client(t)
		porttest.RunRateLimiter(t, porttest.Features{ModelSequences: porttest.DefaultModelSequences}, func(t *testing.T) ports.RateLimiter {
			return newDB(t, client, redis.Options{}).RateLimiter()
		})
	})
}
