package limit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// testLimiter runs the behaviours both limiters must share. wait lets time
// pass: a fake clock for Memory, real time for Redis (whose clock is the
// server's).
func testLimiter(t *testing.T, newLimiter func(t *testing.T) (Limiter, func(time.Duration))) {
	ctx := context.Background()
	l := Limit{Rate: 5, Period: time.Second} // one every 200ms, bursts of 5

	t.Run("a burst of Rate, then denied with a retry time", func(t *testing.T) {
		lim, _ := newLimiter(t)
		for i := range 5 {
			r, err := lim.Allow(ctx, "k", l)
			if err != nil || !r.Allowed {
				t.Fatalf("event %d: %+v, %v", i+1, r, err)
			}
			if r.Remaining != 4-i {
				t.Fatalf("event %d: remaining %d, want %d", i+1, r.Remaining, 4-i)
			}
		}
		r, err := lim.Allow(ctx, "k", l)
		if err != nil || r.Allowed {
			t.Fatalf("6th event in a burst of 5: %+v, %v", r, err)
		}
		if r.RetryAfter <= 0 || r.RetryAfter > 200*time.Millisecond {
			t.Fatalf("retry after %v, want (0, 200ms]", r.RetryAfter)
		}
	})

	t.Run("refills at the rate", func(t *testing.T) {
		lim, wait := newLimiter(t)
		for range 5 {
			lim.Allow(ctx, "k", l)
		}
		wait(250 * time.Millisecond)
		if r, _ := lim.Allow(ctx, "k", l); !r.Allowed {
			t.Fatalf("after one emission interval: %+v", r)
		}
		if r, _ := lim.Allow(ctx, "k", l); r.Allowed {
			t.Fatalf("two events after one interval: %+v", r)
		}
	})

	t.Run("denied events do not count", func(t *testing.T) {
		lim, wait := newLimiter(t)
		for range 20 {
			lim.Allow(ctx, "k", l)
		}
		wait(250 * time.Millisecond)
		if r, _ := lim.Allow(ctx, "k", l); !r.Allowed {
			t.Fatalf("hammering while limited pushed the limit out: %+v", r)
		}
	})

	t.Run("keys are independent and reset forgets", func(t *testing.T) {
		lim, _ := newLimiter(t)
		for range 5 {
			lim.Allow(ctx, "a", l)
		}
		if r, _ := lim.Allow(ctx, "b", l); !r.Allowed {
			t.Fatal("key b limited by key a")
		}
		if err := lim.Reset(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if r, _ := lim.Allow(ctx, "a", l); !r.Allowed || r.Remaining != 4 {
			t.Fatalf("after reset: %+v", r)
		}
	})

	t.Run("concurrent events are all counted", func(t *testing.T) {
		lim, _ := newLimiter(t)
		big := Limit{Rate: 50, Period: time.Hour}
		var allowed atomic.Int32
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				for range 10 {
					if r, err := lim.Allow(ctx, "c", big); err == nil && r.Allowed {
						allowed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if allowed.Load() != 50 {
			t.Fatalf("%d of 100 concurrent events allowed, want exactly 50", allowed.Load())
		}
	})

	t.Run("an invalid limit is an error", func(t *testing.T) {
		lim, _ := newLimiter(t)
		if _, err := lim.Allow(ctx, "k", Limit{}); err == nil {
			t.Fatal("zero limit accepted")
		}
	})
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestMemory(t *testing.T) {
	testLimiter(t, func(t *testing.T) (Limiter, func(time.Duration)) {
		m := NewMemory()
		c := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		m.SetClock(c.Now)
		return m, c.Advance
	})
}

func TestRedis(t *testing.T) {
	testLimiter(t, func(t *testing.T) (Limiter, func(time.Duration)) {
		rdb, prefix := redistest.Client(t)
		t.Cleanup(func() { redistest.DeletePrefix(context.Background(), rdb, "rate:"+prefix) })
		return NewRedis(rdb, prefix), time.Sleep
	})
}
