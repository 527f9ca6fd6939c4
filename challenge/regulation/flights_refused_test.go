package regulation

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// slowLimiter is a limiter with a Redis-like round trip, counting the
// per-user Allow calls.
type slowLimiter struct {
	limit.Limiter
	userAllows atomic.Int64
	rtt        time.Duration
}

func (s *slowLimiter) Allow(ctx context.Context, key string, l limit.Limit) (limit.Result, error) {
	if strings.HasPrefix(key, prefixAppPasswordUser) || strings.HasPrefix(key, prefixAppPasswordOwn) {
		s.userAllows.Add(1)
	}
	time.Sleep(s.rtt)
	return s.Limiter.Allow(ctx, key, l)
}

// With the per-user limit used up by wrong guesses and NO check in flight,
// concurrent refused attempts each ask the limiter once and are refused
// at once: they do not wake each other into asking again (flights.go).
func TestRefusedAppPasswordsAskTheLimiterOnce(t *testing.T) {
	for _, k := range []int{2, 8, 32, 128} {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			lim := &slowLimiter{Limiter: limit.NewMemory(), rtt: 300 * time.Microsecond}
			l := DefaultLimits()
			l.AppPasswordPerIP = limit.Limit{Rate: 1000, Period: time.Minute}
			l.AppPasswordPerUser = limit.Limit{Rate: 1, Period: time.Hour}
			r := New(l, lim, store.NewMemoryKV(), time.Now)
			ctx := context.Background()
			// Use the user's limit up with one wrong guess.
			v, a, err := r.BeforeAppPassword(ctx, "alice", "198.51.100.1")
			if err != nil || !v.Allowed {
				t.Fatal(v, err)
			}
			r.AppPasswordDone(a)
			lim.userAllows.Store(0)
			var wg sync.WaitGroup
			start := make(chan struct{})
			t0 := time.Now()
			var maxDur atomic.Int64
			for i := range k {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					s := time.Now()
					v, _, err := r.BeforeAppPassword(ctx, "alice", fmt.Sprintf("192.0.2.%d", i))
					if err != nil || v.Allowed {
						t.Error("allowed?", v, err)
					}
					if d := int64(time.Since(s)); d > maxDur.Load() {
						maxDur.Store(d)
					}
				}()
			}
			close(start)
			wg.Wait()
			n := lim.userAllows.Load()
			t.Logf("k=%d refused attempts: %d per-user Allow calls (%.1f each), longest %v, total %v", k, n, float64(n)/float64(k), time.Duration(maxDur.Load()), time.Since(t0))
			if n > int64(k) {
				t.Errorf("%d limiter calls for %d refused attempts, want %d", n, k, k)
			}
		})
	}
}
