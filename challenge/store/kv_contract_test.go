package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testKV runs the behaviours every KV implementation must have. newKV must
// return a new, empty KV and a function that moves that KV's clock forward
// (for MemoryKV a fake clock through SetClock; for Redis, say, miniredis's
// FastForward). It is called once per subtest.
func testKV(t *testing.T, newKV func(t *testing.T) (KV, func(time.Duration))) {
	t.Helper()
	ctx := context.Background()

	t.Run("missing key is ErrNotFound", func(t *testing.T) {
		kv, _ := newKV(t)
		if v, err := kv.Get(ctx, "session:nope"); !errors.Is(err, ErrNotFound) || v != nil {
			t.Fatalf("Get of a missing key = %q, %v; want nil, ErrNotFound", v, err)
		}
	})

	t.Run("set then get", func(t *testing.T) {
		kv, _ := newKV(t)
		mustSet(t, kv, "k", "v1", time.Minute)
		mustGetKV(t, kv, "k", "v1")
		mustSet(t, kv, "k", "v2", time.Minute)
		mustGetKV(t, kv, "k", "v2")
		if _, err := kv.Get(ctx, "K"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("keys are not exact: Get(K) err = %v", err)
		}
	})

	t.Run("binary values are kept intact", func(t *testing.T) {
		kv, _ := newKV(t)
		val := []byte{0, 0xff, '\n', 0x80, 0}
		if err := kv.Set(ctx, "bin", val, time.Minute); err != nil {
			t.Fatal(err)
		}
		mustGetKV(t, kv, "bin", string(val))
	})

	t.Run("set keeps a copy of the value", func(t *testing.T) {
		kv, _ := newKV(t)
		buf := []byte("original")
		if err := kv.Set(ctx, "k", buf, time.Minute); err != nil {
			t.Fatal(err)
		}
		copy(buf, "CHANGED!")
		mustGetKV(t, kv, "k", "original")
	})

	t.Run("entries expire after their ttl", func(t *testing.T) {
		kv, advance := newKV(t)
		mustSet(t, kv, "short", "s", 10*time.Second)
		mustSet(t, kv, "long", "l", time.Hour)
		advance(9 * time.Second)
		mustGetKV(t, kv, "short", "s")
		advance(2 * time.Second)
		if _, err := kv.Get(ctx, "short"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("entry 11s after a 10s ttl: err = %v, want ErrNotFound", err)
		}
		mustGetKV(t, kv, "long", "l")
	})

	t.Run("set renews the ttl", func(t *testing.T) {
		kv, advance := newKV(t)
		mustSet(t, kv, "k", "v", 10*time.Second)
		advance(8 * time.Second)
		mustSet(t, kv, "k", "v", 10*time.Second)
		advance(8 * time.Second)
		mustGetKV(t, kv, "k", "v")
		advance(3 * time.Second)
		if _, err := kv.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("entry past its renewed ttl: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("delete", func(t *testing.T) {
		kv, _ := newKV(t)
		mustSet(t, kv, "a", "1", time.Minute)
		mustSet(t, kv, "b", "2", time.Minute)
		if err := kv.Delete(ctx, "a"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := kv.Get(ctx, "a"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
		}
		mustGetKV(t, kv, "b", "2")
		if err := kv.Delete(ctx, "a"); err != nil {
			t.Fatalf("Delete of a missing key: %v", err)
		}
	})

	t.Run("safe for concurrent use", func(t *testing.T) {
		kv, _ := newKV(t)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				for j := range 50 {
					// Its own key: what it wrote is what it reads.
					own := fmt.Sprintf("own%d-%d", i, j%5)
					v := fmt.Sprintf("%d-%d", i, j)
					if err := kv.Set(ctx, own, []byte(v), time.Minute); err != nil {
						t.Error(err)
						return
					}
					if got, err := kv.Get(ctx, own); err != nil || string(got) != v {
						t.Errorf("Get of a key just set = %q, %v; want %q", got, err, v)
						return
					}
					// A shared key others write and delete: present or not,
					// never an error or a torn value.
					if err := kv.Set(ctx, "shared", []byte(v), time.Minute); err != nil {
						t.Error(err)
						return
					}
					got, err := kv.Get(ctx, "shared")
					if err != nil && !errors.Is(err, ErrNotFound) {
						t.Errorf("Get of a shared key: %v", err)
						return
					}
					if err == nil && !strings.Contains(string(got), "-") {
						t.Errorf("shared key holds %q", got)
						return
					}
					if j%10 == 0 {
						if err := kv.Delete(ctx, "shared"); err != nil {
							t.Error(err)
							return
						}
					}
				}
			})
		}
		wg.Wait()
	})

	t.Run("counters count and live while increments come", func(t *testing.T) {
		kv, advance := newKV(t)
		for want := int64(1); want <= 4; want++ {
			n, err := kv.Incr(ctx, "c", 10*time.Second)
			if err != nil || n != want {
				t.Fatalf("Incr = %d, %v; want %d", n, err, want)
			}
			// 8s apart: each increment renews the 10s expiry.
			advance(8 * time.Second)
		}
		advance(3 * time.Second) // 11s after the last increment
		if n, err := kv.Incr(ctx, "c", 10*time.Second); err != nil || n != 1 {
			t.Fatalf("Incr after the counter expired = %d, %v; want a new counter at 1", n, err)
		}
	})

	t.Run("replace only refreshes a key that still exists", func(t *testing.T) {
		kv, advance := newKV(t)
		if ok, err := kv.Replace(ctx, "k", []byte("v"), time.Minute); err != nil || ok {
			t.Fatalf("Replace of a missing key = %v, %v; want false", ok, err)
		}
		if _, err := kv.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
			t.Fatal("Replace created a missing key")
		}
		mustSet(t, kv, "k", "v1", 10*time.Second)
		advance(8 * time.Second)
		if ok, err := kv.Replace(ctx, "k", []byte("v2"), 10*time.Second); err != nil || !ok {
			t.Fatalf("Replace of a live key = %v, %v", ok, err)
		}
		advance(8 * time.Second)
		mustGetKV(t, kv, "k", "v2")
		if err := kv.Delete(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := kv.Replace(ctx, "k", []byte("v3"), time.Minute); ok {
			t.Fatal("Replace brought back a deleted key")
		}
	})

	t.Run("take hands a value to exactly one of many racing callers", func(t *testing.T) {
		kv, advance := newKV(t)
		if _, err := kv.Take(ctx, "k"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Take of a missing key = %v; want ErrNotFound", err)
		}
		mustSet(t, kv, "k", "once", time.Minute)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var got []string
		for range 8 {
			wg.Go(func() {
				v, err := kv.Take(ctx, "k")
				if errors.Is(err, ErrNotFound) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got = append(got, string(v))
				mu.Unlock()
			})
		}
		wg.Wait()
		if len(got) != 1 || got[0] != "once" {
			t.Fatalf("racing Takes got %q; want exactly one \"once\"", got)
		}
		if _, err := kv.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
			t.Fatal("a taken key is still there")
		}
		mustSet(t, kv, "e", "v", 10*time.Second)
		advance(11 * time.Second)
		if _, err := kv.Take(ctx, "e"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Take of an expired key = %v; want ErrNotFound", err)
		}
	})

	t.Run("delete-if removes a key only while it holds the value", func(t *testing.T) {
		kv, advance := newKV(t)
		if ok, err := kv.DeleteIf(ctx, "d", []byte("v1")); err != nil || ok {
			t.Fatalf("DeleteIf of a missing key = %v, %v; want false", ok, err)
		}
		mustSet(t, kv, "d", "v2", 10*time.Second) // replaced meanwhile
		if ok, err := kv.DeleteIf(ctx, "d", []byte("v1")); err != nil || ok {
			t.Fatalf("DeleteIf of another value = %v, %v; want false", ok, err)
		}
		mustGetKV(t, kv, "d", "v2")
		if ok, err := kv.DeleteIf(ctx, "d", []byte("v2")); err != nil || !ok {
			t.Fatalf("DeleteIf of the value held = %v, %v; want true", ok, err)
		}
		if _, err := kv.Get(ctx, "d"); !errors.Is(err, ErrNotFound) {
			t.Fatal("DeleteIf left the key")
		}
		mustSet(t, kv, "e", "v", 10*time.Second)
		advance(11 * time.Second)
		if ok, err := kv.DeleteIf(ctx, "e", []byte("v")); err != nil || ok {
			t.Fatalf("DeleteIf of an expired key = %v, %v; want false", ok, err)
		}
	})

	t.Run("create sets a key only once until it expires", func(t *testing.T) {
		kv, advance := newKV(t)
		if ok, err := kv.Create(ctx, "g", []byte("first"), 10*time.Second); err != nil || !ok {
			t.Fatalf("first Create = %v, %v; want true", ok, err)
		}
		if ok, err := kv.Create(ctx, "g", []byte("second"), 10*time.Second); err != nil || ok {
			t.Fatalf("second Create = %v, %v; want false", ok, err)
		}
		mustGetKV(t, kv, "g", "first")
		advance(11 * time.Second)
		if ok, err := kv.Create(ctx, "g", []byte("third"), 10*time.Second); err != nil || !ok {
			t.Fatalf("Create after expiry = %v, %v; want true", ok, err)
		}
		mustGetKV(t, kv, "g", "third")
	})

	t.Run("concurrent increments are not lost", func(t *testing.T) {
		kv, _ := newKV(t)
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				for range 10 {
					if _, err := kv.Incr(ctx, "n", time.Minute); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		if n, err := kv.Incr(ctx, "n", time.Minute); err != nil || n != 101 {
			t.Fatalf("after 100 concurrent increments Incr = %d, %v; want 101", n, err)
		}
	})

	t.Run("sets add, list, remove and expire", func(t *testing.T) {
		kv, advance := newKV(t)
		if m, err := kv.SetMembers(ctx, "s"); err != nil || len(m) != 0 {
			t.Fatalf("missing set = %v, %v", m, err)
		}
		for _, id := range []string{"a", "b", "c", "b"} {
			if err := kv.SetAdd(ctx, "s", id, 10*time.Second); err != nil {
				t.Fatal(err)
			}
		}
		if err := kv.SetRemove(ctx, "s", "a"); err != nil {
			t.Fatal(err)
		}
		if err := kv.SetRemove(ctx, "s", "not there"); err != nil {
			t.Fatal(err)
		}
		m, err := kv.SetMembers(ctx, "s")
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(m)
		if !slices.Equal(m, []string{"b", "c"}) {
			t.Fatalf("members = %v, want [b c]", m)
		}
		advance(8 * time.Second)
		if err := kv.SetAdd(ctx, "s", "d", 10*time.Second); err != nil { // renews the set
			t.Fatal(err)
		}
		advance(8 * time.Second)
		if m, _ := kv.SetMembers(ctx, "s"); len(m) != 3 {
			t.Fatalf("set after a renewing add = %v, want 3 members", m)
		}
		advance(3 * time.Second)
		if m, _ := kv.SetMembers(ctx, "s"); len(m) != 0 {
			t.Fatalf("set past its ttl = %v, want none", m)
		}
	})
}

