package redis

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

func TestKeysAreDistinctAndTagged(t *testing.T) {
	db, err := New(goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"}), Options{Prefix: "p:"})
	require.NoError(t, err)
	pairs := [][2]string{{"p", "s"}, {"p:s", ""}, {"p", ":s"}, {"p%3As", ""}, {"a}b", "{c"}, {"", ""}, {"p\x00", "s"}, {"p", "\x00s"}}
	seen := map[string][2]string{}
	for _, p := range pairs {
		k := db.otpKey(p[0], p[1])
		require.NotContains(t, seen, k, "%q and %q share a key", p, seen[k])
		seen[k] = p
		open, end := strings.IndexByte(k, '{'), strings.IndexByte(k, '}')
		require.Equal(t, len("p:otp"), open, "the hash tag opens after the prefix: %q", k)
		require.Equal(t, len(k)-1, end, "the hash tag closes at the end: %q", k)
	}
}

func TestKeysOfOneSubjectLandInOneSlot(t *testing.T) {
	addrs := os.Getenv("VERIFYKIT_REDIS_CLUSTER")
	if addrs == "" {
		t.Skip("set VERIFYKIT_REDIS_CLUSTER to run this test against a Redis Cluster")
	}
	ctx := context.Background()
	c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: strings.Split(addrs, ",")})
	t.Cleanup(func() { _ = c.Close() })
	prefix := "vktest:slots:" + time.Now().Format("150405.000000000") + ":"
	db, err := New(c, Options{Prefix: prefix})
	require.NoError(t, err)
	slot := func(key string) int64 {
		n, err := c.ClusterKeySlot(ctx, key).Result()
		require.NoError(t, err)
		return n
	}
	for _, subject := range []string{"user-1", "user-2", "a}b{c", "x:y", "é\x00"} {
		v := ports.Verification{
			Code:      ports.OTPRecord{ID: "c", Purpose: "login", Subject: subject, State: ports.CodeActive},
			KeepUntil: time.Now().Add(time.Minute),
		}
		_, err := db.OTPStore().Update(ctx, "login", subject, func(cur *ports.Verification) error { *cur = v; return nil })
		require.NoError(t, err)
		_, err = db.RateLimiter().Allow(ctx, "otp-send:"+subject, time.Now(), ports.RateLimit{Max: 5, Per: time.Minute})
		require.NoError(t, err)

		for _, k := range []struct{ key, tag string }{
			{db.otpKey("login", subject), escapeTag("login") + ":" + escapeTag(subject)},
			{db.rateKey("otp-send:" + subject), escapeTag("otp-send:" + subject)},
		} {
			require.Equal(t, slot(k.tag), slot(k.key), "%q is in the slot of its hash tag", k.key)
			master, err := c.MasterForKey(ctx, k.key)
			require.NoError(t, err)
			n, err := master.Exists(ctx, k.key).Result()
			require.NoError(t, err)
			require.EqualValues(t, 1, n, "%q is stored on the master of its slot", k.key)
			require.NoError(t, c.Del(ctx, k.key).Err())
		}
	}

	// With KeepEvents, a code and the entries of its events share the slot of its shard.
	db, err = New(c, Options{Prefix: prefix + "events:", KeepEvents: true})
	require.NoError(t, err)
	for _, subject := range []string{"user-1", "user-2", "a}b{c"} {
		ev := ports.NewLifecycleEvent("code.issued", "otp_code", "c", time.Now())
		_, err := db.OTPStore().Update(ctx, "login", subject, func(cur *ports.Verification) error {
			cur.Code = ports.OTPRecord{ID: "c", Purpose: "login", Subject: subject, State: ports.CodeActive}
			cur.KeepUntil, cur.Outbox = time.Now().Add(time.Minute), []ports.LifecycleEvent{ev}
			return nil
		})
		require.NoError(t, err)
		base := db.shardBase(db.otpShard("login", subject))
		tag := strings.Trim(shardTag(db.otpShard("login", subject)), "{}")
		for _, key := range []string{db.otpKey("login", subject), base + "e:" + ev.ID, base + "due", base + "seq"} {
			require.Equal(t, slot(tag), slot(key), "%q is in the slot of its shard", key)
			master, err := c.MasterForKey(ctx, key)
			require.NoError(t, err)
			n, err := master.Exists(ctx, key).Result()
			require.NoError(t, err)
			require.EqualValues(t, 1, n, "%q is stored on the master of its slot", key)
		}
	}
	es, err := db.Outbox().Claim(ctx, time.Now().Add(time.Minute), time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, es, 3)
	for _, e := range es {
		require.NoError(t, db.Outbox().Ack(ctx, e, time.Now()))
	}
	n, err := db.Outbox().Purge(ctx, ports.PurgeRequest{DeliveredBefore: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	require.Equal(t, 3, n)
	for _, subject := range []string{"user-1", "user-2", "a}b{c"} {
		require.NoError(t, c.Del(ctx, db.otpKey("login", subject)).Err())
	}
	for i := range db.shards {
		require.NoError(t, c.Del(ctx, db.shardBase(i)+"seq").Err())
	}
}

func TestVerificationCodec(t *testing.T) {
	at := time.Date(2226, 3, 1, 12, 0, 0, 123456789, time.UTC)
	for _, c := range []struct {
		name string
		v    ports.Verification
	}{
		{"Zero", ports.Verification{}},
		{"Full", ports.Verification{
			Code: ports.OTPRecord{ID: "c\x00é", Purpose: "p\x00q", Subject: "s\x00\xff", Hash: []byte{0, 0xff, '"'},
				KeyID: -3, State: ports.CodeVerified, Attempts: 2, MaxAttempts: 5,
				CreatedAt: at, ExpiresAt: at.Add(time.Minute), UsedAt: at.Add(time.Second)},
			Failures:  []time.Time{time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC), at},
			KeepUntil: at.Add(time.Hour),
			Version:   1 << 40,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := encodeVerification(c.v)
			got, err := decodeVerification(b)
			require.NoError(t, err)
			require.Equal(t, c.v, got)
			for i := range b { // every truncation is refused, never a panic
				_, err := decodeVerification(b[:i])
				require.Error(t, err, "truncated to %d bytes", i)
			}
			_, err = decodeVerification(append(b, 0))
			require.Error(t, err, "a trailing byte")

			// Version 1 of the codec (no Verification.Version after the failures) still
			// decodes, with Version 0.
			old := c.v
			old.Version = 0
			v1 := encodeVerification(old)
			v1 = append([]byte{1}, v1[1:len(v1)-1]...)
			got, err = decodeVerification(v1)
			require.NoError(t, err)
			require.Equal(t, old, got)
			_, err = decodeVerification(append(v1, 0))
			require.Error(t, err, "a trailing byte after a value of version 1")
		})
	}
}

