package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	vkredis "github.com/verifykit/verifykit/adapters/redis"
)

// useRedis keeps the standalone one-time codes and every rate limit in Redis when
// cfg.redisAddrs (-redis) is set: one address is a single node (redis.NewClient), several
// are the nodes of a Redis Cluster (redis.NewClusterClient). The records and the codes they
// hold stay where they were (memory or PostgreSQL). With -webhook the codes keep their
// events in the Redis outbox (Options.KeepEvents), which useEvents dispatches; without, they
// drop them (pending events never expire, so none are kept that nothing delivers). It checks
// that the server answers; on failure it closes what the app opened so far.
func (a *app) useRedis(ctx context.Context, cfg config) error {
	addrs := cfg.redisAddrs
	if addrs == "" {
		return nil
	}
	var client goredis.UniversalClient
	nodes := strings.Split(addrs, ",")
	if len(nodes) == 1 {
		client = goredis.NewClient(&goredis.Options{Addr: nodes[0]})
	} else {
		client = goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: nodes})
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	keep := cfg.events.url != ""
	db, err := vkredis.New(client, vkredis.Options{Prefix: cfg.redisPrefix, KeepEvents: keep})
	if err == nil {
		err = client.Ping(pingCtx).Err()
	}
	if err != nil {
		_ = client.Close()
		a.close()
		return fmt.Errorf("redis: %w", err)
	}
	closeBefore := a.close
	a.close = func() {
		_ = client.Close()
		closeBefore()
	}
	a.codeStore, a.limiter = db.OTPStore(), db.RateLimiter()
	if keep {
		a.codeEvents = db.Outbox()
	}
	kind := "Redis " + addrs
	if len(nodes) > 1 {
		kind = "Redis Cluster " + addrs
	}
	a.storage += "; standalone codes and rate limits in " + kind
	return nil
}
