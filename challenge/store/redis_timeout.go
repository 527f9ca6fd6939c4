package store

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// defaultRedisTimeout bounds a call on a client whose options say nothing.
const defaultRedisTimeout = 2 * time.Second

// RedisTimeout is the bound of one store call on rdb: the client's read
// timeout, which the gateway sets, like the dial, write and pool timeouts,
// to its `timeout` option. Every Redis store (and the Redis limiter) gives
// each call a context deadline of this much, so that the pool wait, the
// dial, the reads and writes and any retry of one call share one budget:
// a slow or stalled Redis fails a request closed within it, however many
// requests wait together.
func RedisTimeout(rdb redis.UniversalClient) time.Duration {
	var d time.Duration
	switch c := rdb.(type) {
	case *redis.Client:
		d = c.Options().ReadTimeout
	case *redis.ClusterClient:
		d = c.Options().ReadTimeout
	}
	if d <= 0 {
		return defaultRedisTimeout
	}
	return d
}

// boundCtx gives ctx a deadline of d from now, unless it has an earlier one.
func boundCtx(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}
