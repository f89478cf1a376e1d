package redis

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/verifykit/verifykit/ports"
)

// Outbox is the transactional outbox of a DB: a ports.OutboxStore that dispatchers
// (adapters/webhook) read the events through, and a ports.EventLog. With Options.KeepEvents
// the OTPStore writes the events of each Verification into it in the same Lua script that
// writes the Verification, so a code change is stored with its events or not at all, on a
// single node and on a cluster alike.
//
// It is spread over Options.EventShards shards. Every key of shard n carries the hash tag
// {vk:s<n>}, so a shard lives in one slot, and a code whose Verification hashes to shard n
// (with KeepEvents its key carries the same tag) writes its events there. A shard holds one
// hash per entry ("<prefix>ev{vk:s<n>}:e:<id>": the event as JSON and its delivery state) and
// sorted sets of the entries' members (a per-shard sequence number, then the id): "due"
// (pending and free, by event time), "later" (pending, leased or waiting for a retry, by the
// time it is free again), "dead" (by event time) and "done:<aggregate type>" (delivered, by
// delivery time, so Purge never reads the types it keeps). Scores are microseconds; every
// decision about a time within the microsecond of its bound compares the exact times the
// entry holds, to the nanosecond.
//
// Claim reads every shard in one pipeline (one round trip to each node) for the due entries
// that are oldest, picks the limit oldest of all, then leases that many of the oldest in each
// shard in a second pipeline, each shard with one script: two dispatchers never lease one
// entry while its lease runs. Ack, Retry, Dead and MarkDelivered check the lease in one
// script on the entry's shard (which Claim remembers; an Outbox that did not claim the entry
// asks every shard). Redrive asks every shard. Entries never expire: pending and dead ones
// stay until delivered or re-driven, delivered ones until Purge deletes them (the webhook
// dispatcher purges those delivered more than its Retention ago).
//
// Times are kept to the nanosecond between the years 1678 and 2262; times outside are
// clamped to those ends. The bookkeeping writes (Claim, Ack, Retry, ...) do not wait for
// replicas (Options.WaitReplicas): a failover that loses one makes an event come again,
// which at-least-once delivery allows; the write of a code and its events waits like any
// code write.
type Outbox struct {
	db *DB

	mu sync.Mutex
	// leases remembers the shard of each entry this Outbox leased, until its lease ends or
	// the entry is acknowledged, retried or dead, so that those find it in one script.
	leases map[string]claimed
}

// claimed is the shard of an entry an Outbox leased, and the end of the lease.
type claimed struct {
	shard int
	until time.Time
}

var (
	_ ports.OutboxStore = (*Outbox)(nil)
	_ ports.EventLog    = (*Outbox)(nil)
)

// shardBase is the start of every key of outbox shard n: "<prefix>ev{vk:s<n>}:".
func (db *DB) shardBase(n int) string { return db.prefix + "ev" + shardTag(n) + ":" }

// shardCall is a run of a script on the shard whose keys start with base: the script gets
// base as ARGV[1], then args.
func shardCall(base string, args ...any) scriptCall {
	return scriptCall{key: base + "seq", args: append([]any{base}, args...)}
}

// score is the score of t in the outbox's sorted sets: microseconds since the Unix epoch,
// rounded up, clamped to ±2^53 (a score is a double, exact up to there).
func score(t time.Time) string {
	const limit int64 = 1 << 53
	sec := t.Unix()
	if sec > limit/1_000_000 {
		return strconv.FormatInt(limit, 10)
	}
	if sec < -limit/1_000_000 {
		return strconv.FormatInt(-limit, 10)
	}
	us := sec*1_000_000 + (int64(t.Nanosecond())+999)/1000
	return strconv.FormatInt(min(max(us, -limit), limit), 10)
}

