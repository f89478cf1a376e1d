package redis_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/adapters/redis"
	"github.com/verifykit/verifykit/adapters/webhook/webhooktest"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// farFuture claims every pending entry, whatever its time.
var farFuture = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)

// claimAll claims every pending entry of o.
func claimAll(t *testing.T, o ports.OutboxStore) []ports.OutboxEntry {
	t.Helper()
	es, err := o.Claim(context.Background(), farFuture, time.Hour, 100_000)
	require.NoError(t, err)
	return es
}

// TestTwoDispatchersDeliverEachEventOnce runs two webhook dispatchers, each on a client of
// its own, over one Redis outbox holding events appended and events of codes: the receiver
// gets every event exactly once, signed, and neither dispatcher fails.
func TestTwoDispatchersDeliverEachEventOnce(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		ctx := context.Background()
		first := tg.client(t)
		prefix := newPrefix(t, first)
		db := newDB(t, first, redis.Options{Prefix: prefix, KeepEvents: true})
		const appended, codes = 200, 50
		for i := range appended {
			require.NoError(t, db.Outbox().Append(ctx, ports.NewLifecycleEvent("test.event", "test", fmt.Sprint(i), time.Now())))
		}
		svc := newEngine(t, db, nil, nil, nil)
		for i := range codes {
			_, err := svc.IssueExternal(ctx, otp.IssueRequest{Purpose: "login", Subject: fmt.Sprint("user-", i)})
			require.NoError(t, err)
		}
		other := newDB(t, tg.client(t), redis.Options{Prefix: prefix, KeepEvents: true})
		webhooktest.DeliverOnceEach(t, nil, appended+codes, db.Outbox(), other.Outbox())
		require.Empty(t, claimAll(t, db.Outbox()), "every event is acknowledged")
	})
}

// TestWithoutKeepEventsCodesDropTheirEvents: by default the OTPStore keeps no events (and
// says so), and its codes live under keys of their own, which a DB with KeepEvents does not
// read.
func TestWithoutKeepEventsCodesDropTheirEvents(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		ctx := context.Background()
		client := tg.client(t)
		prefix := newPrefix(t, client)
		plain := newDB(t, client, redis.Options{Prefix: prefix})
		keeping := newDB(t, client, redis.Options{Prefix: prefix, KeepEvents: true})
		require.False(t, plain.KeepsEvents())
		require.True(t, keeping.KeepsEvents())

		write := func(db *redis.DB, subject string) {
			t.Helper()
			_, err := db.OTPStore().Update(ctx, "login", subject, func(v *ports.Verification) error {
				v.Code = ports.OTPRecord{ID: "c-" + subject, Purpose: "login", Subject: subject, State: ports.CodeActive}
				v.KeepUntil = time.Now().Add(time.Hour)
				v.Outbox = append(v.Outbox, ports.NewLifecycleEvent(otp.EventCodeIssued, "otp_code", v.Code.ID, time.Now()))
				return nil
			})
			require.NoError(t, err)
		}
		write(plain, "a")
		require.Empty(t, claimAll(t, plain.Outbox()), "the event of a code is dropped without KeepEvents")
		_, err := keeping.OTPStore().Get(ctx, "login", "a")
		require.ErrorIs(t, err, ports.ErrNoCode, "a code stored without KeepEvents is not found with it")

		write(keeping, "b")
		es := claimAll(t, plain.Outbox())
		require.Len(t, es, 1, "with KeepEvents the event is kept; the outbox is the same on the prefix")
		require.Equal(t, "c-b", es[0].Event.AggregateID)
		require.EqualValues(t, 1, es[0].Event.AggregateVersion)
	})
}

// TestATakenEventIDWritesNothing: a code write whose event id is in the outbox already is
// refused whole: neither the Verification nor any of its events is stored.
func TestATakenEventIDWritesNothing(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		ctx := context.Background()
		db := newDB(t, tg.client(t), redis.Options{KeepEvents: true, EventShards: 1})
		taken := ports.NewLifecycleEvent("test.first", "test", "x", time.Now())
		require.NoError(t, db.Outbox().Append(ctx, taken))
		require.ErrorIs(t, db.Outbox().Append(ctx, taken), ports.ErrEventExists, "an id is stored once")

		fresh := ports.NewLifecycleEvent(otp.EventCodeIssued, "otp_code", "c1", time.Now())
		_, err := db.OTPStore().Update(ctx, "login", "s", func(v *ports.Verification) error {
			v.Code = ports.OTPRecord{ID: "c1", Purpose: "login", Subject: "s", State: ports.CodeActive}
			v.KeepUntil = time.Now().Add(time.Hour)
			v.Outbox = append(v.Outbox, fresh, taken)
			return nil
		})
		require.ErrorIs(t, err, ports.ErrEventExists)
		_, err = db.OTPStore().Get(ctx, "login", "s")
		require.ErrorIs(t, err, ports.ErrNoCode, "the Verification is not stored")
		es := claimAll(t, db.Outbox())
		require.Len(t, es, 1, "nor the other event of the write")
		require.Equal(t, taken.ID, es[0].Event.ID)

		_, err = db.OTPStore().Update(ctx, "login", "s", func(v *ports.Verification) error {
			v.Outbox = append(v.Outbox, fresh, fresh)
			return nil
		})
		require.Error(t, err, "one id twice in a write")
		_, err = db.OTPStore().Get(ctx, "login", "s")
		require.ErrorIs(t, err, ports.ErrNoCode, "a write with one id twice stores nothing")
	})
}

