package caddymodule

import (
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/redis/go-redis/v9"
)

// RedisConfig connects the gateway to Redis, where many instances share
// sessions, accounts, short-lived state and rate limits. Run Redis with
// persistence (AOF or RDB): it holds the registered second factors.
type RedisConfig struct {
	// URL is a redis:// or rediss:// URL (user, password and DB may be in
	// it). Use it, or Addresses.
	URL string `json:"url,omitempty"`
	// Addresses are host:port pairs: Sentinels when MasterName is set,
	// cluster nodes when Cluster is set, else a single server.
	Addresses []string `json:"addresses,omitempty"`
	// MasterName is the Sentinel master's name (Sentinel mode).
	MasterName string `json:"master_name,omitempty"`
	// Cluster selects Redis Cluster mode.
	Cluster bool `json:"cluster,omitempty"`
	// Username for Redis ACLs. Placeholders such as {env.REDIS_USER} work.
	// The user needs the key patterns ~<key_prefix>* and ~rate:<key_prefix>*
	// (the rate limits' keys, which redis_rate starts with "rate:"); on
	// Redis 7 the gateway checks this at start with ACL DRYRUN and refuses
	// to start, naming the missing pattern. Default: the default user.
	Username string `json:"username,omitempty"`
	// Password for Redis. Use a placeholder such as {env.REDIS_PASSWORD}.
	Password string `json:"password,omitempty"`
	// DB is the database number (not in Cluster mode). Default: 0.
	DB int `json:"db,omitempty"`
	// TLS connects with TLS (implied by a rediss:// URL).
	TLS bool `json:"tls,omitempty"`
	// KeyPrefix starts every key the gateway writes, except the rate
	// limits', which are "rate:" + KeyPrefix + ... Gateways that share
	// state use the same prefix and the same storage_key (a fingerprint of
	// the key is kept at <prefix>storage-key-fingerprint). Default: "mfa:".
	KeyPrefix string `json:"key_prefix,omitempty"`
	// Timeout bounds each Redis call as a whole: the wait for a pooled
	// connection, the dial, reads and writes, and a retry, for single,
	// Sentinel and Cluster clients. So an unreachable or stalled Redis
	// fails requests closed (503) within it instead of hanging them, however
	// many wait together; a request makes few calls, so it waits at most
	// about two timeouts. Default: 2s.
	Timeout caddy.Duration `json:"timeout,omitempty"`
	// SessionCache is how many sessions each gateway keeps in memory, so
	// that a signed-in request needs no Redis call in the common case.
	// Redis's client tracking tells every gateway of each change of a
	// session (a sign-out, a revocation on any gateway), which it then
	// sees within 100ms; while the tracking connection is down or late,
	// every request reads Redis. The Redis user then also needs
	// +client|id, +client|tracking, +client|setname, +subscribe and the channel
	// &__redis__:invalidate; without them the gateway starts without the
	// cache and logs a warning. Not with Cluster (the cache is off there).
	// -1 turns it off. Default: 50000.
	SessionCache int `json:"session_cache,omitempty"`
}

// defaultSessionCache is SessionCache's default.
const defaultSessionCache = 50000

// sessionCache is how many sessions to keep in memory, 0 for none.
func (c *RedisConfig) sessionCache() int {
	switch {
	case c.SessionCache < 0 || c.Cluster:
		return 0
	case c.SessionCache == 0:
		return defaultSessionCache
	}
	return c.SessionCache
}

// prefix is the key prefix with its default.
func (c *RedisConfig) prefix() string {
	if c.KeyPrefix == "" {
		return "mfa:"
	}
	return c.KeyPrefix
}