// The Lua the outbox scripts share. Each script sets base (the start of its shard's keys)
// first. A shard's sorted sets hold members: the entry's 16-digit sequence number, then its
// id; entry(m) is the key of the entry's hash. fields are the fields decodeEntry reads, in
// its order: the event (JSON), state, attempts, next attempt, locked until, last error,
// delivered to (a JSON array), delivered at; times are sortable digits (redis.go).
const luaShard = `
local base
local fields = {'e', 's', 'n', 'na', 'lu', 'le', 'dt', 'da'}
local function entry(m) return base .. 'e:' .. string.sub(m, 17) end
-- free: the entry e is due and not leased at now.
local function free(e, now)
  local f = redis.call('HMGET', e, 'na', 'lu')
  return f[1] and le(f[1], now) and (not f[2] or f[2] == '' or le(f[2], now))
end
-- dueNow: up to limit members of due, oldest first, whose entries are free at now (ns is
-- now's score: a lower score is surely free, an equal one is checked to the nanosecond),
-- each followed by its score.
local function dueNow(now, ns, limit)
  local out, n = {}, tonumber(ns)
  local c = redis.call('ZRANGEBYSCORE', base .. 'due', '-inf', ns, 'WITHSCORES', 'LIMIT', 0, limit)
  for i = 1, #c, 2 do
    if tonumber(c[i + 1]) < n or free(entry(c[i]), now) then
      out[#out + 1] = c[i]
      out[#out + 1] = c[i + 1]
    end
  end
  return out
end
-- append: stores the events of ARGV[i..] (a count, then for each its id, JSON, sortable
-- time, score and aggregate type) as pending entries due at their time, in order. It
-- answers false, having written nothing, when an id is taken.
local function append(i)
  local n = tonumber(ARGV[i])
  for j = 0, n - 1 do
    if redis.call('EXISTS', base .. 'e:' .. ARGV[i + 1 + 5 * j]) == 1 then return false end
  end
  for j = 0, n - 1 do
    local k = i + 1 + 5 * j
    local m = string.format('%016d', redis.call('INCR', base .. 'seq')) .. ARGV[k]
    redis.call('HSET', base .. 'e:' .. ARGV[k], 'e', ARGV[k + 1], 'm', m, 's', 'pending', 'n', '0',
      'na', ARGV[k + 2], 'ts', ARGV[k + 3], 't', ARGV[k + 4])
    redis.call('ZADD', base .. 'due', ARGV[k + 3], m)
  end
  return true
end
-- purgeable: the delivered entries delivered before the sortable time before (bs its score),
-- of the types not among ARGV[from..], up to limit of each type, oldest delivery first, as
-- {delivered at, type, member}.
local function purgeable(before, bs, limit, from)
  local keep, b, out = {}, tonumber(bs), {}
  for i = from, #ARGV do keep[ARGV[i]] = true end
  for _, t in ipairs(redis.call('SMEMBERS', base .. 'types')) do
    if not keep[t] then
      local c = redis.call('ZRANGEBYSCORE', base .. 'done:' .. t, '-inf', bs, 'WITHSCORES', 'LIMIT', 0, limit)
      for i = 1, #c, 2 do
        local da = redis.call('HGET', entry(c[i]), 'da')
        if tonumber(c[i + 1]) < b or not le(before, da) then
          out[#out + 1] = {da, t, c[i]}
        end
      end
    end
  end
  table.sort(out, function(x, y) return not le(y[1], x[1]) end)
  return out
end
`

// shardScript is a script on one outbox shard: the shared Lua, then body.
func shardScript(body string) *goredis.Script {
	return goredis.NewScript(luaTimes + luaShard + body)
}

// appendScript stores the events of ARGV[2..] (see append): 1, or 0 when an id is taken.
var appendScript = shardScript(`
base = ARGV[1]
if not append(2) then return 0 end
return 1
`)