func mustSet(t *testing.T, kv KV, key, val string, ttl time.Duration) {
	t.Helper()
	if err := kv.Set(context.Background(), key, []byte(val), ttl); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func mustGetKV(t *testing.T, kv KV, key, want string) {
	t.Helper()
	v, err := kv.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if string(v) != want {
		t.Fatalf("Get(%q) = %q, want %q", key, v, want)
	}
}

// fakeClock is a clock tests move by hand; safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := new(fakeClock)
	c.ns.Store(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func newTestMemoryKV(t *testing.T) (*MemoryKV, *fakeClock) {
	kv := NewMemoryKV()
	clock := newFakeClock()
	kv.SetClock(clock.Now)
	return kv, clock
}

func TestMemoryKV(t *testing.T) {
	testKV(t, func(t *testing.T) (KV, func(time.Duration)) {
		kv, clock := newTestMemoryKV(t)
		return kv, clock.Advance
	})
}

// Expired entries must not pile up in memory: every short-lived code and
// abandoned session would otherwise stay until Caddy restarts.
func TestMemoryKVSweepsExpiredEntries(t *testing.T) {
	ctx := context.Background()
	kv, clock := newTestMemoryKV(t)
	for i := range 100 {
		if err := kv.Set(ctx, fmt.Sprint("old", i), []byte("x"), 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	mustSet(t, kv, "live", "y", time.Hour)
	if n := kv.Len(); n != 101 {
		t.Fatalf("Len = %d, want 101", n)
	}
	clock.Advance(2 * time.Minute)
	mustSet(t, kv, "new", "z", time.Minute)
	if n := kv.Len(); n != 2 {
		t.Fatalf("after expiry and a write Len = %d, want 2 (the live and new entries)", n)
	}
	mustGetKV(t, kv, "live", "y")
	mustGetKV(t, kv, "new", "z")
}
