package redis

import (
	"context"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/verifykit/verifykit/ports"
)

// RateLimiter is a ports.RateLimiter in Redis that every instance on the same deployment and
// prefix shares. Each limiter key is a sorted set under a key whose hash tag is {key}: one
// member per recorded event, "<time>:<random>", where <time> is the event's nanoseconds
// since the epoch as 20 sortable digits (every score is 0, so members sort by time, and
// lexicographic ranges select windows to the nanosecond; a score, a double, could not hold
// nanoseconds). Allow, Peek and Undo are one Lua script each, so concurrent calls for one key,
// from any instance, never pass a limit, and Undo is atomic with Allow.
//
// The script decides by the rule of ports.DecideRate: for every limit it counts the events
// in (now-Per, now] (ZLEXCOUNT; events later than now are not counted, whatever the order
// they arrived in) and, when a limit denies, answers the (n-Max+1)-th oldest of them, from
// which RetryAfter is computed exactly in Go. An allowed Allow drops the events the
// retention no longer covers at now, records now, and makes the key live at least the
// retention from then (PEXPIRE by the server's clock), so no sweep is needed.
//
// Times are the callers' (see ports.RateLimiter). Events are kept for the retention
// (SetRetention, ports.DefaultRateRetention by default, and at least the longest window this
// RateLimiter value has been asked about); set every instance alike.
type RateLimiter struct {
	db        *DB
	retention ports.RateRetention // how long events are kept
}

var _ ports.RateLimiter = (*RateLimiter)(nil)

// decideScript decides a call at now on the events of KEYS[1]. ARGV: 1 record ("1" or "0"),
// 2 now (sortable), 3 the member to record, 4 the sortable bound at or before which events
// are dropped when recording, 5 the retention in ms, 6 the number of limits, then for each
// limit its sortable now-Per and its Max. It answers {} when every limit allows (and records
// the event when asked), else {i, member, ...}: each denying limit's index and the
// (n-Max+1)-th oldest event of its window.
var decideScript = goredis.NewScript(`
local k = KEYS[1]
local hi = '[' .. ARGV[2] .. ';'
local denied = {}
for i = 1, tonumber(ARGV[6]) do
  local lo = '[' .. ARGV[5 + 2 * i] .. ';'
  local max = tonumber(ARGV[6 + 2 * i])
  local n = redis.call('ZLEXCOUNT', k, lo, hi)
  if n >= max then
    local m = redis.call('ZRANGEBYLEX', k, lo, hi, 'LIMIT', n - max, 1)
    denied[#denied + 1] = i
    denied[#denied + 1] = m[1]
  end
end
if #denied > 0 or ARGV[1] ~= '1' then
  return denied
end
redis.call('ZREMRANGEBYLEX', k, '-', '[' .. ARGV[4] .. ';')
redis.call('ZADD', k, 0, ARGV[3])
local keep = tonumber(ARGV[5])
if redis.call('PTTL', k) < keep then
  redis.call('PEXPIRE', k, keep)
end
return denied
`)

// undoScript removes one event of KEYS[1] at exactly ARGV[1] (sortable), if there is one.
// A sorted set left empty is deleted by the server.
var undoScript = goredis.NewScript(`
local m = redis.call('ZRANGEBYLEX', KEYS[1], '[' .. ARGV[1] .. ':', '(' .. ARGV[1] .. ';', 'LIMIT', 0, 1)
if m[1] then
  return redis.call('ZREM', KEYS[1], m[1])
end
return 0
`)

// SetRetention sets how long the limiter keeps an event (see ports.RateLimiter); zero or
// less restores ports.DefaultRateRetention. It never keeps events for less than the longest
// Per this RateLimiter value has been asked about. Set every instance on one prefix alike,
// to at least the longest window any of them uses. It is safe to call at any time.
func (l *RateLimiter) SetRetention(d time.Duration) { l.retention.Set(d) }

// Allow implements ports.RateLimiter in one script. With Options.WaitReplicas, an event it
// records is also waited for on the replicas.
func (l *RateLimiter) Allow(ctx context.Context, key string, now time.Time, limits ...ports.RateLimit) (ports.RateDecision, error) {
	return l.decide(ctx, key, now, true, limits)
}

// Peek implements ports.RateLimiter in one script that records nothing.
func (l *RateLimiter) Peek(ctx context.Context, key string, now time.Time, limits ...ports.RateLimit) (ports.RateDecision, error) {
	return l.decide(ctx, key, now, false, limits)
}

func (l *RateLimiter) decide(ctx context.Context, key string, now time.Time, record bool, limits []ports.RateLimit) (ports.RateDecision, error) {
	if err := ctxError(ctx); err != nil {
		return ports.RateDecision{}, err
	}
	if len(limits) == 0 {
		return ports.RateDecision{Allowed: true}, nil // nothing to count against
	}
	longest, ok := ports.LongestPer(limits)
	if !ok {
		return ports.RateDecision{}, ports.ErrBadRateLimit
	}
	keep := l.retention.Keep(longest)
	now = now.Round(0)
	at := sortable(now)
	flag := "0"
	if record {
		flag = "1"
	}
	args := make([]any, 0, 6+2*len(limits))
	args = append(args, flag, at, at+":"+newToken(), sortable(now.Add(-keep)),
		strconv.FormatInt(max(int64(keep/time.Millisecond), 1), 10), len(limits))
	for _, lim := range limits {
		args = append(args, sortable(now.Add(-lim.Per)), lim.Max)
	}
	res, err := l.db.eval(ctx, decideScript, l.db.rateKey(key), record, args...)
	if err != nil {
		return ports.RateDecision{}, err
	}
	out, _ := res.([]any)
	d := ports.RateDecision{Allowed: len(out) == 0}
	for i := 0; i+1 < len(out); i += 2 {
		idx, _ := out[i].(int64)
		member, _ := out[i+1].(string)
		if idx < 1 || int(idx) > len(limits) {
			return ports.RateDecision{}, failure(errReply)
		}
		t, err := fromSortable(member)
		if err != nil {
			return ports.RateDecision{}, failure(err)
		}
		// The event at t leaves the window of the limit at t+Per.
		d.RetryAfter = max(d.RetryAfter, t.Add(limits[idx-1].Per).Sub(now))
	}
	return d, nil
}

// Undo implements ports.RateLimiter in one script: it removes one event recorded at exactly
// at (to the nanosecond), and the key once it holds none.
func (l *RateLimiter) Undo(ctx context.Context, key string, at time.Time) error {
	if err := ctxError(ctx); err != nil {
		return err
	}
	_, err := l.db.eval(ctx, undoScript, l.db.rateKey(key), false, sortable(at))
	return err
}