// peekScript makes the entries of later that are free at ARGV[2] (score ARGV[3]) due again,
// then answers the scores of up to ARGV[4] due entries free at then, oldest first.
var peekScript = shardScript(`
base = ARGV[1]
local now, ns = ARGV[2], ARGV[3]
local back = redis.call('ZRANGEBYSCORE', base .. 'later', '-inf', ns, 'WITHSCORES', 'LIMIT', 0, 1000)
for i = 1, #back, 2 do
  local e = entry(back[i])
  if tonumber(back[i + 1]) < tonumber(ns) or free(e, now) then
    redis.call('ZREM', base .. 'later', back[i])
    local ts = redis.call('HGET', e, 'ts')
    if ts then redis.call('ZADD', base .. 'due', ts, back[i]) end
  end
end
local out, c = {}, dueNow(now, ns, ARGV[4])
for i = 2, #c, 2 do out[#out + 1] = c[i] end
return out
`)

// leaseScript leases up to ARGV[6] of the oldest due entries free at ARGV[2] (score ARGV[3])
// until ARGV[4] (score ARGV[5]), and answers their fields.
var leaseScript = shardScript(`
base = ARGV[1]
local out, c = {}, dueNow(ARGV[2], ARGV[3], ARGV[6])
for i = 1, #c, 2 do
  local m, e = c[i], entry(c[i])
  redis.call('ZREM', base .. 'due', m)
  redis.call('ZADD', base .. 'later', ARGV[5], m)
  redis.call('HSET', e, 'lu', ARGV[4])
  out[#out + 1] = redis.call('HMGET', e, unpack(fields))
end
return out
`)

// leasedScript records op (ARGV[4]) on the entry ARGV[2] while it is pending under the
// lease ARGV[3], and answers 1; else 0, changing nothing. mark: ARGV[5] got it. ack: at
// ARGV[5] (score ARGV[6]). retry: due again at ARGV[5] (score ARGV[6]), ARGV[7] the error.
// dead: ARGV[5] the error.
var leasedScript = shardScript(`
base = ARGV[1]
local op = ARGV[4]
if op ~= 'mark' and op ~= 'ack' and op ~= 'retry' and op ~= 'dead' then
  return redis.error_reply('unknown outbox operation')
end
local e = base .. 'e:' .. ARGV[2]
local f = redis.call('HMGET', e, 's', 'lu', 'm', 't', 'ts')
if f[1] ~= 'pending' or f[2] ~= ARGV[3] then return 0 end
local m = f[3]
if op == 'mark' then
  local dt, list = redis.call('HGET', e, 'dt'), {}
  if dt and dt ~= '' then list = cjson.decode(dt) end
  for _, t in ipairs(list) do
    if t == ARGV[5] then return 1 end
  end
  list[#list + 1] = ARGV[5]
  redis.call('HSET', e, 'dt', cjson.encode(list))
  return 1
end
redis.call('ZREM', base .. 'later', m)
redis.call('ZREM', base .. 'due', m)
if op == 'ack' then
  redis.call('HSET', e, 's', 'delivered', 'lu', '', 'na', ARGV[5], 'da', ARGV[5])
  redis.call('ZADD', base .. 'done:' .. f[4], ARGV[6], m)
  redis.call('SADD', base .. 'types', f[4])
elseif op == 'retry' then
  redis.call('HINCRBY', e, 'n', 1)
  redis.call('HSET', e, 'lu', '', 'na', ARGV[5], 'le', ARGV[7])
  redis.call('ZADD', base .. 'later', ARGV[6], m)
else
  redis.call('HINCRBY', e, 'n', 1)
  redis.call('HSET', e, 's', 'dead', 'lu', '', 'le', ARGV[5])
  redis.call('ZADD', base .. 'dead', f[5], m)
end
return 1
`)

// redriveScript makes the dead entry ARGV[2] pending, due at ARGV[3] (score ARGV[4]), its
// attempts reset, and answers 1; 0 when no dead entry has the id.
var redriveScript = shardScript(`
base = ARGV[1]
local e = base .. 'e:' .. ARGV[2]
local f = redis.call('HMGET', e, 's', 'm')
if f[1] ~= 'dead' then return 0 end
redis.call('HSET', e, 's', 'pending', 'n', '0', 'lu', '', 'na', ARGV[3])
redis.call('ZREM', base .. 'dead', f[2])
redis.call('ZADD', base .. 'later', ARGV[4], f[2])
return 1
`)

