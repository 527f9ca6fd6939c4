package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisKV is the KV of many gateways sharing state: plain Redis keys with
// TTLs, all under one key prefix.
type RedisKV struct {
	rdb redis.UniversalClient
	// pipe serves Get, the read of every signed-in request: on a single
	// server (or a Sentinel master), go-redis's auto-pipeliner, which
	// batches the GETs of concurrent requests into one write and one read.
	// Under load that cuts redis-server's CPU per request by about 3.5x
	// (BENCHMARKS.md). It is the deferred face, waited on with the call's
	// deadline: the blocking face waits for its batch however long Redis
	// stalls (e2e TestHardeningRedisSlowFailsClosed). Nil on a Cluster
	// client, which uses plain commands.
	pipe    *redis.AutoPipeliner
	prefix  string
	timeout time.Duration
}

// maxQueuedGets bounds the GETs waiting in the auto-pipeliner: beyond it
// (a stalled Redis under load) a GET fails at once instead of queueing.
const maxQueuedGets = 10000

// NewRedisKV returns a KV on rdb whose keys all start with prefix. Each
// call is bounded by RedisTimeout(rdb).
func NewRedisKV(rdb redis.UniversalClient, prefix string) *RedisKV {
	kv := &RedisKV{rdb: rdb, prefix: prefix, timeout: RedisTimeout(rdb)}
	if c, ok := rdb.(*redis.Client); ok {
		// The pipeliner is cached on the client and closed with it.
		o := redis.DefaultAutoPipelineOptions()
		o.MaxQueuedCommands = maxQueuedGets
		if ap, err := c.AsyncAutoPipelineWithOptions(o); err == nil {
			kv.pipe = ap
		}
	}
	return kv
}

// Get implements KV.
func (s *RedisKV) Get(ctx context.Context, key string) ([]byte, error) {
	ctx, cancel := boundCtx(ctx, s.timeout)
	defer cancel()
	var v []byte
	var err error
	if s.pipe != nil {
		cmd := redis.NewStringCmd(ctx, "get", s.prefix+key)
		if err = s.pipe.Submit(ctx, cmd).WaitContext(ctx); err == nil {
			// Only read the command once it is done: an abandoned one
			// (deadline passed) is still in flight.
			v, err = cmd.Bytes()
		}
	} else {
		v, err = s.rdb.Get(ctx, s.prefix+key).Bytes()
	}
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("%w: redis GET: %w", ErrUnavailable, err)
	}
	return v, nil
}

// Set implements KV.
func (s *RedisKV) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ctx, cancel := boundCtx(ctx, s.timeout)
	defer cancel()
	if err := s.rdb.Set(ctx, s.prefix+key, value, ttl).Err(); err != nil {
		return fmt.Errorf("%w: redis SET: %w", ErrUnavailable, err)
	}
	return nil
}

// Delete implements KV.
func (s *RedisKV) Delete(ctx context.Context, key string) error {
	ctx, cancel := boundCtx(ctx, s.timeout)
	defer cancel()
	if err := s.rdb.Del(ctx, s.prefix+key).Err(); err != nil {
		return fmt.Errorf("%w: redis DEL: %w", ErrUnavailable, err)
	}
	return nil
}

// incrScript increments a counter and sets its expiry in one step, so a
// crash between the two cannot leave a counter that never expires.
var incrScript = redis.NewScript(`
local n = redis.call("INCR", KEYS[1])
redis.call("PEXPIRE", KEYS[1], ARGV[1])
return n`)

// Incr implements KV.
func (s *RedisKV) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	ctx, cancel := boundCtx(ctx, s.timeout)
	defer cancel()
	n, err := incrScript.Run(ctx, s.rdb, []string{s.prefix + key}, ttl.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("%w: redis INCR: %w", ErrUnavailable, err)
	}
	return n, nil
}

// Replace implements KV with SET XX.
func (s *RedisKV) Replace(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	ctx, cancel := boundCtx(ctx, s.timeout)
	defer cancel()
	ok, err := s.rdb.SetXX(ctx, s.prefix+key, value, ttl).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("%w: redis SET XX: %w", ErrUnavailable, err)
	}
	return ok, nil
}

// Take implements KV with GETDEL (Redis 6.2 and later).
func (s *RedisKV) Take(ctx context.Context, key string) ([]byte, error) {
	ctx, cancel := boundCtx(ctx, s.timeout)
	defer cancel()
	v, err := s.rdb.GetDel(ctx, s.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("%w: redis GETDEL: %w", ErrUnavailable, err)
	}
	return v, nil
}

