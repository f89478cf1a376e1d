package memory

import (
	"context"
	"hash/maphash"
	"sync"
)

// shardedRecords keeps records of type T by key in shardCount lock shards, so that
// goroutines working on different keys rarely wait for each other. Records go in and
// come out as copies made by clone, so callers never share memory with what is stored.
type shardedRecords[T any] struct {
	seed   maphash.Seed
	clone  func(T) T
	shards [shardCount]recordShard[T]
}

// recordShard is one lock shard of a shardedRecords.
type recordShard[T any] struct {
	mu   sync.Mutex
	recs map[string]T

	_ cacheLinePad
}

// newShardedRecords returns an empty shardedRecords that copies records with clone; a nil
// clone copies them by assignment, for records made of plain values.
func newShardedRecords[T any](clone func(T) T) *shardedRecords[T] {
	if clone == nil {
		clone = func(rec T) T { return rec }
	}
	r := &shardedRecords[T]{seed: maphash.MakeSeed(), clone: clone}
	for i := range r.shards {
		r.shards[i].recs = make(map[string]T)
	}
	return r
}

// locked runs f on the records of key's shard, with the shard locked, after checking ctx.
func (r *shardedRecords[T]) locked(ctx context.Context, key string, f func(recs map[string]T) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := &r.shards[shardIndex(r.seed, key)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return f(sh.recs)
}

// get returns a copy of the record of key, or notFound when there is none.
func (r *shardedRecords[T]) get(ctx context.Context, key string, notFound error) (T, error) {
	var out T
	err := r.locked(ctx, key, func(recs map[string]T) error {
		rec, ok := recs[key]
		if !ok {
			return notFound
		}
		out = r.clone(rec)
		return nil
	})
	return out, err
}

// create stores a copy of rec under key, or returns exists when key already has a record.
func (r *shardedRecords[T]) create(ctx context.Context, key string, rec T, exists error) error {
	return r.locked(ctx, key, func(recs map[string]T) error {
		if _, ok := recs[key]; ok {
			return exists
		}
		recs[key] = r.clone(rec)
		return nil
	})
}

// update calls fn on a copy of the record of key with its shard locked, then fix on it
// (to restore what fn may not change, such as the key), stores a copy of the result and
// returns it. It returns notFound when key has no record, and stores nothing when fn fails.
func (r *shardedRecords[T]) update(ctx context.Context, key string, notFound error, fn func(*T) error, fix func(*T)) (T, error) {
	var out T
	err := r.locked(ctx, key, func(recs map[string]T) error {
		rec, ok := recs[key]
		if !ok {
			return notFound
		}
		work := r.clone(rec)
		if err := fn(&work); err != nil {
			return err
		}
		fix(&work)
		recs[key] = r.clone(work)
		out = work
		return nil
	})
	return out, err
}

// each calls f on the records of every shard in turn, with that shard locked, and stops
// with ctx's error when ctx is done before a shard.
func (r *shardedRecords[T]) each(ctx context.Context, f func(recs map[string]T)) error {
	for i := range r.shards {
		if err := ctx.Err(); err != nil {
			return err
		}
		sh := &r.shards[i]
		sh.mu.Lock()
		f(sh.recs)
		sh.mu.Unlock()
	}
	return nil
}