// deadScript answers up to ARGV[2] dead entries, oldest first: for each its member, score
// and fields.
var deadScript = shardScript(`
base = ARGV[1]
local c = redis.call('ZRANGE', base .. 'dead', 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
local out = {}
for i = 1, #c, 2 do
  out[#out + 1] = c[i]
  out[#out + 1] = c[i + 1]
  out[#out + 1] = redis.call('HMGET', entry(c[i]), unpack(fields))
end
return out
`)

// purgePeekScript answers the delivery times of up to ARGV[4] entries Purge may delete
// (delivered before ARGV[2], score ARGV[3], of a type not among ARGV[5..]), oldest first.
var purgePeekScript = shardScript(`
base = ARGV[1]
local c, out = purgeable(ARGV[2], ARGV[3], ARGV[4], 5), {}
for i = 1, math.min(#c, tonumber(ARGV[4])) do out[#out + 1] = c[i][1] end
return out
`)

// purgeEntriesScript deletes up to ARGV[4] of the oldest entries purgePeekScript would
// answer, and answers how many it deleted.
var purgeEntriesScript = shardScript(`
base = ARGV[1]
local c, n = purgeable(ARGV[2], ARGV[3], ARGV[4], 5), 0
for i = 1, math.min(#c, tonumber(ARGV[4])) do
  local t, m = c[i][2], c[i][3]
  redis.call('ZREM', base .. 'done:' .. t, m)
  redis.call('DEL', entry(m))
  if redis.call('EXISTS', base .. 'done:' .. t) == 0 then redis.call('SREM', base .. 'types', t) end
  n = n + 1
end
return n
`)

// eventArgs are the arguments append reads for evs: a count, then each event's id, JSON,
// sortable time, score and aggregate type. A missing or repeated id is KindInvalidInput.
func eventArgs(evs []ports.LifecycleEvent) ([]any, error) {
	args := make([]any, 0, 1+5*len(evs))
	args = append(args, len(evs))
	seen := make(map[string]bool, len(evs))
	for i := range evs {
		ev := &evs[i]
		if ev.ID == "" || seen[ev.ID] {
			return nil, failure(errEventID)
		}
		seen[ev.ID] = true
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, failure(err)
		}
		args = append(args, ev.ID, b, sortable(ev.Time), score(ev.Time), ev.AggregateType)
	}
	return args, nil
}

// errEventID is the cause of a write whose events do not each have an id of their own.
var errEventID = errors.New("every event of a write needs an id of its own")

// Append implements ports.EventLog: evs go to one shard (the shard of the first event's
// aggregate) in one script, all or none, in order.
func (o *Outbox) Append(ctx context.Context, evs ...ports.LifecycleEvent) error {
	if err := ctxError(ctx); err != nil {
		return err
	}
	if len(evs) == 0 {
		return nil
	}
	args, err := eventArgs(evs)
	if err != nil {
		return err
	}
	base := o.db.shardBase(shardOf(evs[0].AggregateType+":"+evs[0].AggregateID, o.db.shards))
	res, err := o.db.evalEach(ctx, appendScript, []scriptCall{shardCall(base, args...)})
	if err != nil {
		return err
	}
	if res[0] != int64(1) {
		return ports.ErrEventExists
	}
	return nil
}

// everyShard returns a call of each shard, with args.
func (o *Outbox) everyShard(args ...any) []scriptCall {
	calls := make([]scriptCall, o.db.shards)
	for i := range calls {
		calls[i] = shardCall(o.db.shardBase(i), args...)
	}
	return calls
}

