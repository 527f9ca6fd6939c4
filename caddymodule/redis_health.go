package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisFresh is how long what a Redis call found (answered, or could not
// be reached) stands for the health of Redis, before a page that needs no
// other call asks again with a PING.
const redisFresh = time.Second

// redisHealth is what the latest Redis calls of one client found, so that
// a page that reads nothing from Redis (the sign-in page of a visitor
// without a session) can still answer the 503 page at once while Redis is
// down. Every command of the client reports to it through a go-redis hook
// (two atomic stores); it pings only when no call has told it anything for
// redisFresh, one PING at a time: a busy gateway never pings for it, an
// idle one at most once a second.
type redisHealth struct {
	rdb redis.UniversalClient
	// ok and failed are the UnixNano times of the latest answered call
	// and of the latest call that could not reach Redis.
	ok, failed atomic.Int64
	pinging    atomic.Bool
	now        func() time.Time
}

// newRedisHealth watches rdb's calls.
func newRedisHealth(rdb redis.UniversalClient) *redisHealth {
	h := &redisHealth{rdb: rdb, now: time.Now}
	rdb.AddHook(h)
	return h
}

// errRedisDown is the health's answer while the latest calls failed.
var errRedisDown = errors.New("redis could not be reached by the latest calls")

// Up reports nil if Redis answered lately (or answers a PING now), else
// why not.
func (h *redisHealth) Up(ctx context.Context) error {
	now := h.now().UnixNano()
	ok, failed := h.ok.Load(), h.failed.Load()
	latest := max(ok, failed)
	if now-latest < int64(redisFresh) || !h.pinging.CompareAndSwap(false, true) {
		// Fresh enough, or another request is asking: the latest word.
		if failed > ok {
			return errRedisDown
		}
		return nil
	}
	defer h.pinging.Store(false)
	// The PING reports through the hook, like every call. It does not end
	// with the request (a client that hangs up must not leave Redis's
	// health unknown and the next request pinging again), but within 2 s.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := h.rdb.Ping(pctx).Err(); err != nil {
		return fmt.Errorf("pinging redis: %w", err)
	}
	return nil
}

// note records what a call found: a reply of Redis (even an error reply
// or redis.Nil) means it is up; a network error or timeout that it is not.
func (h *redisHealth) note(err error) {
	if err == nil || err == redis.Nil { //nolint:errorlint // go-redis returns redis.Nil itself, unwrapped
		// The hot path (a key found, or Redis's answer that there is none):
		// nothing escapes, nothing is allocated.
		h.ok.Store(h.now().UnixNano())
		return
	}
	h.noteError(err)
}

// noteError is note for a call that failed: Redis's own answer (a reply
// error, redis.Nil) says it is up; anything else but a cancelled request
// says it could not be reached.
func (h *redisHealth) noteError(err error) {
	var rerr redis.Error
	var nerr net.Error
	switch {
	case errors.As(err, &rerr) && !errors.As(err, &nerr):
		h.ok.Store(h.now().UnixNano())
	case errors.Is(err, context.Canceled):
		// The request went away; says nothing of Redis.
	default:
		h.failed.Store(h.now().UnixNano())
	}
}

func (h *redisHealth) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			h.note(err)
		}
		return c, err
	}
}

// ProcessHook implements redis.Hook.
func (h *redisHealth) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.note(err)
		return err
	}
}

// ProcessPipelineHook implements redis.Hook.
func (h *redisHealth) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.note(err)
		return err
	}
}

// storeUp is the portal's check of the stores for pages that read nothing
// from them: Redis's health, or nil for the embedded stores (a file,
// which cannot be down while Caddy runs).
func (a *App) storeUp() func(context.Context) error {
	if a.redisHealth == nil {
		return nil
	}
	return a.redisHealth.Up
}
