// Package limit is rate limiting by GCRA (the generic cell rate algorithm):
// redis_rate v10 for many gateways, and an in-memory limiter of the same
// behaviour for one.
package limit

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// Limit allows Rate events per Period, with bursts of up to Burst.
type Limit struct {
	// Rate is the number of events per Period.
	Rate int
	// Period is the window of Rate.
	Period time.Duration
	// Burst is how many events may come at once; 0 means Rate.
	Burst int
}

func (l Limit) burst() int {
	if l.Burst > 0 {
		return l.Burst
	}
	return l.Rate
}

// String renders a limit as "5/2m0s".
func (l Limit) String() string { return fmt.Sprintf("%d/%s", l.Rate, l.Period) }

// Result is the outcome of one Allow.
type Result struct {
	// Allowed reports whether the event may happen.
	Allowed bool
	// Remaining is how many more events would be allowed right now.
	Remaining int
	// RetryAfter is how long until the next event is allowed, when not allowed.
	RetryAfter time.Duration
}

// Limiter counts events by key.
type Limiter interface {
	// Allow records one event under key if l allows it.
	Allow(ctx context.Context, key string, l Limit) (Result, error)
	// Reset forgets every event under key.
	Reset(ctx context.Context, key string) error
	// Refund gives back one event that Allow counted under key with l
	// (never more than were counted); see refund.go.
	Refund(ctx context.Context, key string, l Limit) error
}

// Memory is the embedded limiter.
type Memory struct {
	mu        sync.Mutex
	tat       map[string]time.Time // theoretical arrival time per key
	now       func() time.Time
	lastSweep time.Time
	// journal, if set, keeps the state in the accounts file (Persist).
	journal *store.Journal
}

// NewMemory returns an empty in-memory limiter.
func NewMemory() *Memory { return &Memory{tat: map[string]time.Time{}, now: time.Now} }

// SetClock replaces the clock, for tests.
func (m *Memory) SetClock(now func() time.Time) { m.now = now }

// Allow implements Limiter with the same arithmetic as redis_rate's script.
func (m *Memory) Allow(_ context.Context, key string, l Limit) (Result, error) {
	if l.Rate <= 0 || l.Period <= 0 {
		return Result{}, fmt.Errorf("invalid limit %s", l)
	}
	now := m.now()
	emission := l.Period / time.Duration(l.Rate)
	m.mu.Lock()
	defer m.mu.Unlock()
	tat, ok := m.tat[key]
	if !ok || tat.Before(now) {
		tat = now
	}
	newTAT := tat.Add(emission)
	allowAt := newTAT.Add(-emission * time.Duration(l.burst()))
	diff := now.Sub(allowAt)
	if diff < 0 {
		return Result{Allowed: false, RetryAfter: -diff}, nil
	}
	m.tat[key] = newTAT
	m.record(key, newTAT)
	if now.Sub(m.lastSweep) > time.Minute {
		m.lastSweep = now
		for k, t := range m.tat {
			if t.Before(now) {
				delete(m.tat, k)
			}
		}
	}
	return Result{Allowed: true, Remaining: int(math.Floor(float64(diff) / float64(emission)))}, nil
}

// Reset implements Limiter.
func (m *Memory) Reset(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tat[key]; ok {
		delete(m.tat, key)
		m.record(key, time.Time{})
	}
	return nil
}

// Redis is the limiter shared by many gateways, through redis_rate.
type Redis struct {
	l       *redis_rate.Limiter
	rdb     redis.UniversalClient // for Refund's script
	prefix  string
	timeout time.Duration
}

// NewRedis returns a limiter on rdb whose keys start with prefix (after
// redis_rate's own "rate:"). Each call is bounded by store.RedisTimeout(rdb).
func NewRedis(rdb redis.UniversalClient, prefix string) *Redis {
	return &Redis{l: redis_rate.NewLimiter(rdb), rdb: rdb, prefix: prefix, timeout: store.RedisTimeout(rdb)}
}

// Allow implements Limiter.
func (r *Redis) Allow(ctx context.Context, key string, l Limit) (Result, error) {
	if l.Rate <= 0 || l.Period <= 0 {
		return Result{}, fmt.Errorf("invalid limit %s", l)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	res, err := r.l.Allow(ctx, r.prefix+key, redis_rate.Limit{Rate: l.Rate, Burst: l.burst(), Period: l.Period})
	if err != nil {
		return Result{}, fmt.Errorf("%w: rate limit: %w", store.ErrUnavailable, err)
	}
	out := Result{Allowed: res.Allowed > 0, Remaining: res.Remaining}
	if !out.Allowed {
		out.RetryAfter = res.RetryAfter
	}
	return out, nil
}

// Reset implements Limiter.
func (r *Redis) Reset(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := r.l.Reset(ctx, r.prefix+key); err != nil {
		return fmt.Errorf("%w: rate limit reset: %w", store.ErrUnavailable, err)
	}
	return nil
}