// Claim implements ports.OutboxStore (see Outbox): the limit oldest due entries of all
// shards, as far as concurrent claims leave them, leased until now+lease.
func (o *Outbox) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]ports.OutboxEntry, error) {
	if err := ctxError(ctx); err != nil {
		return nil, err
	}
	if limit < 1 {
		return []ports.OutboxEntry{}, nil
	}
	at, atScore := sortable(now), score(now)
	peeks, err := o.db.evalEach(ctx, peekScript, o.everyShard(at, atScore, limit))
	if err != nil {
		return nil, err
	}
	take := pickOldest(peeks, limit, func(v any) float64 {
		f, _ := strconv.ParseFloat(text(v), 64)
		return f
	})
	until := now.Add(lease)
	var (
		calls  []scriptCall
		shards []int
	)
	for shard, k := range take {
		if k > 0 {
			calls = append(calls, shardCall(o.db.shardBase(shard), at, atScore, sortable(until), score(until), k))
			shards = append(shards, shard)
		}
	}
	out := []ports.OutboxEntry{}
	if len(calls) == 0 {
		return out, nil
	}
	leased, err := o.db.evalEach(ctx, leaseScript, calls)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for id, l := range o.leases {
		if l.until.Before(now) {
			delete(o.leases, id)
		}
	}
	for i, r := range leased {
		for _, f := range replyList(r) {
			e, err := decodeEntry(f)
			if err != nil {
				return nil, err
			}
			o.leases[e.Event.ID] = claimed{shard: shards[i], until: e.LockedUntil}
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b ports.OutboxEntry) int { return a.Event.Time.Compare(b.Event.Time) })
	return out, nil
}

// leased runs op on the claimed entry e under its lease, on its shard (every shard when
// this Outbox did not claim it), and answers ports.ErrOutboxLeaseLost when it changed
// nothing. final ops end what the Outbox remembers of the lease.
func (o *Outbox) leased(ctx context.Context, e ports.OutboxEntry, final bool, op string, args ...any) error {
	if err := ctxError(ctx); err != nil {
		return err
	}
	if e.LockedUntil.IsZero() {
		return ports.ErrOutboxLeaseLost // never claimed
	}
	id := e.Event.ID
	o.mu.Lock()
	l, known := o.leases[id]
	o.mu.Unlock()
	args = append([]any{id, sortable(e.LockedUntil), op}, args...)
	calls := o.everyShard(args...)
	if known {
		calls = []scriptCall{shardCall(o.db.shardBase(l.shard), args...)}
	}
	res, err := o.db.evalEach(ctx, leasedScript, calls)
	if err != nil {
		return err
	}
	if final {
		o.mu.Lock()
		delete(o.leases, id)
		o.mu.Unlock()
	}
	if !slices.Contains(res, any(int64(1))) {
		return ports.ErrOutboxLeaseLost
	}
	return nil
}

// MarkDelivered implements ports.OutboxStore.
func (o *Outbox) MarkDelivered(ctx context.Context, e ports.OutboxEntry, target string) error {
	return o.leased(ctx, e, false, "mark", target)
}

// Ack implements ports.OutboxStore.
func (o *Outbox) Ack(ctx context.Context, e ports.OutboxEntry, now time.Time) error {
	return o.leased(ctx, e, true, "ack", sortable(now), score(now))
}

// Retry implements ports.OutboxStore.
func (o *Outbox) Retry(ctx context.Context, e ports.OutboxEntry, nextAttemptAt time.Time, lastErr string) error {
	return o.leased(ctx, e, true, "retry", sortable(nextAttemptAt), score(nextAttemptAt), lastErr)
}

// Dead implements ports.OutboxStore.
func (o *Outbox) Dead(ctx context.Context, e ports.OutboxEntry, lastErr string) error {
	return o.leased(ctx, e, true, "dead", lastErr)
}

