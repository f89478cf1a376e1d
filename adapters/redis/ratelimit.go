package redis

import (
	"context"
	"errors"
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
// nanoseconds). Allow, Peek and Undo are one Lua script each (Allow and Peek the script of
// DecideRates, with one key), so concurrent calls for one key, from any instance, never pass
// a limit, and Undo is atomic with Allow.
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

var _ ports.BatchRateLimiter = (*RateLimiter)(nil)

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

// Allow implements ports.RateLimiter in one script (the one of DecideRates, with one key).
// With Options.WaitReplicas, an event it records is also waited for on the replicas.
func (l *RateLimiter) Allow(ctx context.Context, key string, now time.Time, limits ...ports.RateLimit) (ports.RateDecision, error) {
	return l.decide(ctx, key, now, true, limits)
}

// Peek implements ports.RateLimiter in one script that records nothing.
func (l *RateLimiter) Peek(ctx context.Context, key string, now time.Time, limits ...ports.RateLimit) (ports.RateDecision, error) {
	return l.decide(ctx, key, now, false, limits)
}

func (l *RateLimiter) decide(ctx context.Context, key string, now time.Time, record bool, limits []ports.RateLimit) (ports.RateDecision, error) {
	ds, err := l.DecideRates(ctx, now, []ports.RateRequest{{Key: key, Limits: limits, Record: record}})
	if err != nil {
		return ports.RateDecision{}, err
	}
	return ds[0], nil
}

// denials is the decision at now on limits that a script answered as out: {} when every
// limit allows, else {i, member, ...}, each denying limit's index and the event of its
// window that must leave it.
func denials(out []any, now time.Time, limits []ports.RateLimit) (ports.RateDecision, error) {
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

// batchScript decides the requests of a batch on KEYS, keys that share one hash slot (one
// request per key), and records when every request that is not optional allows. ARGV: 1 now (sortable), 2 the member to record, 3 the sortable bound
// at or before which events are dropped when recording, 4 the retention in ms, then for
// each request: its flags (1: record, 2: optional), its number of limits, and for each
// limit its sortable now-Per and its Max. It answers, per request, {} when it allows, else
// {i, member, ...}: each denying limit's index and the (n-Max+1)-th oldest event of its
// window (see denials).
var batchScript = goredis.NewScript(`
local hi = '[' .. ARGV[1] .. ';'
local out, flags, through, a = {}, {}, true, 5
for r = 1, #KEYS do
  local k = KEYS[r]
  local f, nl = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  a = a + 2
  local denied = {}
  for i = 1, nl do
    local lo = '[' .. ARGV[a] .. ';'
    local max = tonumber(ARGV[a + 1])
    a = a + 2
    local n = redis.call('ZLEXCOUNT', k, lo, hi)
    if n >= max then
      local m = redis.call('ZRANGEBYLEX', k, lo, hi, 'LIMIT', n - max, 1)
      denied[#denied + 1] = i
      denied[#denied + 1] = m[1]
    end
  end
  out[r], flags[r] = denied, f
  if #denied > 0 and f < 2 then
    through = false
  end
end
if not through then
  return out
end
local keep = tonumber(ARGV[4])
for r = 1, #KEYS do
  if flags[r] % 2 == 1 and #out[r] == 0 then
    local k = KEYS[r]
    redis.call('ZREMRANGEBYLEX', k, '-', '[' .. ARGV[3] .. ';')
    redis.call('ZADD', k, 0, ARGV[2])
    if redis.call('PTTL', k) < keep then
      redis.call('PEXPIRE', k, keep)
    end
  end
end
return out
`)

// DecideRates implements ports.BatchRateLimiter. On one node (a *redis.Client) the whole
// batch is one script, atomic like Allow. On a Redis Cluster, where every limiter key has a
// hash slot of its own, each key is one script, all of them sent in one pipeline (one round
// trip to each master involved, in parallel); when a key that is not optional denies, the
// events the others recorded are removed before DecideRates returns (see
// ports.DecideRates). With Options.WaitReplicas, the scripts are sent one after another,
// each waited for on its replicas.
func (l *RateLimiter) DecideRates(ctx context.Context, now time.Time, reqs []ports.RateRequest) ([]ports.RateDecision, error) {
	if err := ports.CheckRateBatch(reqs); err != nil {
		return nil, err
	}
	if err := ctxError(ctx); err != nil {
		return nil, err
	}
	longest, ok := ports.BatchLongestPer(reqs)
	if !ok {
		return nil, ports.ErrBadRateLimit
	}
	var counted []int // the requests with limits: the others allow and record nothing
	ds := make([]ports.RateDecision, len(reqs))
	for i, r := range reqs {
		ds[i].Allowed = true
		if len(r.Limits) > 0 {
			counted = append(counted, i)
		}
	}
	if len(counted) == 0 {
		return ds, nil
	}
	keep := l.retention.Keep(longest)
	now = now.Round(0)
	at := sortable(now)
	head := []any{at, at + ":" + newToken(), sortable(now.Add(-keep)), strconv.FormatInt(max(int64(keep/time.Millisecond), 1), 10)}
	script := func(group []int) (keys []string, args []any, record bool) {
		args = append(args, head...)
		for _, i := range group {
			r := reqs[i]
			keys = append(keys, l.db.rateKey(r.Key))
			flags := 0
			if r.Record {
				flags, record = 1, true
			}
			if r.Optional {
				flags += 2
			}
			args = append(args, flags, len(r.Limits))
			for _, lim := range r.Limits {
				args = append(args, sortable(now.Add(-lim.Per)), lim.Max)
			}
		}
		return keys, args, record
	}
	groups := [][]int{counted}
	if _, single := l.db.client.(*goredis.Client); !single {
		groups = make([][]int, len(counted))
		for g, i := range counted {
			groups[g] = []int{i}
		}
	}
	outs := make([][]any, len(groups))
	if len(groups) == 1 || l.db.replicas > 0 {
		for g, group := range groups {
			keys, args, record := script(group)
			res, err := l.db.evalKeys(ctx, batchScript, keys, record, args...)
			if err != nil {
				return nil, errors.Join(err, l.giveBack(ctx, reqs, groups[:g], outs, now))
			}
			outs[g], _ = res.([]any)
		}
	} else if err := l.pipelined(ctx, groups, script, outs); err != nil {
		return nil, errors.Join(err, l.giveBack(ctx, reqs, groups, outs, now))
	}
	for g, group := range groups {
		if len(outs[g]) != len(group) {
			return nil, errors.Join(failure(errReply), l.giveBack(ctx, reqs, groups, outs, now))
		}
		for j, i := range group {
			out, _ := outs[g][j].([]any)
			d, err := denials(out, now, reqs[i].Limits)
			if err != nil {
				return nil, errors.Join(err, l.giveBack(ctx, reqs, groups, outs, now))
			}
			ds[i] = d
		}
	}
	if len(groups) > 1 && !ports.RateBatchGoesThrough(reqs, ds) {
		if err := l.giveBack(ctx, reqs, groups, outs, now); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// pipelined runs the script of every group in one pipeline, answering each group's result
// in outs; a group whose script the server did not have loaded is sent again once it is.
func (l *RateLimiter) pipelined(ctx context.Context, groups [][]int, script func([]int) ([]string, []any, bool), outs [][]any) error {
	todo := make([]int, len(groups))
	for g := range groups {
		todo[g] = g
	}
	for attempt := 1; len(todo) > 0; attempt++ {
		pipe := l.db.client.Pipeline()
		cmds := make([]*goredis.Cmd, len(todo))
		for j, g := range todo {
			keys, args, _ := script(groups[g])
			cmds[j] = batchScript.EvalSha(ctx, pipe, keys, args...)
		}
		_, _ = pipe.Exec(ctx) // the commands carry their own errors
		var again []int
		var errs []error
		for j, g := range todo {
			res, err := cmds[j].Result()
			switch {
			case err == nil:
				outs[g], _ = res.([]any)
			case goredis.HasErrorPrefix(err, "NOSCRIPT") && attempt < redirectAttempts:
				again = append(again, g)
			default:
				errs = append(errs, storageError(err))
			}
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		if len(again) > 0 {
			if err := batchScript.Load(ctx, l.db.client).Err(); err != nil {
				return storageError(err)
			}
		}
		todo = again
	}
	return nil
}

// giveBack removes the events that the scripts of groups recorded (those whose results are
// in outs): a group records the requests that record and allow when its own requests that
// are not optional allow.
func (l *RateLimiter) giveBack(ctx context.Context, reqs []ports.RateRequest, groups [][]int, outs [][]any, now time.Time) error {
	var errs []error
	for g, group := range groups {
		if len(outs[g]) != len(group) {
			continue // not run, or an answer that cannot be read: nothing to tell
		}
		through := true
		for j, i := range group {
			if out, _ := outs[g][j].([]any); len(out) > 0 && !reqs[i].Optional {
				through = false
			}
		}
		for j, i := range group {
			if out, _ := outs[g][j].([]any); through && reqs[i].Record && len(out) == 0 {
				errs = append(errs, l.Undo(context.WithoutCancel(ctx), reqs[i].Key, now))
			}
		}
	}
	return errors.Join(errs...)
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
