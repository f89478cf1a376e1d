package redis

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/internal/sendutil"
	"github.com/verifykit/verifykit/adapters/internal/storeerr"
	"github.com/verifykit/verifykit/ports"
)

// DefaultPrefix starts every key of a DB whose Options name no Prefix.
const DefaultPrefix = "verifykit:"

// DefaultUpdateAttempts is how many compare-and-set attempts OTPStore.Update makes, unless
// Options say otherwise, before it answers ports.ErrUnavailable: more than the number of
// concurrent Updates of one purpose and subject it must carry through (each attempt that
// loses does so because another one won, so n concurrent Updates all succeed within n
// attempts each).
const DefaultUpdateAttempts = 256

// DefaultEventShards is the number of outbox shards (Options.EventShards) unless Options say
// otherwise.
const DefaultEventShards = 16

// maxEventShards bounds Options.EventShards: Claim reads every shard once per call.
const maxEventShards = 1024

// DefaultWaitTimeout is how long a write waits for its replicas (Options.WaitReplicas) unless
// Options.WaitTimeout says otherwise.
const DefaultWaitTimeout = 500 * time.Millisecond

// Options configure a DB.
type Options struct {
	// Prefix starts every key the DB writes; DefaultPrefix when empty. It must not contain
	// '{' or '}': the hash tag that puts a key on its shard comes after it. Hosts and tests
	// that share a deployment give each keyspace a prefix of its own.
	Prefix string

	// WaitReplicas, when positive, makes every write that consumes or counts (an
	// OTPStore.Update that stored something, a RateLimiter.Allow that recorded an event)
	// wait, with WAIT, until at least that many replicas of the key's shard acknowledged it,
	// and answer ports.ErrUnavailable when fewer did within WaitTimeout. Redis replication is
	// asynchronous: without it a failover can lose an acknowledged write (see the package
	// documentation). Zero does not wait.
	WaitReplicas int

	// WaitTimeout bounds the wait for replicas; DefaultWaitTimeout when zero or less.
	WaitTimeout time.Duration

	// UpdateAttempts bounds the compare-and-set attempts of one OTPStore.Update;
	// DefaultUpdateAttempts when zero or less.
	UpdateAttempts int

	// KeepEvents makes the OTPStore keep the events of each Verification it writes
	// (ports.Verification.Outbox) in the DB's Outbox, written by the same script as the
	// Verification, so a code change is never stored without its events nor events without
	// their change. It is off by default, since pending events never expire (a dispatcher
	// delivers them, and purges them a while after): without it the OTPStore drops the
	// events of codes, and DB.KeepsEvents reports false. With it, codes live under other
	// keys, sharded like the outbox (see the package documentation, "Events"): turn it on or
	// off on every instance at once.
	KeepEvents bool

	// EventShards is how many shards the Outbox is spread over (each shard a hash tag,
	// {vk:s<n>}, so one slot of a cluster), and, with KeepEvents, the codes with it;
	// DefaultEventShards when zero, at most 1024. Every instance on a prefix must use the
	// same count: changing it moves every code of KeepEvents to another key. More shards
	// spread the outbox over more masters of a cluster; each Claim reads every shard.
	EventShards int

	// Logger receives the adapter's warnings (a write its replicas did not acknowledge,
	// an Update given up under contention). It never receives a code, a hash or a key.
	// Nil discards them.
	Logger *slog.Logger
}

// DB is a verifykit keyspace in one Redis deployment: a single node (*redis.Client), a
// Redis Cluster (*redis.ClusterClient) or a Sentinel-managed primary, reached through
// redis.UniversalClient. It hands out the OTPStore and the RateLimiter that live there.
type DB struct {
	client   goredis.UniversalClient
	prefix   string
	replicas int
	waitMS   int64
	attempts int
	log      *slog.Logger
	events   bool // Options.KeepEvents
	shards   int

	otp     *OTPStore
	limiter *RateLimiter
	outbox  *Outbox
}