// DeadLetters implements ports.OutboxStore: the limit oldest dead entries of all shards.
func (o *Outbox) DeadLetters(ctx context.Context, limit int) ([]ports.OutboxEntry, error) {
	if err := ctxError(ctx); err != nil {
		return nil, err
	}
	if limit < 1 {
		return []ports.OutboxEntry{}, nil
	}
	res, err := o.db.evalEach(ctx, deadScript, o.everyShard(limit))
	if err != nil {
		return nil, err
	}
	type dead struct {
		score  float64
		shard  int
		member string
		fields any
	}
	var all []dead
	for shard, r := range res {
		l := replyList(r)
		for i := 0; i+2 < len(l); i += 3 {
			f, _ := strconv.ParseFloat(str(l, i+1), 64)
			all = append(all, dead{f, shard, str(l, i), l[i+2]})
		}
	}
	slices.SortFunc(all, func(a, b dead) int {
		return cmp.Or(cmp.Compare(a.score, b.score), cmp.Compare(a.shard, b.shard), cmp.Compare(a.member, b.member))
	})
	out := []ports.OutboxEntry{}
	for _, d := range all[:min(limit, len(all))] {
		e, err := decodeEntry(d.fields)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b ports.OutboxEntry) int { return a.Event.Time.Compare(b.Event.Time) })
	return out, nil
}

// Redrive implements ports.OutboxStore; it asks every shard for the entry.
func (o *Outbox) Redrive(ctx context.Context, id string, now time.Time) error {
	if err := ctxError(ctx); err != nil {
		return err
	}
	res, err := o.db.evalEach(ctx, redriveScript, o.everyShard(id, sortable(now), score(now)))
	if err != nil {
		return err
	}
	if !slices.Contains(res, any(int64(1))) {
		return ports.ErrOutboxEntryNotFound
	}
	return nil
}

// purgeRound is how many entries one script of a Purge without a limit deletes on a shard.
const purgeRound = 1000

// Purge implements ports.OutboxStore. With a limit it reads the oldest deliveries of every
// shard in one pipeline, picks the limit oldest of all, and deletes that many of the oldest
// in each shard in a second one; without, it deletes purgeRound at a time in each shard until
// every shard is done. Each deletion is one script on the shard, which deletes only entries
// delivered then, so concurrent Purges delete each entry once.
func (o *Outbox) Purge(ctx context.Context, req ports.PurgeRequest) (int, error) {
	if err := ctxError(ctx); err != nil {
		return 0, err
	}
	if err := req.Validate(); err != nil {
		return 0, err
	}
	bound := []any{sortable(req.DeliveredBefore), score(req.DeliveredBefore)}
	keep := make([]any, len(req.KeepAggregateTypes))
	for i, t := range req.KeepAggregateTypes {
		keep[i] = t
	}
	// call is the purge call of shard with k.
	call := func(shard, k int) scriptCall {
		return shardCall(o.db.shardBase(shard), append(append(slices.Clone(bound), k), keep...)...)
	}
	if req.Limit > 0 {
		var calls []scriptCall
		for shard := range o.db.shards {
			calls = append(calls, call(shard, req.Limit))
		}
		peeks, err := o.db.evalEach(ctx, purgePeekScript, calls)
		if err != nil {
			return 0, err
		}
		take := pickOldest(peeks, req.Limit, text)
		calls = calls[:0]
		for shard, k := range take {
			if k > 0 {
				calls = append(calls, call(shard, k))
			}
		}
		return o.purge(ctx, calls)
	}
	total := 0
	left := make([]int, o.db.shards)
	for i := range left {
		left[i] = i
	}
	for len(left) > 0 {
		calls := make([]scriptCall, len(left))
		for i, shard := range left {
			calls[i] = call(shard, purgeRound)
		}
		res, err := o.db.evalEach(ctx, purgeEntriesScript, calls)
		if err != nil {
			return total, err
		}
		next := left[:0]
		for i, r := range res {
			n, _ := r.(int64)
			total += int(n)
			if n == purgeRound {
				next = append(next, left[i])
			}
		}
		left = next
	}
	return total, nil
}

// purge runs the purge calls and answers how many entries they deleted.
func (o *Outbox) purge(ctx context.Context, calls []scriptCall) (int, error) {
	if len(calls) == 0 {
		return 0, nil
	}
	res, err := o.db.evalEach(ctx, purgeEntriesScript, calls)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, r := range res {
		n, _ := r.(int64)
		total += int(n)
	}
	return total, nil
}

