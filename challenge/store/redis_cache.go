package store

import (
	"context"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// CachedPrefix starts the keys whose values CachedKV keeps: the sessions,
// read by every signed-in request.
const CachedPrefix = "session:"

// SessionCacheOptions bound a CachedKV; the zero value of each field takes
// its default.
type SessionCacheOptions struct {
	// Entries bounds the number of values kept. Default: 50,000.
	Entries int
	// MaxAge drops a value this long after it was read from Redis, however
	// it was kept up to date: a backstop. Default: 1 minute.
	MaxAge time.Duration
	// MaxStale is how old the latest proof that the tracking connection is
	// up to date may be (the send time of the latest PING answered) for a
	// value to be served from memory. A change made on another gateway is
	// so seen here within MaxStale, whatever happens to the connection.
	// Default: 100ms.
	MaxStale time.Duration
	// PingEvery is how often the tracking connection is pinged; well under
	// MaxStale. Default: 40ms (25 PINGs a second per gateway).
	PingEvery time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// cacheShards is the number of shards of a CachedKV (fewer when it holds
// fewer entries).
const cacheShards = 64

// CachedKV is a RedisKV that keeps the values of the session keys in
// memory, so that a signed-in request makes no Redis call in the common
// case, while every change of a session (sign-out, a revocation on any
// gateway) is seen within MaxStale.
//
// Values are served from memory only while Redis's client tracking
// (redis_tracking.go) tells this gateway of every change of a session key
// and the tracking connection has answered a PING sent within MaxStale;
// otherwise every Get reads Redis, as RedisKV does. A change made through
// this CachedKV drops its own copy before returning, so this gateway's own
// sign-out is seen by its very next request. Values missing in Redis are
// not kept. Expiry is not the cache's to judge: the session store checks
// the idle and absolute limits of what it reads, every time.
//
// The values returned by Get for session keys are shared with the cache:
// callers must not modify them (the session store only decodes them).
type CachedKV struct {
	kv     *RedisKV
	shards []cacheShard
	// perShard bounds each shard, so the whole holds at most Entries.
	perShard int
	maxAge   time.Duration
	maxStale time.Duration
	every    time.Duration
	now      func() time.Time
	// base is the clock's reading at creation: times are kept as offsets
	// from it, which use the monotonic clock where the clock has one.
	base time.Time

	// tracking is true while the tracking connection is subscribed with
	// tracking on, since its last loss; it is cleared before the flush that
	// a loss makes.
	tracking atomic.Bool
	// ackedAt is the offset from base of the send time of the latest PING
	// whose PONG came back on the tracking connection (noPong: none on
	// this connection yet).
	ackedAt atomic.Int64

	// afterRead, if set (tests), runs after a Get's Redis read and before
	// the value is kept.
	afterRead func(key string)
	// beforeMessage, if set (tests), runs before the tracking connection's
	// reader handles what it received.
	beforeMessage func()
}

// cacheShard is one part of the cache, with its lock.
type cacheShard struct {
	mu sync.RWMutex
	m  map[string]cacheEntry
	// seq counts the invalidations and flushes of this shard; a Get keeps
	// what it read only if seq did not move while it read (see Get).
	seq uint64
}

// cacheEntry is one kept value and when it was read.
type cacheEntry struct {
	v  []byte
	at int64
}

// Interface guard: exactly the interfaces of RedisKV (not Toucher, which
// the session store would take instead of Replace).
var _ KV = (*CachedKV)(nil)

// NewCachedKV wraps kv with a session cache bounded by o. The cache serves
// nothing until tracking starts (Track).
func NewCachedKV(kv *RedisKV, o SessionCacheOptions) *CachedKV {
	if o.Entries <= 0 {
		o.Entries = 50000
	}
	if o.MaxAge <= 0 {
		o.MaxAge = time.Minute
	}
	if o.MaxStale <= 0 {
		o.MaxStale = 100 * time.Millisecond
	}
	if o.PingEvery <= 0 {
		o.PingEvery = min(40*time.Millisecond, o.MaxStale*2/5)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	n := min(cacheShards, o.Entries)
	c := &CachedKV{
		kv: kv, shards: make([]cacheShard, n), perShard: o.Entries / n,
		maxAge: o.MaxAge, maxStale: o.MaxStale, every: o.PingEvery, now: o.Now, base: o.Now(),
	}
	c.ackedAt.Store(noPong)
	for i := range c.shards {
		c.shards[i].m = make(map[string]cacheEntry)
	}
	return c
}

// clock is the time now as an offset from base.
func (c *CachedKV) clock() int64 { return int64(c.now().Sub(c.base)) }

// fresh reports whether values may be served from memory at offset now.
func (c *CachedKV) fresh(now int64) bool {
	acked := c.ackedAt.Load()
	return c.tracking.Load() && acked != noPong && now-acked <= int64(c.maxStale)
}

func (c *CachedKV) shard(key string) *cacheShard {
	return &c.shards[keyStripe(key, len(c.shards))]
}

// Len is the number of values kept.
func (c *CachedKV) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

// noPong is ackedAt before any PONG on the current tracking connection.
const noPong = math.MinInt64

// Get implements KV: a session key's value comes from memory while the
// tracking connection is proven up to date, else from Redis.
func (c *CachedKV) Get(ctx context.Context, key string) ([]byte, error) {
	if !strings.HasPrefix(key, CachedPrefix) {
		return c.kv.Get(ctx, key)
	}
	s := c.shard(key)
	now := c.clock()
	s.mu.RLock()
	e, ok := s.m[key]
	seq := s.seq
	s.mu.RUnlock()
	if ok && c.fresh(now) && now-e.at < int64(c.maxAge) {
		return e.v, nil
	}
	// Read after seq (the loss of the tracking connection clears tracking
	// first, then bumps seq). Keeping what Redis answers is sound only if
	// tracking was on before the GET was sent and no invalidation or flush
	// of this shard came in before the value is kept: then any change of
	// the key after Redis read it is broadcast on the tracking connection
	// (tracking covers every key under the prefix, read or not), and its
	// invalidation is handled after the value is kept (deleting it) or
	// before (moving seq, so it is not kept). A change before the read is
	// in the value. A tracking connection lost meanwhile flushes, which
	// moves seq too; one lost without anyone knowing yet stops answering
	// PINGs, so nothing is served after MaxStale.
	tracking := c.tracking.Load()
	v, err := c.kv.Get(ctx, key)
	if err != nil || !tracking {
		return v, err
	}
	if c.afterRead != nil {
		c.afterRead(key)
	}
	s.mu.Lock()
	if s.seq == seq {
		if _, there := s.m[key]; !there && len(s.m) >= c.perShard {
			for k := range s.m { // evict one, at random
				delete(s.m, k)
				break
			}
		}
		s.m[key] = cacheEntry{v: v, at: now}
	}
	s.mu.Unlock()
	return v, nil
}

// drop forgets key's value (a change made here or broadcast by Redis).
func (c *CachedKV) drop(key string) {
	if !strings.HasPrefix(key, CachedPrefix) {
		return
	}
	s := c.shard(key)
	s.mu.Lock()
	delete(s.m, key)
	s.seq++
	s.mu.Unlock()
}

// flush forgets every value.
func (c *CachedKV) flush() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.m)
		s.seq++
		s.mu.Unlock()
	}
}

