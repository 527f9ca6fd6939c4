package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// TrackingClientName is the name (CLIENT SETNAME) of the tracking
// connection, so operators can find it in CLIENT LIST.
const TrackingClientName = "caddy-mfa-tracking"

// invalidateChannel is where Redis sends a RESP2 client the keys that
// changed, when its tracking redirects to it.
const invalidateChannel = "__redis__:invalidate"

// TrackingEvents tell the gateway what becomes of the tracking connection,
// for its log. Any may be nil.
type TrackingEvents struct {
	// Up: tracking is on; the cache serves.
	Up func()
	// Lost: the connection was lost; the cache is flushed and serves
	// nothing until it is back.
	Lost func(err error)
	// Refused: Redis refused tracking (an ACL, an old Redis); the cache
	// stays off until the next start.
	Refused func(err error)
}

// TrackingOptions returns o for the tracking client: one connection,
// RESP2 (so invalidations arrive as Pub/Sub messages), named
// TrackingClientName, turning tracking on at each connect (OnConnect runs
// for Pub/Sub connections as well). o is copied.
func (c *CachedKV) TrackingOptions(o *redis.Options) *redis.Options {
	t := *o
	c.trackingOpts(&t.Protocol, &t.PoolSize, &t.ClientName, &t.OnConnect)
	return &t
}

// TrackingFailoverOptions is TrackingOptions for a Sentinel client: it
// dials the master Sentinel names at each connect; Sentinel kills the
// Pub/Sub connections of a master it demotes, so a failover is a loss.
func (c *CachedKV) TrackingFailoverOptions(o *redis.FailoverOptions) *redis.FailoverOptions {
	t := *o
	c.trackingOpts(&t.Protocol, &t.PoolSize, &t.ClientName, &t.OnConnect)
	return &t
}

func (c *CachedKV) trackingOpts(proto, pool *int, name *string, onConnect *func(context.Context, *redis.Conn) error) {
	*proto, *pool, *name = 2, 1, TrackingClientName
	prev := *onConnect
	*onConnect = func(ctx context.Context, cn *redis.Conn) error {
		if prev != nil {
			if err := prev(ctx, cn); err != nil {
				return err
			}
		}
		return c.onConnect(ctx, cn)
	}
}

// onConnect turns on tracking of every session key, broadcast (BCAST: no
// need to have read a key) and redirected to this same connection, where
// the invalidations arrive on invalidateChannel once it subscribes.
func (c *CachedKV) onConnect(ctx context.Context, cn *redis.Conn) error {
	id, err := cn.ClientID(ctx).Result()
	if err != nil {
		return fmt.Errorf("CLIENT ID: %w", err)
	}
	err = cn.Do(ctx, "CLIENT", "TRACKING", "on", "REDIRECT", id, "BCAST", "PREFIX", c.kv.prefix+CachedPrefix).Err()
	if err != nil {
		return fmt.Errorf("CLIENT TRACKING: %w", err)
	}
	return nil
}

// Track keeps the cache in step with Redis through rdb, a client made
// with TrackingOptions (or TrackingFailoverOptions), until ctx ends; the
// cache serves only meanwhile. It returns at once; the returned wait
// waits until tracking has stopped (after ctx ends). rdb is the caller's
// to close, after that.
func (c *CachedKV) Track(ctx context.Context, rdb *redis.Client, ev TrackingEvents) (wait func()) {
	var wg sync.WaitGroup
	wg.Go(func() { c.track(ctx, rdb, ev) })
	return wg.Wait
}

// Reconnect backoff of the tracking connection.
const (
	trackingBackoffMin = 50 * time.Millisecond
	trackingBackoffMax = time.Second
)

// trackingIdle ends a tracking connection on which nothing at all (not
// even a PONG) came for this long: it is taken for dead.
const trackingIdle = time.Second

func (c *CachedKV) track(ctx context.Context, rdb *redis.Client, ev TrackingEvents) {
	backoff := trackingBackoffMin
	for ctx.Err() == nil {
		up, err := c.trackOnce(ctx, rdb, ev)
		c.lose()
		if ctx.Err() != nil {
			return
		}
		if refused(err) {
			if ev.Refused != nil {
				ev.Refused(err)
			}
			return
		}
		if ev.Lost != nil {
			ev.Lost(err)
		}
		if up {
			backoff = trackingBackoffMin
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, trackingBackoffMax)
	}
}