// New returns the DB of client configured by opts. It does not contact the server: the
// scripts are loaded on first use (EVALSHA, loaded on a miss). A redis.Ring is refused when
// WaitReplicas is set, since WAIT must reach the shard that took the write.
func New(client goredis.UniversalClient, opts Options) (*DB, error) {
	var v verifykit.Validation
	bad := func(field, rule, desc string) {
		v.AddEntry(verifykit.InvalidEntry{Entry: field, EntryType: verifykit.EntryConfig, Rule: rule, Description: desc})
	}
	if client == nil {
		bad("client", "required", "is required")
	}
	if strings.ContainsAny(opts.Prefix, "{}") {
		bad("Prefix", "format", "must not contain '{' or '}'")
	}
	if opts.WaitReplicas < 0 {
		bad("WaitReplicas", "range", "must not be negative")
	}
	if opts.EventShards < 0 || opts.EventShards > maxEventShards {
		bad("EventShards", "range", fmt.Sprintf("must be between 0 and %d", maxEventShards))
	}
	if _, ring := client.(*goredis.Ring); ring && opts.WaitReplicas > 0 {
		bad("WaitReplicas", "unsupported", "cannot be used with a redis.Ring")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	db := &DB{
		client:   client,
		prefix:   opts.Prefix,
		replicas: opts.WaitReplicas,
		waitMS:   max(int64(opts.WaitTimeout/time.Millisecond), 1),
		attempts: opts.UpdateAttempts,
		log:      opts.Logger,
		events:   opts.KeepEvents,
		shards:   opts.EventShards,
	}
	if db.shards == 0 {
		db.shards = DefaultEventShards
	}
	if db.prefix == "" {
		db.prefix = DefaultPrefix
	}
	if opts.WaitTimeout <= 0 {
		db.waitMS = int64(DefaultWaitTimeout / time.Millisecond)
	}
	if db.attempts <= 0 {
		db.attempts = DefaultUpdateAttempts
	}
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}
	db.otp = &OTPStore{db: db}
	db.limiter = &RateLimiter{db: db}
	db.outbox = &Outbox{db: db, leases: map[string]claimed{}}
	return db, nil
}

// OTPStore returns the ports.OTPStore of the DB.
func (db *DB) OTPStore() *OTPStore { return db.otp }

// RateLimiter returns the ports.RateLimiter of the DB.
func (db *DB) RateLimiter() *RateLimiter { return db.limiter }

// Outbox returns the outbox of the DB: the ports.OutboxStore dispatchers read the events
// through, and a ports.EventLog. The OTPStore writes into it only with Options.KeepEvents
// (KeepsEvents).
func (db *DB) Outbox() *Outbox { return db.outbox }

// KeepsEvents reports whether the OTPStore keeps the events of codes in the Outbox
// (Options.KeepEvents); when false it drops them.
func (db *DB) KeepsEvents() bool { return db.events }

// Prefix returns the prefix that starts every key of the DB.
func (db *DB) Prefix() string { return db.prefix }

