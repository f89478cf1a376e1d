package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/verifykit/verifykit/ports"
)

// OTPStore is a ports.OTPStore in Redis: one hash per purpose and subject, under a key whose
// hash tag is {purpose:subject} (so it lives on one shard of a cluster), holding the
// Verification in a binary form (d, with its Version), the random token of the write that
// stored it (t), and its KeepUntil as sortable digits (k). The key expires at KeepUntil
// (PEXPIREAT, by the server's clock), so no sweep is needed.
//
// With Options.KeepEvents the key is "otp{vk:s<n>}:purpose:subject" instead, on the outbox
// shard n of the purpose and subject, and the script that stores a Verification also stores
// the events of its Outbox in that shard of the DB's Outbox, stamped with the Version it
// stores: both or neither. Without it the events are dropped (DB.KeepsEvents).
//
// Update is optimistic: it reads the token and the Verification (HMGET), runs fn on a copy
// in Go, and stores what fn left with a compare-and-set script that writes only when the
// token is still the one it read. When another Update won in between, the script answers
// the new token and Verification in the same round trip, and fn runs again on those, after
// a short random pause, up to Options.UpdateAttempts times; then it answers ports.ErrUnavailable
// (trying again later may work), as the PostgreSQL adapter answers a serialisation failure.
// So no Update of the same purpose and subject ever lands between the read fn saw and the
// write, and fn may run more than once (ports.OTPStore asks fn to do nothing but change its
// argument). An uncontended Update is two round trips; with Options.WaitReplicas, the
// second also waits for the replicas.
type OTPStore struct {
	db *DB
}

var _ ports.OTPStore = (*OTPStore)(nil)

// casScript stores a Verification when the key's token is ARGV[1] ("" for no key): token
// ARGV[2], Verification ARGV[3], sortable KeepUntil ARGV[4], expiry at ARGV[5] ms since the
// epoch ("" for none). It answers {1} when it wrote, else {0, token, Verification} as they
// are now.
var casScript = goredis.NewScript(luaCompare + luaSet)

// casEventsScript is casScript that also stores the events ARGV[7..] (see append in
// luaShard) in the outbox shard whose keys start with ARGV[6], the key's shard. It answers
// {2}, writing nothing, when an event id is taken there.
var casEventsScript = shardScript("base = ARGV[6]\n" + luaCompare + "if not append(7) then return {2} end\n" + luaSet)

// luaCompare and luaSet are the compare and the set of casScript.
const (
	luaCompare = `
local cur = redis.call('HGET', KEYS[1], 't') or ''
if cur ~= ARGV[1] then
  return {0, cur, redis.call('HGET', KEYS[1], 'd') or ''}
end
`
	luaSet = `
redis.call('HSET', KEYS[1], 't', ARGV[2], 'd', ARGV[3], 'k', ARGV[4])
if ARGV[5] == '' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIREAT', KEYS[1], ARGV[5])
end
return {1}
`
)

// purgeScript deletes the key when its sortable KeepUntil is at or before ARGV[1], and
// answers 1 when it did.
var purgeScript = goredis.NewScript(luaTimes + `
local k = redis.call('HGET', KEYS[1], 'k')
if k and le(k, ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`)

// Get implements ports.OTPStore.
func (s *OTPStore) Get(ctx context.Context, purpose, subject string) (ports.Verification, error) {
	if err := ctxError(ctx); err != nil {
		return ports.Verification{}, err
	}
	data, err := s.db.client.HGet(ctx, s.db.otpKey(purpose, subject), "d").Result()
	if errors.Is(err, goredis.Nil) {
		return ports.Verification{}, ports.ErrNoCode
	}
	if err != nil {
		return ports.Verification{}, storageError(err)
	}
	return decode(data)
}

// decode reads a stored Verification; "" is none stored (a zero Verification).
func decode(data string) (ports.Verification, error) {
	if data == "" {
		return ports.Verification{}, nil
	}
	v, err := decodeVerification([]byte(data))
	if err != nil {
		return ports.Verification{}, failure(err)
	}
	return v, nil
}

// Update implements ports.OTPStore with compare-and-set (see OTPStore). A done ctx is
// ctx.Err() with ports.ErrUnavailable.
func (s *OTPStore) Update(ctx context.Context, purpose, subject string, fn func(*ports.Verification) error) (ports.Verification, error) {
	if err := ctxError(ctx); err != nil {
		return ports.Verification{}, err
	}
	key := s.db.otpKey(purpose, subject)
	var outbox string // the outbox shard of the key, with KeepEvents
	if s.db.events {
		outbox = s.db.shardBase(s.db.otpShard(purpose, subject))
	}
	vals, err := s.db.client.HMGet(ctx, key, "t", "d").Result()
	if err != nil {
		return ports.Verification{}, storageError(err)
	}
	token, data := str(vals, 0), str(vals, 1)
	for attempt := 1; ; attempt++ {
		cur, err := decode(data)
		if err != nil {
			return ports.Verification{}, err
		}
		version := cur.Version + 1 // 1 when none is stored
		if err := fn(&cur); err != nil {
			return ports.Verification{}, err
		}
		cur.Version = version
		ports.StampVersion(cur.Outbox, cur.Code.ID, cur.Version)
		script := casScript
		args := []any{token, newToken(), encodeVerification(cur), sortable(cur.KeepUntil), expireAt(cur.KeepUntil)}
		if outbox != "" && len(cur.Outbox) > 0 {
			evs, err := eventArgs(cur.Outbox)
			if err != nil {
				return ports.Verification{}, err
			}
			script, args = casEventsScript, append(append(args, outbox), evs...)
		}
		res, err := s.db.eval(ctx, script, key, true, args...)
		if err != nil {
			return ports.Verification{}, err
		}
		out, _ := res.([]any)
		switch {
		case len(out) > 0 && out[0] == int64(1):
			cur.Outbox = nil // written (or dropped): the stores never hand events back
			return cur.Clone(), nil
		case len(out) == 1 && out[0] == int64(2):
			return ports.Verification{}, ports.ErrEventExists
		case len(out) != 3:
			return ports.Verification{}, failure(errReply)
		}
		if attempt >= s.db.attempts {
			s.db.log.LogAttrs(ctx, slog.LevelWarn, "redis: an OTP update gave up under contention",
				slog.Int("attempts", attempt))
			return ports.Verification{}, unavailable(errContention)
		}
		token, data = str(out, 1), str(out, 2)
		// Another Update won: step aside for a moment, longer the more often it happens.
		pause := rand.N(time.Duration(min(attempt, 20)) * 50 * time.Microsecond)
		if err := sleep(ctx, pause); err != nil {
			return ports.Verification{}, err
		}
	}
}

