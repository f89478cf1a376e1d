package redis_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/adapters/redis"
	"github.com/verifykit/verifykit/adapters/webhook"
	"github.com/verifykit/verifykit/otp"
)

// Codes and send limits on a Redis Cluster; one address would be redis.NewClient. It needs a
// running cluster, so it is compiled but not run.
func Example() {
	ctx := context.Background()
	client := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs: strings.Split("127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002", ","),
	})
	defer client.Close()
	db, err := redis.New(client, redis.Options{Prefix: "myapp:", WaitReplicas: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := otp.DefaultConfig()
	cfg.Secrets = [][]byte{[]byte("a secret of at least 32 bytes, from your vault")}
	sms := memory.NewSMSOutbox() // your ports.Sender
	codes, err := otp.NewService(otp.Deps{Store: db.OTPStore(), Limiter: db.RateLimiter(), SMS: sms}, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := codes.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "user-1", Recipient: "+380931234567"}); err != nil {
		fmt.Println(err)
	}
}

// The events of codes, kept in the Redis outbox with KeepEvents and posted to a webhook by
// a dispatcher (run one in every instance: they share the outbox). It needs a running
// server, so it is compiled but not run.
func ExampleDB_Outbox() {
	ctx := context.Background()
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	db, err := redis.New(client, redis.Options{Prefix: "myapp:", KeepEvents: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := webhook.NewDispatcher(webhook.DispatcherConfig{
		Outbox:    db.Outbox(),
		Endpoints: []webhook.Endpoint{{URL: "https://hooks.example/verifykit", Secret: "whsec_c2VjcmV0LWtleS1vZi10aGUtZXhhbXBsZQ==", Types: []string{"code."}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	go func() { _ = d.Run(ctx, time.Second) }()
	// otp.NewService(otp.Deps{Store: db.OTPStore(), ...}): every code issued or checked now
	// stores its event with it, and the dispatcher posts it.
}
