package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/redis"
	"github.com/verifykit/verifykit/otp"
)

// TestFailoverDuringVerifies promotes the replica of one master (CLUSTER FAILOVER TAKEOVER,
// which does not wait for the replica to catch up) while codes of that master's slots are issued
// and verified in a loop, then verifies every code that was verified once a second time: a
// second success is a consumption the failover lost. It runs without and with WaitReplicas,
// logs what it measured, requires that nothing is consumed twice when the write waited for
// the replica and that every operation works again afterwards, and gives the master its
// role back.
func TestFailoverDuringVerifies(t *testing.T) {
	addrs := strings.Split(need(t, envCluster), ",")
	for _, wait := range []int{0, 1} {
		t.Run(fmt.Sprintf("WaitReplicas%d", wait), func(t *testing.T) {
			runFailover(t, addrs, wait)
		})
	}
}

// clusterNode is one line of CLUSTER NODES.
type clusterNode struct {
	id, addr, master string
	isMaster         bool
	slots            bool
}

func clusterNodes(t *testing.T, ctx context.Context, addr string) []clusterNode {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	out, err := c.ClusterNodes(ctx).Result()
	require.NoError(t, err)
	var nodes []clusterNode
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		nodes = append(nodes, clusterNode{
			id: f[0], addr: strings.Split(f[1], "@")[0], master: f[3],
			isMaster: strings.Contains(f[2], "master"), slots: len(f) > 8,
		})
	}
	return nodes
}

// role returns the ROLE of the node at addr: "master" or "slave".
func role(ctx context.Context, addr string) string {
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	v, err := c.Do(ctx, "ROLE").Slice()
	if err != nil || len(v) == 0 {
		return ""
	}
	s, _ := v[0].(string)
	return s
}

