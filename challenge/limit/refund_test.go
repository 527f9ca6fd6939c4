package limit

import (
	"context"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// testRefund: a refund gives an event back, but never more than were
// counted; on both limiters.
func testRefund(t *testing.T, lim Limiter) {
	ctx := context.Background()
	l := Limit{Rate: 3, Period: time.Hour} // no refill within the test
	for range 3 {
		if r, err := lim.Allow(ctx, "k", l); err != nil || !r.Allowed {
			t.Fatalf("Allow = %+v, %v", r, err)
		}
	}
	if r, _ := lim.Allow(ctx, "k", l); r.Allowed {
		t.Fatal("a fourth event in a burst of three")
	}
	// Two refunds: two more events, and no third.
	for range 2 {
		if err := lim.Refund(ctx, "k", l); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		if r, err := lim.Allow(ctx, "k", l); err != nil || !r.Allowed {
			t.Fatalf("event %d after two refunds: %+v, %v", i+1, r, err)
		}
	}
	if r, _ := lim.Allow(ctx, "k", l); r.Allowed {
		t.Fatal("three events after two refunds")
	}
	// Refunds of events never counted give nothing: a fresh key still
	// allows its burst and no more.
	for range 5 {
		if err := lim.Refund(ctx, "fresh", l); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for range 10 {
		if r, _ := lim.Allow(ctx, "fresh", l); r.Allowed {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d events allowed on a fresh key after refunds, want its burst of 3", n)
	}
	// One event and its refund leave the whole burst.
	if r, _ := lim.Allow(ctx, "one", l); !r.Allowed {
		t.Fatal("first event refused")
	}
	if err := lim.Refund(ctx, "one", l); err != nil {
		t.Fatal(err)
	}
	n = 0
	for range 10 {
		if r, _ := lim.Allow(ctx, "one", l); r.Allowed {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d events allowed after an event and its refund, want the burst of 3", n)
	}
	if err := lim.Refund(ctx, "k", Limit{}); err == nil {
		t.Fatal("a refund with an invalid limit")
	}
}

func TestMemoryRefund(t *testing.T) {
	m := NewMemory()
	c := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m.SetClock(c.Now)
	testRefund(t, m)
}

func TestRedisRefund(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	t.Cleanup(func() { redistest.DeletePrefix(context.Background(), rdb, "rate:"+prefix) })
	testRefund(t, NewRedis(rdb, prefix))
}