// pickOldest counts, for each shard, how many of the limit oldest of all the shards' peeks
// are its own. peeks[i] is shard i's reply: a list, oldest first, of values whose age key
// tells (the lower, the older); ties go to the lower shard.
func pickOldest[K cmp.Ordered](peeks []any, limit int, key func(any) K) []int {
	type item struct {
		k     K
		shard int
	}
	var all []item
	for shard, r := range peeks {
		for _, v := range replyList(r) {
			all = append(all, item{key(v), shard})
		}
	}
	slices.SortFunc(all, func(a, b item) int { return cmp.Or(cmp.Compare(a.k, b.k), cmp.Compare(a.shard, b.shard)) })
	take := make([]int, len(peeks))
	for _, it := range all[:min(limit, len(all))] {
		take[it.shard]++
	}
	return take
}

// replyList is a script's array reply; nil for anything else.
func replyList(r any) []any {
	l, _ := r.([]any)
	return l
}

// errCorruptEntry is the cause of an outbox entry that cannot be read.
var errCorruptEntry = errors.New("redis: malformed outbox entry")

// corruptEntry is the failure of an entry that cannot be read because of err.
func corruptEntry(err error) error {
	if errors.Is(err, errCorruptEntry) {
		return failure(err)
	}
	return failure(fmt.Errorf("%w: %w", errCorruptEntry, err))
}

// decodeEntry reads the fields of an entry (luaShard's fields) into an OutboxEntry.
func decodeEntry(r any) (ports.OutboxEntry, error) {
	f := replyList(r)
	var e ports.OutboxEntry
	if len(f) != 8 {
		return e, corruptEntry(errCorruptEntry)
	}
	if err := json.Unmarshal([]byte(str(f, 0)), &e.Event); err != nil {
		return e, corruptEntry(err)
	}
	e.State = ports.OutboxState(str(f, 1))
	e.Attempts, _ = strconv.Atoi(str(f, 2))
	e.LastError = str(f, 5)
	if dt := str(f, 6); dt != "" {
		if err := json.Unmarshal([]byte(dt), &e.DeliveredTo); err != nil {
			return e, corruptEntry(err)
		}
	}
	for _, t := range []struct {
		to *time.Time
		s  string
	}{{&e.NextAttemptAt, str(f, 3)}, {&e.LockedUntil, str(f, 4)}, {&e.DeliveredAt, str(f, 7)}} {
		if t.s == "" {
			continue
		}
		at, err := fromSortable(t.s)
		if err != nil {
			return e, corruptEntry(err)
		}
		*t.to = at.UTC()
	}
	return e, nil
}

// scriptCall is one run of a script, sent to the node of key.
type scriptCall struct {
	key  string
	args []any
}

// evalEach runs script once for each call in one pipeline (one round trip to each node of a
// cluster, which go-redis sends in parallel), and answers the replies in the order of the
// calls. Calls that meet a node without the script are sent again with EVAL. The first error
// fails the whole, mapped by storageError (calls that ran before it may have written).
func (db *DB) evalEach(ctx context.Context, script *goredis.Script, calls []scriptCall) ([]any, error) {
	if err := ctxError(ctx); err != nil {
		return nil, err
	}
	cmds := make([]*goredis.Cmd, len(calls))
	pipe := db.client.Pipeline()
	for i, c := range calls {
		cmds[i] = script.EvalSha(ctx, pipe, []string{c.key}, c.args...)
	}
	_, _ = pipe.Exec(ctx) // the commands carry their own errors
	var again []int
	for i, c := range cmds {
		if goredis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		pipe = db.client.Pipeline()
		for _, i := range again {
			cmds[i] = script.Eval(ctx, pipe, []string{calls[i].key}, calls[i].args...)
		}
		_, _ = pipe.Exec(ctx)
	}
	out := make([]any, len(cmds))
	for i, c := range cmds {
		v, err := c.Result()
		if err != nil {
			return nil, storageError(err)
		}
		out[i] = v
	}
	return out, nil
}