// Set implements KV.
func (c *CachedKV) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	defer c.drop(key)
	return c.kv.Set(ctx, key, value, ttl)
}

// Delete implements KV.
func (c *CachedKV) Delete(ctx context.Context, key string) error {
	defer c.drop(key)
	return c.kv.Delete(ctx, key)
}

// Incr implements KV.
func (c *CachedKV) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	defer c.drop(key)
	return c.kv.Incr(ctx, key, ttl)
}

// Replace implements KV.
func (c *CachedKV) Replace(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	defer c.drop(key)
	return c.kv.Replace(ctx, key, value, ttl)
}

// Take implements KV.
func (c *CachedKV) Take(ctx context.Context, key string) ([]byte, error) {
	defer c.drop(key)
	return c.kv.Take(ctx, key)
}

// DeleteIf implements KV.
func (c *CachedKV) DeleteIf(ctx context.Context, key string, value []byte) (bool, error) {
	defer c.drop(key)
	return c.kv.DeleteIf(ctx, key, value)
}

// Create implements KV.
func (c *CachedKV) Create(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	defer c.drop(key)
	return c.kv.Create(ctx, key, value, ttl)
}

// SetAdd implements KV.
func (c *CachedKV) SetAdd(ctx context.Context, key, member string, ttl time.Duration) error {
	defer c.drop(key)
	return c.kv.SetAdd(ctx, key, member, ttl)
}

// SetMembers implements KV.
func (c *CachedKV) SetMembers(ctx context.Context, key string) ([]string, error) {
	return c.kv.SetMembers(ctx, key)
}

// SetRemove implements KV.
func (c *CachedKV) SetRemove(ctx context.Context, key, member string) error {
	defer c.drop(key)
	return c.kv.SetRemove(ctx, key, member)
}