// eventually calls f every 50 ms until it is true, at most tries times, and reports whether
// it became true.
func eventually(tries int, f func() bool) bool {
	for range tries {
		if f() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func clusterOK(ctx context.Context, addrs []string) bool {
	for _, a := range addrs {
		c := goredis.NewClient(&goredis.Options{Addr: a})
		info, err := c.ClusterInfo(ctx).Result()
		_ = c.Close()
		if err != nil || !strings.Contains(info, "cluster_state:ok") {
			return false
		}
	}
	return true
}

// takeover makes the replica at addr its master's master with CLUSTER FAILOVER TAKEOVER:
// at once, without waiting for the replica to catch up and without an election (FORCE also
// skips the catching up, but waits for the votes of the masters, which a master gives a
// replica of one master only once per two node timeouts). When inSync, it first waits until
// the replica's link is up and it has every write of its master (a demoted master
// resynchronises first), so nothing is lost. It waits until addr is a master and the
// cluster is ok.
func takeover(t *testing.T, ctx context.Context, addr string, inSync bool, all []string) {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	if inSync {
		require.True(t, eventually(400, func() bool {
			info, err := c.Info(ctx, "replication").Result()
			if err != nil || !strings.Contains(info, "master_link_status:up") {
				return false
			}
			var host, port, offset string
			for line := range strings.SplitSeq(info, "\r\n") {
				k, v, _ := strings.Cut(line, ":")
				switch k {
				case "master_host":
					host = v
				case "master_port":
					port = v
				case "slave_repl_offset":
					offset = v
				}
			}
			m := goredis.NewClient(&goredis.Options{Addr: host + ":" + port})
			defer m.Close()
			minfo, err := m.Info(ctx, "replication").Result()
			return err == nil && strings.Contains(minfo, "master_repl_offset:"+offset+"\r\n")
		}), "%s caught up with its master", addr)
	}
	require.NoError(t, c.Do(ctx, "CLUSTER", "FAILOVER", "TAKEOVER").Err())
	require.True(t, eventually(400, func() bool { return role(ctx, addr) == "master" }), "%s became a master", addr)
	require.True(t, eventually(400, func() bool { return clusterOK(ctx, all) }), "the cluster is ok again")
}

func runFailover(t *testing.T, addrs []string, waitReplicas int) {
	ctx := context.Background()
	require.True(t, eventually(400, func() bool { return clusterOK(ctx, addrs) }), "the cluster is ok")
	// A master that has slots and a replica.
	var master, replica clusterNode
	nodes := clusterNodes(t, ctx, addrs[0])
	for _, m := range nodes {
		if !m.isMaster || !m.slots {
			continue
		}
		for _, r := range nodes {
			if r.master == m.id {
				master, replica = m, r
			}
		}
		if replica.addr != "" {
			break
		}
	}
	require.NotEmpty(t, replica.addr, "a master with a replica")
	t.Cleanup(func() {
		if role(ctx, master.addr) != "master" { // give the master its role back, in sync
			takeover(t, ctx, master.addr, true, addrs)
		}
	})

	client := clusterClient(t)
	db := newDB(t, client, redis.Options{WaitReplicas: waitReplicas})
	svc := newEngine(t, db, nil, nil, func(c *otp.Config) { c.SendLimits = nil })
	// Subjects whose Verification lives on that master (the hash tag is {purpose:subject}).
	var subjects []string
	for i := 0; len(subjects) < 30000; i++ {
		s := fmt.Sprintf("fo-%d", i)
		node, err := client.MasterForKey(ctx, "{fo:"+s+"}")
		require.NoError(t, err)
		if node.Options().Addr == master.addr {
			subjects = append(subjects, s)
		}
	}

	type verified struct{ subject, code string }
	var (
		mu         sync.Mutex
		done       []verified
		next       atomic.Int64
		errs       atomic.Int64
		stop       atomic.Bool
		successes  atomic.Int64
		wg         sync.WaitGroup
		firstError atomic.Value
	)
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				i := next.Add(1) - 1
				if int(i) >= len(subjects) {
					return
				}
				s := subjects[i]
				issued, err := svc.IssueExternal(ctx, otp.IssueRequest{Purpose: "fo", Subject: s})
				if err == nil {
					_, err = svc.Verify(ctx, otp.VerifyRequest{Purpose: "fo", Subject: s, Code: issued.Code})
				}
				if err != nil {
					if errs.Add(1) == 1 {
						firstError.Store(err.Error())
					}
					time.Sleep(5 * time.Millisecond)
					continue
				}
				successes.Add(1)
				mu.Lock()
				done = append(done, verified{s, issued.Code})
				mu.Unlock()
			}
		})
	}
	require.True(t, eventually(400, func() bool { return successes.Load() >= 200 }), "verifies run")
	takeover(t, ctx, replica.addr, false, addrs)
	after := successes.Load()
	ok := eventually(400, func() bool { return successes.Load() >= after+200 || next.Load() >= int64(len(subjects)) })
	stop.Store(true)
	wg.Wait()
	require.True(t, ok, "verifies go on after the failover")

	doubles := 0
	for _, v := range done {
		var err error
		for range 20 {
			if _, err = svc.Verify(ctx, otp.VerifyRequest{Purpose: "fo", Subject: v.subject, Code: v.code}); !errors.Is(err, verifykit.ErrUnavailable) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err == nil {
			doubles++
		}
	}
	first, _ := firstError.Load().(string)
	t.Logf("WaitReplicas %d: %d codes verified (%d after the failover), %d verified a second time after the failover, %d failed calls during it (first: %s)",
		waitReplicas, len(done), len(done)-int(after), doubles, errs.Load(), first)
	if waitReplicas > 0 {
		require.Zero(t, doubles, "a consumption the replica acknowledged survives the failover")
	}

	// Every operation works again.
	for i := range 20 {
		s := subjects[len(subjects)-1-i]
		issued, err := svc.IssueExternal(ctx, otp.IssueRequest{Purpose: "fo-after", Subject: s})
		require.NoError(t, err)
		_, err = svc.Verify(ctx, otp.VerifyRequest{Purpose: "fo-after", Subject: s, Code: issued.Code})
		require.NoError(t, err)
		_, err = db.RateLimiter().Allow(ctx, "fo-after:"+s, time.Now(), otp.DefaultConfig().SendLimits...)
		require.NoError(t, err)
	}
}
