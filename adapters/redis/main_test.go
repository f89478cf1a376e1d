package redis_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	vkredis "github.com/verifykit/verifykit/adapters/redis"
)

// The variables that switch the tests against a server on.
const (
	// envAddr names the single node, e.g. 127.0.0.1:6379.
	envAddr = "VERIFYKIT_REDIS_ADDR"
	// envCluster names the nodes of a Redis Cluster, comma-separated.
	envCluster = "VERIFYKIT_REDIS_CLUSTER"
)

// TestMain says, without -v too, which server tests skip; with CI=true a missing variable
// fails the run.
func TestMain(m *testing.M) {
	var missing []string
	for _, env := range []string{envAddr, envCluster} {
		if os.Getenv(env) == "" {
			missing = append(missing, env)
		}
	}
	if len(missing) > 0 {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "FAIL: adapters/redis: CI=true but %s not set (.ci/redis-cluster.sh sets them)\n", strings.Join(missing, " and "))
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "adapters/redis: the tests against a Redis server skip: set %s (.ci/redis-cluster.sh starts them)\n", strings.Join(missing, " and "))
	}
	os.Exit(m.Run())
}

// target is a Redis deployment the tests run against.
type target struct {
	name string
	env  string
	// client returns a new client of the deployment, closed when t ends.
	client func(t testing.TB) goredis.UniversalClient
}

var targets = []target{
	{name: "Single", env: envAddr, client: singleClient},
	{name: "Cluster", env: envCluster, client: func(t testing.TB) goredis.UniversalClient { return clusterClient(t) }},
}

// forEachTarget runs f against each deployment, skipping those whose variable is unset.
func forEachTarget(t *testing.T, f func(t *testing.T, tg target)) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			need(t, tg.env)
			f(t, tg)
		})
	}
}

// need skips t unless env is set.
func need(t testing.TB, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		t.Skipf("set %s to run this test against Redis", env)
	}
	return v
}

func singleClient(t testing.TB) goredis.UniversalClient {
	c := goredis.NewClient(&goredis.Options{Addr: need(t, envAddr)})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func clusterClient(t testing.TB) *goredis.ClusterClient {
	c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: strings.Split(need(t, envCluster), ",")})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

var prefixes atomic.Int64

// newPrefix returns a key prefix no other test (or run) uses, and deletes its keys when t
// ends.
func newPrefix(t testing.TB, c goredis.UniversalClient) string {
	p := fmt.Sprintf("vktest:%d:%d:", time.Now().UnixNano(), prefixes.Add(1))
	t.Cleanup(func() { deletePrefix(t, c, p) })
	return p
}

// deletePrefix deletes every key under prefix on every master.
func deletePrefix(t testing.TB, c goredis.UniversalClient, prefix string) {
	ctx := context.Background()
	del := func(ctx context.Context, node *goredis.Client) error {
		iter := node.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			if err := node.Del(ctx, iter.Val()).Err(); err != nil {
				return err
			}
		}
		return iter.Err()
	}
	var err error
	switch c := c.(type) {
	case *goredis.ClusterClient:
		err = c.ForEachMaster(ctx, del)
	case *goredis.Client:
		err = del(ctx, c)
	}
	if err != nil {
		t.Logf("deleting the keys of %s: %v", prefix, err)
	}
}

// newDB returns a DB of client on a fresh prefix, with opts (their Prefix replaced).
func newDB(t testing.TB, client goredis.UniversalClient, opts vkredis.Options) *vkredis.DB {
	t.Helper()
	if opts.Prefix == "" {
		opts.Prefix = newPrefix(t, client)
	}
	db, err := vkredis.New(client, opts)
	require.NoError(t, err)
	return db
}
