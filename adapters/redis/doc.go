// Package redis keeps verifykit's standalone one-time codes (ports.OTPStore), their events
// (a transactional outbox, ports.OutboxStore) and its rate limits (ports.RateLimiter) in
// Redis, a single node or a Redis Cluster, with github.com/redis/go-redis/v9. A host keeps
// its person requests, processes and profiles in PostgreSQL (adapters/postgres) and moves
// the hot, short-lived state here:
//
//	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs}) // or redis.NewClient
//	db, err := vkredis.New(client, vkredis.Options{Prefix: "myapp:", WaitReplicas: 1, KeepEvents: true})
//	codes, err := otp.NewService(otp.Deps{Store: db.OTPStore(), Limiter: db.RateLimiter(), SMS: sms}, cfg)
//	d, err := webhook.NewDispatcher(webhook.DispatcherConfig{Outbox: db.Outbox(), Endpoints: endpoints})
//
// # Keys and atomicity
//
// Every key starts with Options.Prefix and carries a hash tag, so all a step touches lives
// in one slot of one shard: the Verification of a purpose and subject is one hash under
// "<prefix>otp{<purpose>:<subject>}" (with KeepEvents, under its outbox shard's tag: see
// Events), the events of a limiter key one sorted set under
// "<prefix>rate{<key>}" (':', '{', '}' and '%' inside the parts are escaped as %XX). Every
// step that must be atomic is one Lua script, run with EVALSHA and loaded on a miss; the
// client follows MOVED and ASK redirects.
//
// OTPStore.Update takes a Go closure, so it is optimistic: it reads the Verification and the
// token of the write that stored it, runs the closure, and writes with a compare-and-set
// script only if the token is unchanged; on a conflict it runs the closure again on what
// won, a bounded number of times (Options.UpdateAttempts), then answers ports.ErrUnavailable. A
// code is consumed at most once and attempts never pass their limit, under any number of
// concurrent verifies from any number of instances (the tests run 100 concurrent verifies
// over two cluster clients: exactly one succeeds). The limiter's Allow, Peek and Undo are
// one script each that decides by the rule of ports.DecideRate (see RateLimiter).
//
// # Events
//
// The events of codes (code.issued, code.verified, code.failed, ... with the Version of
// their Verification) are kept only with Options.KeepEvents, since pending events never
// expire: something must deliver them (a webhook.Dispatcher on DB.Outbox, which also purges
// delivered ones after its Retention). Without it the OTPStore drops them, and
// DB.KeepsEvents answers false: a host that dispatches events from PostgreSQL or memory then
// gets none of its standalone codes.
//
// With KeepEvents the outbox is spread over Options.EventShards shards (16 by default),
// each under the hash tag {vk:s<n>}, so each shard lives in one slot; a code's key moves onto
// the shard of its purpose and subject, "<prefix>otp{vk:s<n>}:<purpose>:<subject>", and the
// one script that stores its Verification stores its events in that shard: on a single
// node or a cluster, a change is never kept without its events, nor events without their
// change, even when the connection dies mid-call (TestOutboxMatchesTheCodesWhenConnectionsDie
// kills the clients' connections while codes are issued and verified). The codes' keys
// thereby share 16 slots (so at most 16 masters) instead of one slot per subject: raise
// EventShards to spread them over a larger cluster. Switching KeepEvents, or changing
// EventShards, moves every code to another key: the codes stored before are no longer found
// (they live minutes; the person asks for a new one, and failures counted against the
// failure budget start again), and the old keys expire at their KeepUntil. Switch every
// instance at once.
//
// Outbox implements ports.OutboxStore and ports.EventLog: Claim reads every shard in one
// pipeline and leases the oldest due entries with one script per shard, so several
// dispatchers (of several instances) share the outbox without two of them holding one
// entry (see Outbox). DB.Outbox works without KeepEvents too, as an outbox of a host's own
// events (Append).
//
// # Expiry instead of sweeps
//
// A Verification's key expires at its KeepUntil (PEXPIREAT), a limiter key a retention after
// its latest event (PEXPIRE), both by the server's clock (outbox entries do not expire; see
// Events). Nothing needs sweeping:
// OTPStore.PurgeExpired answers 0 after one TIME command when its time is not ahead of the
// server's (the keys are gone already), and only scans for a time ahead of it (see there);
// the limiter has no PurgeStale.
//
// # Errors
//
// Failures come back as what ports asks of every adapter (see ports.ErrUnavailable): their
// cause, wrapped, never a *verifykit.Error (the flows word what people read). A connection
// refused or lost, a timeout, a cancelled context, and the server errors that trying again
// may cure (a cluster down or failing over, a loading or read-only node, a busy script, out
// of memory) wrap ports.ErrUnavailable too; any other server error is the server's error
// alone. New answers bad options with a *verifykit.Error.
//
// # Durability
//
// Redis replication is asynchronous: a master acknowledges a write before its replicas have
// it, and a failover (a master lost, or a replica promoted with CLUSTER FAILOVER FORCE or
// TAKEOVER) can lose the writes of the last moments. For codes this means a consumed code
// can come back active, and be verified a second time; an attempt or a send can be
// forgotten. Measured on a local six-node cluster (TestFailoverDuringVerifies, a master's
// replica promoted with TAKEOVER while four workers issued and verified codes on its slots),
// runs lost between 1 and 3 consumptions out of 600 to 800 codes verified, besides a few
// issued codes.
//
// Options.WaitReplicas = 1 sends WAIT 1 <WaitTimeout> in the same pipeline as every write
// that consumes or counts, to the master that owns the key, and answers ports.ErrUnavailable when
// no replica acknowledged the write in time (the write may then still be there: the caller
// sees a failure it may retry, never a success that a failover can take back). With it, a
// consumption reported as a success survives the failover of its master to the replica that
// acknowledged it: the same test found 0 codes verified twice in every run, at the price of
// the failures during the failover (about 30 calls answered unavailable) and of one
// replication round trip per write. It is not durable on disk: a whole shard lost at once
// (master and replicas) loses its codes and limits; configure persistence (appendonly) on
// the servers if that matters. Without WaitReplicas the adapter is as durable as Redis'
// asynchronous replication.
package redis
