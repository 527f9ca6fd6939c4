package regulation

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// before is BeforePassword without the attempt.
func before(r *Regulation, user string, src PasswordSource) (Verdict, error) {
	v, _, err := r.BeforePassword(context.Background(), user, src)
	return v, err
}

// clock is a clock the test sets.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Set(at time.Time)        { c.ns.Store(at.UnixNano()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// newStores opens a fresh limiter and KV whose clock (where they keep
// one) is now.
type newStores func(t *testing.T, now func() time.Time) (limit.Limiter, store.KV)

// regulationOn makes a Regulation on the system clock, on stores from
// newStores, with the default limits changed by mod (if not nil).
func regulationOn(t *testing.T, open newStores, mod func(*Limits)) *Regulation {
	l := DefaultLimits()
	if mod != nil {
		mod(&l)
	}
	lim, kv := open(t, time.Now)
	return New(l, lim, kv, time.Now)
}

// testRegulation runs the lockout rules against one pair of stores.
func testRegulation(t *testing.T, newStores newStores) {
	ctx := context.Background()
	newReg := func(t *testing.T, mod func(*Limits)) *Regulation { return regulationOn(t, newStores, mod) }
	mustAllow := func(t *testing.T) func(Verdict, error) {
		return func(v Verdict, err error) {
			t.Helper()
			if err != nil || !v.Allowed {
				t.Fatalf("verdict %+v, %v; want allowed", v, err)
			}
		}
	}

	t.Run("rate limit per address", func(t *testing.T) {
		r := newReg(t, func(l *Limits) { l.LoginPerIP = limit.Limit{Rate: 3, Period: time.Minute} })
		from := PasswordSource{Addr: "192.0.2.7"}
		for range 3 {
			mustAllow(t)(before(r, "u1", from))
		}
		v, _ := before(r, "u2", from)
		if v.Allowed || v.Reason != "ip" || v.RetryAfter <= 0 {
			t.Fatalf("4th attempt from one address: %+v", v)
		}
	})

	t.Run("ten second-factor failures in a row lock, however slow", func(t *testing.T) {
		// With the find-time rule out of the way, only the run counts.
		r := newReg(t, func(l *Limits) { l.MaxFailures = 1000 })
		for i := 1; i <= 10; i++ {
			locked, err := r.CodeFailed(ctx, "alice")
			if err != nil || locked != (i == 10) {
				t.Fatalf("code failure %d: locked=%v err=%v", i, locked, err)
			}
		}
		if locked, d, _ := r.Locked(ctx, "alice"); !locked || d > 5*time.Minute {
			t.Fatalf("locked=%v for %v, want a 5m lock", locked, d)
		}
		if _, err := r.Unlock(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		// A success in between starts the run again.
		for range 9 {
			r.CodeFailed(ctx, "bob")
		}
		if err := r.CodeOK(ctx, "bob"); err != nil {
			t.Fatal(err)
		}
		if locked, _ := r.CodeFailed(ctx, "bob"); locked {
			t.Fatal("the run was not reset by a success")
		}
	})

	t.Run("a right password does not end a run of wrong codes", func(t *testing.T) {
		// An attacker with the password re-enters it between code guesses.
		r := newReg(t, nil)
		for i := 1; i <= 10; i++ {
			_, a, _ := r.BeforePassword(ctx, "alice", PasswordSource{Addr: "192.0.2.1"})
			if err := r.PasswordOK(ctx, a); err != nil {
				t.Fatal(err)
			}
			locked, err := r.CodeFailed(ctx, "alice")
			if err != nil || locked != (i == 10) {
				t.Fatalf("code failure %d after a right password: locked=%v err=%v", i, locked, err)
			}
		}
	})

	t.Run("repeated runs lock for longer", func(t *testing.T) {
		r := newReg(t, func(l *Limits) { l.MaxFailures = 1000 })
		for range 10 {
			r.CodeFailed(ctx, "alice")
		}
		// The ban runs out (here: lifted without forgetting the run).
		if r.kv.Delete(ctx, "lock:alice") != nil {
			t.Fatal("delete lock")
		}
		for range 10 {
			r.CodeFailed(ctx, "alice")
		}
		if locked, d, _ := r.Locked(ctx, "alice"); !locked || d < 9*time.Minute {
			t.Fatalf("second run: locked=%v for %v, want about 10m", locked, d)
		}
	})
	t.Run("a lockout never replaces a fraud block", func(t *testing.T) {
		r := newReg(t, nil)
		if err := r.Block(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		// Wrong codes and passwords already in flight when the block came.
		for range 10 {
			if _, err := r.CodeFailed(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
		}
		for range 5 {
			_, a, _ := r.BeforePassword(ctx, "alice", PasswordSource{Addr: "192.0.2.1"})
			if _, err := r.PasswordFailed(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		v, err := r.AccountVerdict(ctx, "alice")
		if err != nil || v.Allowed || v.Reason != "blocked" {
			t.Fatalf("after lockouts on a blocked user: %+v, %v; want still blocked", v, err)
		}
		if was, err := r.Unlock(ctx, "alice"); err != nil || !was {
			t.Fatalf("Unlock = %v, %v", was, err)
		}
		if v, err := r.BeforeCode(ctx, "alice"); err != nil || !v.Allowed {
			t.Fatalf("after Unlock: %+v, %v; want allowed", v, err)
		}
	})
}

// memoryRegulationStores are the limiter and KV of one gateway's
// embedded stores, on the clock now, for the regulation tests.
func memoryRegulationStores(_ *testing.T, now func() time.Time) (limit.Limiter, store.KV) {
	lim, kv := limit.NewMemory(), store.NewMemoryKV()
	lim.SetClock(now)
	kv.SetClock(now)
	return lim, kv
}

// redisRegulationStores are a limiter and KV on the shared test Redis,
// under a key prefix of the test's own, removed when it ends. Redis keeps
// its own time: now is not used.
func redisRegulationStores(t *testing.T, _ func() time.Time) (limit.Limiter, store.KV) {
	rdb, prefix := redistest.Client(t)
	t.Cleanup(func() { redistest.DeletePrefix(context.Background(), rdb, "rate:"+prefix) })
	return limit.NewRedis(rdb, prefix), store.NewRedisKV(rdb, prefix)
}

func TestRegulationMemory(t *testing.T) { testRegulation(t, memoryRegulationStores) }

func TestRegulationRedis(t *testing.T) { testRegulation(t, redisRegulationStores) }

func TestLimitsValidate(t *testing.T) {
	if err := DefaultLimits().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := DefaultLimits()
	bad.MaxCodeFailures = 101
	if err := bad.Validate(); err == nil {
		t.Fatal("more than 100 code failures accepted")
	}
	bad = DefaultLimits()
	bad.LoginPerIP.Rate = 0
	if err := bad.Validate(); err == nil {
		t.Fatal("zero rate accepted")
	}
}
