package memory

import "hash/maphash"

// shardCount is the number of lock shards of the sharded stores: enough that goroutines
// working on different keys rarely wait for each other.
const shardCount = 64

// shardIndex picks the shard of key.
func shardIndex(seed maphash.Seed, key string) int {
	return int(maphash.String(seed, key) % shardCount)
}

// sweepEvery is how many writes to a shard pass between two sweeps of its stale entries,
// so memory stays bounded without a background goroutine.
const sweepEvery = 1024

// cacheLinePad keeps the lock of one shard off the cache line of its neighbour's, so that
// goroutines working on different shards do not slow each other down (false sharing).
type cacheLinePad [64]byte