// deleteIfScript deletes a key only if it holds the given value.
var deleteIfScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// DeleteIf implements KV.
func (s *RedisKV) DeleteIf(ctx context.Context, key string, value []byte) (bool, error) {
	ctx, cancel := boundCtx(ctx, s.timeout)
	defer cancel()
	n, err := deleteIfScript.Run(ctx, s.rdb, []string{s.prefix + key}, value).Int64()
	if err != nil {
		return false, fmt.Errorf("%w: redis compare and delete: %w", ErrUnavailable, err)
	}
	return n == 1, nil
}

// Create implements KV with SET NX.
func (s *RedisKV) Create(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	ctx, cancel := boundCtx(ctx, s.timeout)
	defer cancel()
	ok, err := s.rdb.SetNX(ctx, s.prefix+key, value, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("%w: redis SET NX: %w", ErrUnavailable, err)
	}
	return ok, nil
}

// SetAdd implements KV.
func (s *RedisKV) SetAdd(ctx context.Context, key, member string, ttl time.Duration) error {
	ctx, cancel := boundCtx(ctx, s.timeout)
	defer cancel()
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, s.prefix+key, member)
		p.PExpire(ctx, s.prefix+key, ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: redis SADD: %w", ErrUnavailable, err)
	}
	return nil
}

// SetMembers implements KV.
func (s *RedisKV) SetMembers(ctx context.Context, key string) ([]string, error) {
	ctx, cancel := boundCtx(ctx, s.timeout)
	defer cancel()
	m, err := s.rdb.SMembers(ctx, s.prefix+key).Result()
	if err != nil {
		return nil, fmt.Errorf("%w: redis SMEMBERS: %w", ErrUnavailable, err)
	}
	return m, nil
}

// SetRemove implements KV.
func (s *RedisKV) SetRemove(ctx context.Context, key, member string) error {
	ctx, cancel := boundCtx(ctx, s.timeout)
	defer cancel()
	if err := s.rdb.SRem(ctx, s.prefix+key, member).Err(); err != nil {
		return fmt.Errorf("%w: redis SREM: %w", ErrUnavailable, err)
	}
	return nil
}

// RedisAccounts keeps accounts in Redis, one key per user holding the same
// JSON record as the embedded store. Operators should run Redis with
// persistence (AOF or RDB): accounts are not short-lived state.
type RedisAccounts struct {
	rdb     redis.UniversalClient
	prefix  string
	now     func() time.Time
	timeout time.Duration
}

// NewRedisAccounts returns an account store on rdb under prefix. Each call
// (an Update with all its optimistic retries, too) is bounded by
// RedisTimeout(rdb).
func NewRedisAccounts(rdb redis.UniversalClient, prefix string) *RedisAccounts {
	return &RedisAccounts{rdb: rdb, prefix: prefix, now: time.Now, timeout: RedisTimeout(rdb)}
}

func (s *RedisAccounts) key(user string) string { return s.prefix + "account:" + user }

// Get implements Accounts.
func (s *RedisAccounts) Get(ctx context.Context, user string) (*Account, error) {
	ctx, cancel := boundCtx(ctx, s.timeout)
	defer cancel()
	v, err := s.rdb.Get(ctx, s.key(user)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading account %q: %w", ErrUnavailable, user, err)
	}
	return decodeAccount(user, v)
}

// maxTxRetries bounds optimistic-lock retries of one Update.
const maxTxRetries = 20

// Update implements Accounts with optimistic locking (WATCH/MULTI/EXEC):
// if another gateway changes the account meanwhile, fn runs again on the
// new record, so two concurrent updates never lose one another.
func (s *RedisAccounts) Update(ctx context.Context, user string, fn func(*Account) error) error {
	ctx, cancel := boundCtx(ctx, s.timeout)
	defer cancel()
	key := s.key(user)
	var fnErr error
	txf := func(tx *redis.Tx) error {
		fnErr = nil
		cur, err := tx.Get(ctx, key).Bytes()
		if errors.Is(err, redis.Nil) {
			cur = nil
		} else if err != nil {
			return err
		}
		v, err := applyUpdate(user, cur, s.now(), fn)
		if err != nil {
			fnErr = err
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, v, 0)
			return nil
		})
		return err
	}
	for range maxTxRetries {
		err := s.rdb.Watch(ctx, txf, key)
		if fnErr != nil {
			return fnErr
		}
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%w: updating account %q: %w", ErrUnavailable, user, err)
		}
		return nil
	}
	return fmt.Errorf("%w: updating account %q: too much contention", ErrUnavailable, user)
}

// Delete implements Accounts.
func (s *RedisAccounts) Delete(ctx context.Context, user string) error {
	ctx, cancel := boundCtx(ctx, s.timeout)
	defer cancel()
	if err := s.rdb.Del(ctx, s.key(user)).Err(); err != nil {
		return fmt.Errorf("%w: deleting account %q: %w", ErrUnavailable, user, err)
	}
	return nil
}