// escapeTag escapes s for use inside a key's hash tag: '%', ':', '{' and '}' become %XX, so
// the tag ends where the adapter ends it and two different parts never give one key.
func escapeTag(s string) string {
	if !strings.ContainsAny(s, "%:{}") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := range len(s) {
		switch c := s[i]; c {
		case '%', ':', '{', '}':
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// otpKey is the key of the Verification of purpose and subject: a hash whose hash tag is
// {purpose:subject}; with KeepEvents, a hash on the outbox shard of the purpose and subject,
// "otp{vk:s<n>}:purpose:subject", so the script that writes it writes its events too.
func (db *DB) otpKey(purpose, subject string) string {
	id := escapeTag(purpose) + ":" + escapeTag(subject)
	if db.events {
		return db.prefix + "otp" + shardTag(db.otpShard(purpose, subject)) + ":" + id
	}
	return db.prefix + "otp{" + id + "}"
}

// otpShard is the outbox shard of the Verification of purpose and subject.
func (db *DB) otpShard(purpose, subject string) int {
	return shardOf(escapeTag(purpose)+":"+escapeTag(subject), db.shards)
}

// shardOf is the shard of s among n: FNV-1a, stable across versions and instances.
func shardOf(s string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return int(h.Sum32() % uint32(n))
}

// shardTag is the hash tag of shard n of the outbox.
func shardTag(n int) string { return "{vk:s" + strconv.Itoa(n) + "}" }

// rateKey is the key of the events of a limiter key: a sorted set whose hash tag is {key}.
func (db *DB) rateKey(key string) string {
	return db.prefix + "rate{" + escapeTag(key) + "}"
}

// Causes of the failures the adapter finds itself.
var (
	errNotReplicated = errors.New("the write was not confirmed on a replica")
	errContention    = errors.New("the one-time code is being changed by too many requests at once")
	errReply         = errors.New("unexpected reply of a script")
)

// storageError wraps an error of go-redis in what ports asks of a store failure (see
// ports.ErrUnavailable): the cause, kept for errors.Is and errors.As, with
// ports.ErrUnavailable for
//   - errors that do not come from the server (connection refused or lost, timeouts, a
//     closed or exhausted pool, a cancelled context);
//   - server errors that trying again may cure (LOADING, READONLY, CLUSTERDOWN, TRYAGAIN,
//     MASTERDOWN, MOVED and ASK left after the client's redirects, BUSY, max clients, out of
//     memory, NOREPLICAS);
//
// and nothing more for any other server error (a script error, a wrong type, a
// permission). nil stays nil, and an error storageError made comes back as it is.
func storageError(err error) error {
	var re goredis.Error
	if err == nil || !errors.As(err, &re) || retryable(err) {
		return unavailable(err)
	}
	return storeerr.Wrap("redis", nil, err)
}

// unavailable wraps err, a failure trying again may cure, with ports.ErrUnavailable (nil
// stays nil).
func unavailable(err error) error { return storeerr.Wrap("redis", ports.ErrUnavailable, err) }

// failure wraps err, a failure trying again cannot cure (nil stays nil).
func failure(err error) error { return storeerr.Wrap("redis", nil, err) }

// retryable reports whether err is a server error that trying again later may cure.
func retryable(err error) bool {
	if _, moved := goredis.IsMovedError(err); moved {
		return true
	}
	if _, ask := goredis.IsAskError(err); ask {
		return true
	}
	if goredis.IsLoadingError(err) || goredis.IsReadOnlyError(err) || goredis.IsClusterDownError(err) ||
		goredis.IsTryAgainError(err) || goredis.IsMasterDownError(err) || goredis.IsMaxClientsError(err) ||
		goredis.IsOOMError(err) || goredis.IsNoReplicasError(err) {
		return true
	}
	return goredis.HasErrorPrefix(err, "BUSY")
}

// ctxError answers a done ctx before any command: ctx.Err() with ports.ErrUnavailable, as
// the PostgreSQL adapter answers.
func ctxError(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// redirectAttempts bounds how often a write that waits for replicas is sent again after the
// shard it was sent to no longer owned the key (MOVED or ASK during a failover or a
// resharding) or had not loaded the script.
const redirectAttempts = 10

// eval runs script on key. When record is true and the DB waits for replicas, the script
// and a WAIT go in one pipeline to the master that owns key (WAIT counts the replicas that
// acknowledged the writes of its own connection), and fewer acknowledgements than
// WaitReplicas answer ports.ErrUnavailable after the write was made. Errors are mapped by
// storageError.
func (db *DB) eval(ctx context.Context, script *goredis.Script, key string, record bool, args ...any) (any, error) {
	return db.evalKeys(ctx, script, []string{key}, record, args...)
}

// evalKeys is eval of a script on keys that share one hash slot (its master is the one that
// owns keys[0]).
func (db *DB) evalKeys(ctx context.Context, script *goredis.Script, keys []string, record bool, args ...any) (any, error) {
	key := keys[0]
	if !record || db.replicas == 0 {
		v, err := script.Run(ctx, db.client, keys, args...).Result()
		return v, storageError(err)
	}
	cluster, _ := db.client.(*goredis.ClusterClient)
	for attempt := 1; ; attempt++ {
		var node goredis.Cmdable = db.client
		if cluster != nil {
			n, err := cluster.MasterForKey(ctx, key)
			if err != nil {
				return nil, storageError(err)
			}
			node = n
		}
		pipe := node.Pipeline()
		ev := script.EvalSha(ctx, pipe, keys, args...)
		wait := pipe.Do(ctx, "WAIT", db.replicas, db.waitMS)
		_, _ = pipe.Exec(ctx) // the commands carry their own errors
		err := ev.Err()
		if err != nil && attempt < redirectAttempts {
			_, moved := goredis.IsMovedError(err)
			_, ask := goredis.IsAskError(err)
			switch {
			case goredis.HasErrorPrefix(err, "NOSCRIPT"):
				if lerr := script.Load(ctx, node).Err(); lerr != nil {
					return nil, storageError(lerr)
				}
				continue
			case cluster != nil && (moved || ask || goredis.IsClusterDownError(err) || goredis.IsTryAgainError(err)):
				// The write was refused, not made: learn who owns the key now, and send it again.
				cluster.ReloadState(ctx)
				if err := sleep(ctx, time.Duration(attempt)*20*time.Millisecond); err != nil {
					return nil, err
				}
				continue
			}
		}
		if err != nil {
			return nil, storageError(err)
		}
		acked, werr := wait.Int()
		if werr == nil && acked < db.replicas {
			werr = fmt.Errorf("%d of %d replicas acknowledged within %d ms", acked, db.replicas, db.waitMS)
		}
		if werr != nil {
			db.log.LogAttrs(ctx, slog.LevelWarn, "redis: a write was not acknowledged by its replicas",
				slog.Int("want", db.replicas), slog.String("error", werr.Error()))
			return ev.Val(), unavailable(fmt.Errorf("%w: %w", errNotReplicated, werr))
		}
		return ev.Val(), nil
	}
}

// sleep waits d, or until ctx is done (ctxError).
func sleep(ctx context.Context, d time.Duration) error {
	if sendutil.Sleep(ctx, d) != nil {
		return ctxError(ctx)
	}
	return nil
}

// newToken returns a fresh write token (see OTPStore): random, so a key that was deleted and
// written again never repeats the token a reader saw before.
func newToken() string { return strconv.FormatUint(rand.Uint64(), 36) }

// sortable renders the nanoseconds since the Unix epoch of t as 20 decimal digits that sort
// as the times do (the sign bit flipped, so times before 1970 sort first). Times outside the
// years 1678 to 2262 are clamped to the ends.
func sortable(t time.Time) string {
	var ns int64
	switch {
	case t.Before(minTime):
		ns = minTime.UnixNano()
	case t.After(maxTime):
		ns = maxTime.UnixNano()
	default:
		ns = t.UnixNano()
	}
	return fmt.Sprintf("%020d", uint64(ns)^(1<<63))
}

// fromSortable is the time sortable rendered as s.
func fromSortable(s string) (time.Time, error) {
	if len(s) < 20 {
		return time.Time{}, fmt.Errorf("redis: malformed event %q", s)
	}
	u, err := strconv.ParseUint(s[:20], 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("redis: malformed event: %w", err)
	}
	return time.Unix(0, int64(u^(1<<63))), nil
}

// luaTimes defines, for the scripts, le(a, b): the sortable time a is at or before b. The
// 20 digits compare as two numbers of 10 digits each: Lua's numbers are doubles, and its
// string order follows the server's locale.
const luaTimes = `
local function le(a, b)
  local ah, bh = tonumber(string.sub(a, 1, 10)), tonumber(string.sub(b, 1, 10))
  if ah ~= bh then return ah < bh end
  return tonumber(string.sub(a, 11, 20)) <= tonumber(string.sub(b, 11, 20))
end
`

var (
	minTime = time.Unix(0, -1<<63)
	maxTime = time.Unix(0, 1<<63-1)
)
