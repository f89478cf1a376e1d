package redis_test

import (
	"testing"

	"github.com/verifykit/verifykit/adapters/redis"
	"github.com/verifykit/verifykit/ports"
	"github.com/verifykit/verifykit/ports/porttest"
)

func TestOTPStoreConformance(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		client := tg.client(t)
		porttest.RunOTPStore(t, func(t *testing.T) ports.OTPStore {
			return newDB(t, client, redis.Options{}).OTPStore()
		})
	})
}

func TestOTPStoreConformanceWaitingForAReplica(t *testing.T) {
	need(t, envCluster)
	client := clusterClient(t)
	porttest.RunOTPStore(t, func(t *testing.T) ports.OTPStore {
		return newDB(t, client, redis.Options{WaitReplicas: 1}).OTPStore()
	})
}

func TestRateLimiterConformanceWaitingForAReplica(t *testing.T) {
	need(t, envCluster)
	client := clusterClient(t)
	porttest.RunRateLimiter(t, func(t *testing.T) ports.RateLimiter {
		return newDB(t, client, redis.Options{WaitReplicas: 1}).RateLimiter()
	})
}

func TestRateLimiterConformance(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		client := tg.client(t)
		porttest.RunRateLimiter(t, func(t *testing.T) ports.RateLimiter {
			return newDB(t, client, redis.Options{}).RateLimiter()
		}, porttest.ModelSequences(porttest.DefaultModelSequences))
	})
}
