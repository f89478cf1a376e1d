package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/internal/sendutil"
)

// DefaultPrefix starts every key of a DB whose Options name no Prefix.
const DefaultPrefix = "verifykit:"

// DefaultUpdateAttempts is how many compare-and-set attempts OTPStore.Update makes, unless
// Options say otherwise, before it answers KindUnavailable: more than the number of
// concurrent Updates of one purpose and subject it must carry through (each attempt that
// loses does so because another one won, so n concurrent Updates all succeed within n
// attempts each).
const DefaultUpdateAttempts = 256

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
	// and answer KindUnavailable when fewer did within WaitTimeout. Redis replication is
	// asynchronous: without it a failover can lose an acknowledged write (see the package
	// documentation). Zero does not wait.
	WaitReplicas int

	// WaitTimeout bounds the wait for replicas; DefaultWaitTimeout when zero or less.
	WaitTimeout time.Duration

	// UpdateAttempts bounds the compare-and-set attempts of one OTPStore.Update;
	// DefaultUpdateAttempts when zero or less.
	UpdateAttempts int

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

	otp     *OTPStore
	limiter *RateLimiter
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
	return db, nil
}

// OTPStore returns the ports.OTPStore of the DB.
func (db *DB) OTPStore() *OTPStore { return db.otp }

// RateLimiter returns the ports.RateLimiter of the DB.
func (db *DB) RateLimiter() *RateLimiter { return db.limiter }

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
// {purpose:subject}.
func (db *DB) otpKey(purpose, subject string) string {
	return db.prefix + "otp{" + escapeTag(purpose) + ":" + escapeTag(subject) + "}"
}

// rateKey is the key of the events of a limiter key: a sorted set whose hash tag is {key}.
func (db *DB) rateKey(key string) string {
	return db.prefix + "rate{" + escapeTag(key) + "}"
}

// Messages of the errors the adapter returns.
const (
	msgUnavailable   = "The verifykit code store is unavailable; try again later."
	msgNotReplicated = "The verifykit code store could not confirm the write on a replica; try again later."
	msgContention    = "The one-time code is being changed by too many requests at once; try again."
	msgInternal      = "The verifykit code store failed."
	msgCorrupt       = "A stored one-time code cannot be read."
)

// storageError maps an error of go-redis to a *verifykit.Error that wraps it:
//   - errors that do not come from the server (connection refused or lost, timeouts, a
//     closed or exhausted pool, a cancelled context): KindUnavailable;
//   - server errors that trying again may cure (LOADING, READONLY, CLUSTERDOWN, TRYAGAIN,
//     MASTERDOWN, MOVED and ASK left after the client's redirects, BUSY, max clients, out of
//     memory, NOREPLICAS): KindUnavailable;
//   - any other server error (a script error, a wrong type, a permission): KindInternal.
//
// nil stays nil, and an *verifykit.Error comes back as it is.
func storageError(err error) error {
	if err == nil {
		return nil
	}
	var ve *verifykit.Error
	if errors.As(err, &ve) {
		return err
	}
	var re goredis.Error
	if !errors.As(err, &re) {
		return verifykit.Wrap(verifykit.KindUnavailable, msgUnavailable, err)
	}
	if retryable(err) {
		return verifykit.Wrap(verifykit.KindUnavailable, msgUnavailable, err)
	}
	return verifykit.Wrap(verifykit.KindInternal, msgInternal, err)
}

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

// ctxError answers a done ctx before any command: KindUnavailable wrapping ctx.Err(), as the
// PostgreSQL adapter answers.
func ctxError(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return verifykit.Wrap(verifykit.KindUnavailable, msgUnavailable, err)
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
// WaitReplicas answer KindUnavailable after the write was made. Errors are mapped by
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
			return ev.Val(), verifykit.Wrap(verifykit.KindUnavailable, msgNotReplicated, werr)
		}
		return ev.Val(), nil
	}
}

// sleep waits d, or until ctx is done (KindUnavailable).
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

var (
	minTime = time.Unix(0, -1<<63)
	maxTime = time.Unix(0, 1<<63-1)
)