// str is vals[i] as a string; "" when it is nil (no such field).
func str(vals []any, i int) string {
	if i < len(vals) {
		return text(vals[i])
	}
	return ""
}

// text is v as a string; "" when it is none.
func text(v any) string {
	s, _ := v.(string)
	return s
}

// expireAt is the PEXPIREAT argument of a Verification kept until t: t in milliseconds since
// the epoch, rounded up so the key never goes early; "" (no expiry) for the zero time.
func expireAt(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	ms := t.UnixMilli()
	if t.After(time.UnixMilli(ms)) {
		ms++
	}
	return strconv.FormatInt(ms, 10)
}

// purgeBatch is how many keys PurgeExpired checks in one pipeline.
const purgeBatch = 256

// PurgeExpired implements ports.OTPStore. It is not needed to keep the store bounded: each
// key expires on its own at its KeepUntil, by the server's clock. When before is not after
// the server's clock every such key is gone already, and it answers 0 after one TIME. Only
// a before ahead of the server's clock (a host's clock that runs ahead, a test clock in the
// future) makes it look further: it SCANs every master for the keys under the DB's prefix
// and deletes, with a script per key, those whose KeepUntil is at or before before (up to
// limit; all of them when limit is negative), which costs time in proportion to the
// database's size. So hosts need not run otp.Service.Sweep for codes kept in Redis.
func (s *OTPStore) PurgeExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctxError(ctx); err != nil {
		return 0, err
	}
	if limit == 0 {
		return 0, nil
	}
	now, err := s.db.client.Time(ctx).Result()
	if err != nil {
		return 0, storageError(err)
	}
	if exp := expireAt(before); exp != "" {
		if ms, _ := strconv.ParseInt(exp, 10, 64); now.UnixMilli() > ms {
			return 0, nil // every key kept until before has expired
		}
	}
	nodes, err := s.db.masters(ctx)
	if err != nil {
		return 0, err
	}
	match := globEscape(s.db.prefix) + "otp{*"
	bound := sortable(before)
	deleted := 0
	for _, node := range nodes {
		if err := purgeScript.Load(ctx, node).Err(); err != nil {
			return deleted, storageError(err)
		}
		var cursor uint64
		for {
			keys, next, err := node.Scan(ctx, cursor, match, purgeBatch).Result()
			if err != nil {
				return deleted, storageError(err)
			}
			for len(keys) > 0 {
				if limit >= 0 && deleted >= limit {
					return deleted, nil
				}
				batch := keys
				if limit >= 0 {
					batch = batch[:min(len(batch), limit-deleted)]
				}
				keys = keys[len(batch):]
				pipe := node.Pipeline()
				cmds := make([]*goredis.Cmd, len(batch))
				for i, k := range batch {
					cmds[i] = purgeScript.EvalSha(ctx, pipe, []string{k}, bound)
				}
				_, _ = pipe.Exec(ctx)
				for _, c := range cmds {
					n, err := c.Int()
					if err != nil {
						return deleted, storageError(err)
					}
					deleted += n
				}
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
	}
	return deleted, nil
}

// masters returns a client of every master of the deployment: each master of a cluster,
// each shard of a ring, or the client itself.
func (db *DB) masters(ctx context.Context) ([]*goredis.Client, error) {
	var (
		mu    sync.Mutex
		nodes []*goredis.Client
	)
	collect := func(_ context.Context, c *goredis.Client) error {
		mu.Lock()
		nodes = append(nodes, c)
		mu.Unlock()
		return nil
	}
	switch c := db.client.(type) {
	case *goredis.ClusterClient:
		if err := c.ForEachMaster(ctx, collect); err != nil {
			return nil, storageError(err)
		}
	case *goredis.Ring:
		if err := c.ForEachShard(ctx, collect); err != nil {
			return nil, storageError(err)
		}
	case *goredis.Client:
		nodes = append(nodes, c)
	default:
		return nil, failure(fmt.Errorf("a %T cannot be scanned", db.client))
	}
	return nodes, nil
}

// globEscape escapes the glob characters of s for SCAN MATCH.
func globEscape(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
