package caddymodule

import (
	"context"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// sessionCache is the gateway's cache of sessions over Redis
// (store.CachedKV) and the tracking client that keeps it in step, which
// Start connects and Stop closes.
type sessionCache struct {
	kv   *store.CachedKV
	opts *redis.UniversalOptions
	// client and wait are the running tracking client and the wait for
	// its end; nil when not started.
	client *redis.Client
	wait   func()
}

// newSessionCache wraps kv with the session cache of c, or returns nil
// when c has none (off, or Cluster).
func newSessionCache(c *RedisConfig, kv *store.RedisKV, o *redis.UniversalOptions) *sessionCache {
	n := c.sessionCache()
	if n == 0 {
		return nil
	}
	return &sessionCache{kv: store.NewCachedKV(kv, store.SessionCacheOptions{Entries: n}), opts: o}
}

// startSessionCache connects the tracking client (Start, never Provision:
// `caddy validate` must not connect); the cache serves once tracking is
// up, and stops when ctx ends (Stop).
func (a *App) startSessionCache(ctx context.Context) {
	if a.Redis == nil {
		return
	}
	if a.Redis.Cluster && a.Redis.SessionCache >= 0 {
		a.logger.Info("the session cache is off with Redis Cluster (client tracking covers one node): every signed-in request reads Redis")
		return
	}
	c := a.sessionCache
	if c == nil || c.client != nil {
		return
	}
	if c.opts.MasterName != "" {
		c.client = redis.NewFailoverClient(c.kv.TrackingFailoverOptions(c.opts.Failover()))
	} else {
		c.client = redis.NewClient(c.kv.TrackingOptions(c.opts.Simple()))
	}
	log := a.logger.With(zap.String("connection", store.TrackingClientName))
	c.wait = c.kv.Track(ctx, c.client, store.TrackingEvents{
		Up: func() { log.Info("session cache on: redis tracks the session keys for this gateway") },
		Lost: func(err error) {
			log.Warn("session cache flushed: the tracking connection is lost; every signed-in request reads redis until it is back", zap.Error(err))
		},
		Refused: func(err error) {
			log.Warn("session cache off: redis refused client tracking; every signed-in request reads redis. "+
				"Grant the redis user +client|id +client|tracking +client|setname +subscribe and the channel &__redis__:invalidate (Redis 6 or later), "+
				"or set session_cache off", zap.Error(err))
		},
	})
}

// stopSessionCache waits until tracking has stopped (its context ended)
// and closes the tracking client.
func (a *App) stopSessionCache() {
	c := a.sessionCache
	if c == nil || c.client == nil {
		return
	}
	c.wait()
	_ = c.client.Close()
	c.client, c.wait = nil, nil
}
