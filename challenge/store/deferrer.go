package store

import (
	"context"
	"time"
)

// Deferrer is a KV whose changes can wait for the next durable one: the
// embedded store, where each durable change syncs the disk. A deferred
// change is made in memory at once (every read sees it) and reaches the
// file together with the next change of a kept key that is not deferred,
// before that change returns (or within FlushEvery if none comes). A
// caller that makes several changes for one answer defers all but the
// last, which it makes durable: the answer then waits for one sync of the
// disk, not one for each, and once it is given, every change is on file.
// Stores whose writes are all alike (Redis, plain memory) need not
// implement it; callers then make the changes as they are.
type Deferrer interface {
	// DeferDelete is Delete, deferred.
	DeferDelete(ctx context.Context, key string) error
	// DeferSetAdd is SetAdd, deferred.
	DeferSetAdd(ctx context.Context, key, member string, ttl time.Duration) error
	// DeferSetRemove is SetRemove, deferred.
	DeferSetRemove(ctx context.Context, key, member string) error
}

// Interface guard.
var _ Deferrer = (*MemoryKV)(nil)