// lose stops serving from memory, then flushes (in that order: see Get),
// and forgets the PONGs of the connection lost: only one answered on the
// next connection counts.
func (c *CachedKV) lose() {
	c.tracking.Store(false)
	c.ackedAt.Store(noPong)
	c.flush()
}

// refused reports whether err is Redis refusing tracking for good: a
// missing permission (NOPERM) or command or option (ERR unknown ...,
// ERR syntax error on a server without it), not a server that is not
// ready or full yet (LOADING, MASTERDOWN, ERR max number of clients
// reached ...), which is tried again.
func refused(err error) bool {
	var reply redis.Error
	if !errors.As(err, &reply) {
		return false
	}
	msg := reply.Error()
	return strings.HasPrefix(msg, "NOPERM") || strings.HasPrefix(msg, "ERR unknown") || strings.HasPrefix(msg, "ERR syntax")
}

// pings remembers when the PINGs were sent, by sequence number.
type pings struct {
	mu   sync.Mutex
	next uint64
	sent [64]struct {
		seq uint64
		at  int64
	}
}

func (p *pings) add(at int64) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	p.sent[p.next%64].seq, p.sent[p.next%64].at = p.next, at
	return p.next
}

func (p *pings) sentAt(seq uint64) (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sent[seq%64]
	return s.at, s.seq == seq
}

// trackOnce runs one tracking connection until it fails, and reports
// whether it was up (subscribed) at some point. Each connection gets a
// PubSub of its own, closed on the first error: go-redis would reconnect
// it by itself, and this way every loss is seen, and flushed, here.
func (c *CachedKV) trackOnce(ctx context.Context, rdb *redis.Client, ev TrackingEvents) (bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ps := rdb.Subscribe(ctx, invalidateChannel)
	defer ps.Close()
	// Closing it is what ends a read under way when ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	p := new(pings)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	up := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, trackingIdle)
		if c.beforeMessage != nil {
			c.beforeMessage()
		}
		if err != nil {
			return up, fmt.Errorf("tracking connection: %w", err)
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if up {
				// go-redis reconnected the PubSub under the reader (a PING
				// whose write failed reconnects it): changes made between
				// the two connections were never sent, so this is a loss.
				return up, errors.New("tracking connection: replaced by go-redis under the reader")
			}
			if m.Kind == "subscribe" && m.Channel == invalidateChannel {
				up = true
				// Pings start now, on the subscribed connection: their
				// PONGs follow every invalidation Redis queued before.
				wg.Go(func() { c.ping(ctx, ps, p) })
				c.tracking.Store(true)
				if ev.Up != nil {
					ev.Up()
				}
			}
		case *redis.Message:
			c.invalidate(m)
		case *redis.Pong:
			seq, err := strconv.ParseUint(m.Payload, 10, 64)
			if err != nil {
				continue
			}
			if at, ok := p.sentAt(seq); ok && at > c.ackedAt.Load() {
				c.ackedAt.Store(at)
			}
		case error:
			return up, fmt.Errorf("tracking connection: %w", m)
		}
	}
}

// invalidate drops what an invalidation names; one naming nothing (a
// FLUSHDB, or tracking's table overflowing) drops everything.
func (c *CachedKV) invalidate(m *redis.Message) {
	keys := m.PayloadSlice
	if m.Payload != "" {
		keys = append(keys, m.Payload)
	}
	if len(keys) == 0 {
		c.flush()
		return
	}
	for _, k := range keys {
		if key, ok := strings.CutPrefix(k, c.kv.prefix); ok {
			c.drop(key)
		}
	}
}

// ping sends a PING every PingEvery until ctx ends, each carrying its
// sequence number, so that its PONG proves the connection up to date as
// of its send time.
func (c *CachedKV) ping(ctx context.Context, ps *redis.PubSub, p *pings) {
	t := time.NewTicker(c.every)
	defer t.Stop()
	for {
		seq := p.add(c.clock())
		// A failed PING is the reader's to notice (its connection fails,
		// or nothing comes within trackingIdle).
		_ = ps.Ping(ctx, strconv.FormatUint(seq, 10))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
