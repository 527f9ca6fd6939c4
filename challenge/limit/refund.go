package limit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// A refund gives back one event that Allow counted under a key, when the
// event turned out not to be what the limit is about: a right app password
// takes a token before it is checked, like any guess, and gets it back, so
// that only wrong ones use the limit up while no more checks run at once
// than the limit has tokens. It never gives back more than was taken: a
// key with no events counted stays as it is.

// Refund implements Limiter: the key's theoretical arrival time moves back
// by one emission interval; at or before now, the key is forgotten.
func (m *Memory) Refund(_ context.Context, key string, l Limit) error {
	if l.Rate <= 0 || l.Period <= 0 {
		return fmt.Errorf("invalid limit %s", l)
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	tat, ok := m.tat[key]
	if !ok {
		return nil
	}
	if tat = tat.Add(-l.Period / time.Duration(l.Rate)); tat.After(now) {
		m.tat[key] = tat
		m.record(key, tat)
	} else {
		delete(m.tat, key)
		m.record(key, time.Time{})
	}
	return nil
}

// refundScript moves a redis_rate key's theoretical arrival time (TAT)
// back by one emission interval (ARGV[1], in seconds), in one atomic step;
// at or before now the key is deleted (a full bucket), and a missing key is
// left alone. The TAT is kept as redis_rate keeps it: seconds since
// 2017-01-01 UTC, by the server's clock (TIME).
var refundScript = redis.NewScript(`
redis.replicate_commands()
local tat = redis.call("GET", KEYS[1])
if not tat then
  return 0
end
local now = redis.call("TIME")
now = (now[1] - 1483228800) + (now[2] / 1000000)
local new_tat = tonumber(tat) - tonumber(ARGV[1])
if new_tat <= now then
  redis.call("DEL", KEYS[1])
else
  redis.call("SET", KEYS[1], new_tat, "EX", math.ceil(new_tat - now))
end
return 1
`)

// redisRatePrefix is what redis_rate puts before every key it counts.
const redisRatePrefix = "rate:"

// Refund implements Limiter, on the key redis_rate counts the events in
// (TestRedisRefund checks that the two agree).
func (r *Redis) Refund(ctx context.Context, key string, l Limit) error {
	if l.Rate <= 0 || l.Period <= 0 {
		return fmt.Errorf("invalid limit %s", l)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	emission := (l.Period / time.Duration(l.Rate)).Seconds()
	if err := refundScript.Run(ctx, r.rdb, []string{redisRatePrefix + r.prefix + key}, emission).Err(); err != nil {
		return fmt.Errorf("%w: rate limit refund: %w", store.ErrUnavailable, err)
	}
	return nil
}