// namedClient returns a client of the deployment of tg whose connections carry name.
func namedClient(t *testing.T, tg target, name string) goredis.UniversalClient {
	var c goredis.UniversalClient
	if tg.env == envCluster {
		c = goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: strings.Split(need(t, envCluster), ","), ClientName: name})
	} else {
		c = goredis.NewClient(&goredis.Options{Addr: need(t, envAddr), ClientName: name})
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// killConnections kills, on every master of admin's deployment, the connections named name,
// and answers how many it killed. Only those: other tests share the servers.
func killConnections(ctx context.Context, admin goredis.UniversalClient, name string) int32 {
	var killed atomic.Int32
	kill := func(ctx context.Context, node *goredis.Client) error {
		list, err := node.ClientList(ctx).Result()
		if err != nil {
			return err
		}
		for line := range strings.Lines(list) {
			var id string
			for f := range strings.FieldsSeq(line) {
				if v, ok := strings.CutPrefix(f, "id="); ok {
					id = v
				}
				if f == "name="+name && id != "" && node.Do(ctx, "CLIENT", "KILL", "ID", id).Err() == nil {
					killed.Add(1)
				}
			}
		}
		return nil
	}
	switch c := admin.(type) {
	case *goredis.ClusterClient:
		_ = c.ForEachMaster(ctx, kill)
	case *goredis.Client:
		_ = kill(ctx, c)
	}
	return killed.Load()
}

// TestOutboxMatchesTheCodesWhenConnectionsDie runs the otp engine's standalone codes from
// several workers while their client's connections are killed again and again (CLIENT
// KILL on every master), then checks the outbox against the codes: every stored change of
// a Verification has its event and no event lacks its change (each engine write carries one
// event, so a purpose's events count its Verification's Version, and carry 1..Version).
func TestOutboxMatchesTheCodesWhenConnectionsDie(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		ctx := context.Background()
		name := fmt.Sprintf("vktest-killed-%d", time.Now().UnixNano())
		client := namedClient(t, tg, name)
		db := newDB(t, client, redis.Options{KeepEvents: true})
		clock := memory.NewClock(time.Now())
		svc := newEngine(t, db, clock, nil, nil)
		admin := tg.client(t)

		stop := make(chan struct{})
		var killed atomic.Int32
		var killer sync.WaitGroup
		killer.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(3 * time.Millisecond):
				}
				killed.Add(killConnections(ctx, admin, name))
			}
		})

		const workers, rounds = 4, 15
		var failed atomic.Int32
		var wg sync.WaitGroup
		for w := range workers {
			purpose := fmt.Sprint("p", w)
			wg.Go(func() {
				for range rounds {
					clock.Advance(time.Minute) // past the send limit
					issued, err := svc.IssueExternal(ctx, otp.IssueRequest{Purpose: purpose, Subject: "s"})
					if err != nil {
						failed.Add(1)
						continue
					}
					wrong := []byte(issued.Code)
					wrong[0] = '0' + (wrong[0]-'0'+1)%10
					for _, code := range []string{string(wrong), issued.Code} { // a wrong one, then the right one
						if _, err := svc.Verify(ctx, otp.VerifyRequest{Purpose: purpose, Subject: "s", Code: code}); err != nil && verifykit.KindOf(err) == verifykit.KindUnavailable {
							failed.Add(1)
						}
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		killer.Wait()
		t.Logf("%d connections killed, %d calls failed", killed.Load(), failed.Load())
		require.NotZero(t, killed.Load(), "connections were killed")

		check := newDB(t, tg.client(t), redis.Options{Prefix: db.Prefix(), KeepEvents: true})
		versions := map[string][]int64{}
		for _, e := range claimAll(t, check.Outbox()) {
			p := e.Event.Data["purpose"]
			versions[p] = append(versions[p], e.Event.AggregateVersion)
		}
		for w := range workers {
			purpose := fmt.Sprint("p", w)
			v, err := check.OTPStore().Get(ctx, purpose, "s")
			require.NoError(t, err)
			want := make([]int64, v.Version)
			for i := range want {
				want[i] = int64(i + 1)
			}
			require.ElementsMatch(t, want, versions[purpose], "%s: one event per stored write, versions 1..%d", purpose, v.Version)
		}
	})
}