// options builds go-redis options with placeholders resolved.
func (c *RedisConfig) options(repl *caddy.Replacer) (*redis.UniversalOptions, error) {
	o := &redis.UniversalOptions{
		Addrs:         c.Addresses,
		MasterName:    c.MasterName,
		Username:      repl.ReplaceKnown(c.Username, ""),
		Password:      repl.ReplaceKnown(c.Password, ""),
		DB:            c.DB,
		IsClusterMode: c.Cluster,
	}
	if u := repl.ReplaceKnown(c.URL, ""); u != "" {
		if len(c.Addresses) > 0 {
			return nil, errors.New("redis: give url or addresses, not both")
		}
		parsed, err := redis.ParseURL(u)
		if err != nil {
			return nil, fmt.Errorf("redis: bad url: %w", err)
		}
		o.Addrs = []string{parsed.Addr}
		if parsed.Username != "" {
			o.Username = parsed.Username
		}
		if parsed.Password != "" {
			o.Password = parsed.Password
		}
		if parsed.DB != 0 {
			o.DB = parsed.DB
		}
		o.TLSConfig = parsed.TLSConfig
	}
	if len(o.Addrs) == 0 {
		return nil, errors.New("redis: needs a url or addresses")
	}
	if len(o.Addrs) > 1 && c.MasterName == "" && !c.Cluster {
		return nil, errors.New("redis: several addresses need master_name (Sentinel) or cluster")
	}
	if c.Cluster && c.MasterName != "" {
		return nil, errors.New("redis: cluster and master_name exclude each other")
	}
	if c.Cluster && o.DB != 0 {
		return nil, errors.New("redis: Cluster mode has only database 0")
	}
	if c.TLS && o.TLSConfig == nil {
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	timeout := time.Duration(c.Timeout)
	if timeout == 0 {
		timeout = 2 * time.Second
	}
	// Every wait of one call is bounded by timeout: connecting, each read
	// and write, the wait for a free connection of the pool (go-redis's
	// default is ReadTimeout+1s, and Sentinel and Cluster clients take it
	// from here too), and, through the context deadline that the stores
	// give each call (store.RedisTimeout) and that go-redis honours only
	// with ContextTimeoutEnabled, the whole of a call with its retries and
	// Cluster redirects. So a stalled Redis fails a request closed within
	// timeout, however many requests wait together.
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = timeout, timeout, timeout, timeout
	o.ContextTimeoutEnabled = true
	// One retry of a command (it helps over a failover), with a short
	// backoff, and one dial attempt each (go-redis would otherwise dial up
	// to 5 times, 100ms apart): all within the call's deadline.
	o.MaxRetries = 1
	o.MinRetryBackoff, o.MaxRetryBackoff = 10*time.Millisecond, 100*time.Millisecond
	o.DialerRetries = 1
	o.DialerRetryTimeout = 10 * time.Millisecond
	return o, nil
}

// pooledRedis is a Redis client shared across config reloads, with the
// start-up checks it has passed (see redisPassed).
type pooledRedis struct {
	redis.UniversalClient
	passed *sync.Map
	health *redisHealth
}

// Destruct closes the client when no config uses it any more.
func (p pooledRedis) Destruct() error { return p.Close() }

// poolRedis returns the client for these options, shared across reloads
// (and between configs with the same connection settings), and the record
// of the start-up checks passed on it.
func (a *App) poolRedis(o *redis.UniversalOptions) (redis.UniversalClient, *sync.Map, error) {
	pw := sha256.Sum256([]byte(o.Password))
	key := fmt.Sprintf("redis:%q|%q|%v|%q|%x|%d|%v|%s", o.Addrs, o.MasterName, o.IsClusterMode,
		o.Username, pw[:8], o.DB, o.TLSConfig != nil, o.ReadTimeout)
	v, _, err := pool.LoadOrNew(key, func() (caddy.Destructor, error) {
		c := redis.NewUniversalClient(o)
		return pooledRedis{c, new(sync.Map), newRedisHealth(c)}, nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("mfa: redis: %w", err)
	}
	a.pooled = append(a.pooled, key)
	p := v.(pooledRedis)
	a.redisHealth = p.health
	return p.UniversalClient, p.passed, nil
}