func TestSortableKeepsTheOrderOfTimes(t *testing.T) {
	times := []time.Time{minTime, time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Unix(0, 0),
		time.Unix(0, 1), time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), maxTime}
	for i := range times {
		s := sortable(times[i])
		require.Len(t, s, 20)
		back, err := fromSortable(s + ":x")
		require.NoError(t, err)
		require.True(t, times[i].Equal(back))
		if i > 0 {
			require.Less(t, sortable(times[i-1]), s)
		}
	}
}

// redisErr is a server error, as go-redis reports one.
type redisErr string

func (e redisErr) Error() string { return string(e) }
func (redisErr) RedisError()     {}

func TestStorageErrorClasses(t *testing.T) {
	for _, c := range []struct {
		err         error
		unavailable bool
	}{
		{context.Canceled, true},
		{context.DeadlineExceeded, true},
		{errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), true},
		{goredis.ErrClosed, true},
		{goredis.ErrPoolTimeout, true},
		{redisErr("LOADING Redis is loading the dataset in memory"), true},
		{redisErr("READONLY You can't write against a read only replica."), true},
		{redisErr("CLUSTERDOWN The cluster is down"), true},
		{redisErr("TRYAGAIN Multiple keys request during rehashing of slot"), true},
		{redisErr("MOVED 3999 127.0.0.1:6381"), true},
		{redisErr("ASK 3999 127.0.0.1:6381"), true},
		{redisErr("BUSY Redis is busy running a script"), true},
		{redisErr("MASTERDOWN Link with MASTER is down"), true},
		{redisErr("OOM command not allowed when used memory > 'maxmemory'"), true},
		{redisErr("ERR Error running script"), false},
		{redisErr("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{redisErr("NOPERM this user has no permissions"), false},
	} {
		err := storageError(c.err)
		require.Equal(t, c.unavailable, errors.Is(err, ports.ErrUnavailable), "%v", c.err)
		require.ErrorIs(t, err, c.err, "the cause stays reachable")
		var ve *verifykit.Error
		require.False(t, errors.As(err, &ve), "no message for people: %v", err)
		require.Equal(t, err, storageError(err), "wrapped once")
	}
	require.NoError(t, storageError(nil))
}

func TestAnUnreachableServerIsUnavailable(t *testing.T) {
	ctx := context.Background()
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	db, err := New(c, Options{})
	require.NoError(t, err)
	_, err = db.OTPStore().Get(ctx, "p", "s")
	require.ErrorIs(t, err, ports.ErrUnavailable)
	_, err = db.OTPStore().Update(ctx, "p", "s", func(*ports.Verification) error { return nil })
	require.ErrorIs(t, err, ports.ErrUnavailable)
	_, err = db.OTPStore().PurgeExpired(ctx, time.Now(), 10)
	require.ErrorIs(t, err, ports.ErrUnavailable)
	_, err = db.RateLimiter().Allow(ctx, "k", time.Now(), ports.RateLimit{Max: 1, Per: time.Second})
	require.ErrorIs(t, err, ports.ErrUnavailable)
	require.ErrorIs(t, db.RateLimiter().Undo(ctx, "k", time.Now()), ports.ErrUnavailable)
}

func TestNewChecksOptions(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = c.Close() })
	ring := goredis.NewRing(&goredis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}})
	t.Cleanup(func() { _ = ring.Close() })
	for _, tc := range []struct {
		name   string
		client goredis.UniversalClient
		opts   Options
		entry  string
	}{
		{"NoClient", nil, Options{}, "client"},
		{"BracesInThePrefix", c, Options{Prefix: "a{b"}, "Prefix"},
		{"NegativeReplicas", c, Options{WaitReplicas: -1}, "WaitReplicas"},
		{"WaitOnARing", ring, Options{WaitReplicas: 1}, "WaitReplicas"},
		{"NegativeEventShards", c, Options{EventShards: -1}, "EventShards"},
		{"TooManyEventShards", c, Options{EventShards: maxEventShards + 1}, "EventShards"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.client, tc.opts)
			var ve *verifykit.Error
			require.ErrorAs(t, err, &ve)
			require.Equal(t, verifykit.KindInvalidInput, ve.Kind)
			require.Equal(t, tc.entry, ve.Invalid[0].Entry)
		})
	}
	db, err := New(c, Options{})
	require.NoError(t, err)
	require.Equal(t, DefaultPrefix, db.Prefix())
	require.Equal(t, DefaultEventShards, db.shards)
	require.False(t, db.KeepsEvents(), "events are opt-in")
}

// TestCodeKeysOfKeepEventsShareTheTagOfTheirShard: with KeepEvents, a code's key carries the
// hash tag of its outbox shard, spread over the shards, and stays distinct for distinct
// purposes and subjects.
func TestCodeKeysOfKeepEventsShareTheTagOfTheirShard(t *testing.T) {
	db, err := New(goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"}), Options{Prefix: "p:", KeepEvents: true})
	require.NoError(t, err)
	tag := func(k string) string { return k[strings.IndexByte(k, '{') : strings.IndexByte(k, '}')+1] }
	used := map[string]bool{}
	keys := map[string]bool{}
	for i := range 200 {
		for _, p := range [][2]string{{"login", fmt.Sprint("user-", i)}, {"a}b", fmt.Sprint("{", i)}, {fmt.Sprint("p:", i), ""}} {
			k := db.otpKey(p[0], p[1])
			require.False(t, keys[k], "%q is the key of one purpose and subject", k)
			keys[k] = true
			require.Equal(t, tag(db.shardBase(db.otpShard(p[0], p[1]))), tag(k), "%q is on its shard", k)
			used[tag(k)] = true
		}
	}
	require.Len(t, used, DefaultEventShards, "the codes are spread over every shard")
}
