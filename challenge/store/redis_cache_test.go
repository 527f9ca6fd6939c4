package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// cacheRig is a CachedKV tracking a private redis-server (no persistence,
// so a restart loses every key), and a plain client of it standing for
// another gateway.
type cacheRig struct {
	t      *testing.T
	srv    *redistest.Server
	other  *redis.Client
	kv     *CachedKV
	up     chan struct{}
	lost   chan error
	prefix string
}

func newCacheRig(t *testing.T, o SessionCacheOptions, before func(*CachedKV)) *cacheRig {
	t.Helper()
	srv := redistest.StartServer(t, "--appendonly", "no")
	r := &cacheRig{t: t, srv: srv, other: srv.Client(), prefix: "gw:",
		up: make(chan struct{}, 100), lost: make(chan error, 100)}
	main := redis.NewClient(&redis.Options{Addr: srv.Addr, ReadTimeout: time.Second, WriteTimeout: time.Second})
	t.Cleanup(func() { main.Close() })
	r.kv = NewCachedKV(NewRedisKV(main, r.prefix), o)
	if before != nil {
		before(r.kv)
	}
	tr := redis.NewClient(r.kv.TrackingOptions(&redis.Options{Addr: srv.Addr, ReadTimeout: time.Second, WriteTimeout: time.Second,
		MaxRetries: -1}))
	ctx, cancel := context.WithCancel(context.Background())
	wait := r.kv.Track(ctx, tr, TrackingEvents{
		Up:      func() { r.up <- struct{}{} },
		Lost:    func(err error) { r.lost <- err },
		Refused: func(err error) { t.Errorf("tracking refused: %v", err) },
	})
	t.Cleanup(func() { cancel(); wait(); tr.Close() })
	r.waitUp()
	return r
}

func (r *cacheRig) waitUp() {
	r.t.Helper()
	select {
	case <-r.up:
	case <-time.After(5 * time.Second):
		r.t.Fatal("tracking did not come up")
	}
	// and the first PONG
	for deadline := time.Now().Add(5 * time.Second); !r.kv.fresh(r.kv.clock()); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			r.t.Fatal("no PONG on the tracking connection")
		}
	}
}

// gets is how many GETs the server has run.
func (r *cacheRig) gets() int {
	r.t.Helper()
	info, err := r.other.Info(context.Background(), "commandstats").Result()
	if err != nil {
		r.t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_get:calls="); ok {
			n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			return n
		}
	}
	return 0
}

func (r *cacheRig) set(key, value string) {
	r.t.Helper()
	if err := r.other.Set(context.Background(), r.prefix+key, value, time.Hour).Err(); err != nil {
		r.t.Fatal(err)
	}
}

// setSeen is set, then waits until the invalidation it causes has been
// handled here, so that it cannot drop what a Get keeps next.
func (r *cacheRig) setSeen(key, value string) {
	r.t.Helper()
	sh := r.kv.shard(key)
	seq := func() uint64 { sh.mu.RLock(); defer sh.mu.RUnlock(); return sh.seq }
	before := seq()
	r.set(key, value)
	for deadline := time.Now().Add(2 * time.Second); seq() == before; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			r.t.Fatalf("no invalidation of %s", key)
		}
	}
}

func (r *cacheRig) get(key string) (string, error) {
	v, err := r.kv.Get(context.Background(), key)
	return string(v), err
}

func (r *cacheRig) mustGet(key, want string) {
	r.t.Helper()
	got, err := r.get(key)
	if err != nil || got != want {
		r.t.Fatalf("Get(%s) = %q, %v; want %q", key, got, err, want)
	}
}

// TestCachedKVServesFromMemory: once read, a session is served with no
// Redis command; other keys are not cached.
func TestCachedKVServesFromMemory(t *testing.T) {
	// A MaxStale that a loaded machine's late PONG cannot exceed: this
	// test counts what is served from memory.
	r := newCacheRig(t, SessionCacheOptions{MaxStale: 5 * time.Second}, nil)
	r.setSeen("session:a", "v1")
	r.set("code:a", "c1")
	g := r.gets()
	r.mustGet("session:a", "v1")
	for range 20 {
		r.mustGet("session:a", "v1")
	}
	if d := r.gets() - g; d != 1 {
		t.Fatalf("21 Gets of a session made %d GETs; want 1", d)
	}
	g = r.gets()
	for range 3 {
		r.mustGet("code:a", "c1")
	}
	if d := r.gets() - g; d != 3 {
		t.Fatalf("3 Gets of another key made %d GETs; want 3", d)
	}
	// Not found is not kept.
	g = r.gets()
	for range 3 {
		if _, err := r.get("session:none"); !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
	}
	if d := r.gets() - g; d != 3 {
		t.Fatalf("3 Gets of a missing session made %d GETs; want 3", d)
	}
}

// TestCachedKVOtherGatewayWrite: a change made by another client is seen
// within MaxStale (here: polled until it is, and timed).
func TestCachedKVOtherGatewayWrite(t *testing.T) {
	r := newCacheRig(t, SessionCacheOptions{}, nil)
	r.set("session:a", "v1")
	r.mustGet("session:a", "v1")
	r.mustGet("session:a", "v1")
	for _, change := range []func(){
		func() { r.set("session:a", "v2") },
		func() { r.other.Del(context.Background(), r.prefix+"session:a") },
	} {
		before, _ := r.get("session:a")
		change()
		start := time.Now()
		for {
			got, _ := r.get("session:a")
			if got != before {
				break
			}
			if time.Since(start) > 100*time.Millisecond {
				t.Fatalf("still %q %v after another client's change", got, time.Since(start))
			}
		}
		t.Logf("seen after %v", time.Since(start))
	}
}

// TestCachedKVOwnWrites: every change through the CachedKV drops its copy
// before returning.
func TestCachedKVOwnWrites(t *testing.T) {
	r := newCacheRig(t, SessionCacheOptions{}, nil)
	ctx := context.Background()
	k := "session:own"
	prime := func(v string) {
		r.set(k, v)
		// The other client's SET is broadcast: wait until it is handled.
		for deadline := time.Now().Add(time.Second); ; {
			if got, _ := r.get(k); got == v {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("not primed")
			}
		}
		r.mustGet(k, v)
	}
	prime("a")
	if err := r.kv.Delete(ctx, k); err != nil {
		t.Fatal(err)
	}
	if _, err := r.get(k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after own Delete: %v", err)
	}
	prime("b")
	if err := r.kv.Set(ctx, k, []byte("c"), time.Hour); err != nil {
		t.Fatal(err)
	}
	r.mustGet(k, "c")
	prime("d")
	if ok, err := r.kv.Replace(ctx, k, []byte("e"), time.Hour); !ok || err != nil {
		t.Fatal(ok, err)
	}
	r.mustGet(k, "e")
	prime("f")
	if _, err := r.kv.Take(ctx, k); err != nil {
		t.Fatal(err)
	}
	if _, err := r.get(k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after own Take: %v", err)
	}
	prime("g")
	if ok, err := r.kv.DeleteIf(ctx, k, []byte("g")); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, err := r.get(k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after own DeleteIf: %v", err)
	}
}

// trackingID is the id of the tracking connection, found by its name.
func (r *cacheRig) trackingID() string {
	r.t.Helper()
	list, err := r.other.ClientList(context.Background()).Result()
	if err != nil {
		r.t.Fatal(err)
	}
	for line := range strings.SplitSeq(list, "\n") {
		if strings.Contains(line, " name="+TrackingClientName+" ") {
			f := strings.Fields(line)[0]
			return strings.TrimPrefix(f, "id=")
		}
	}
	r.t.Fatalf("no %s in CLIENT LIST:\n%s", TrackingClientName, list)
	return ""
}

// TestCachedKVTrackingKilled: a killed tracking connection stops the cache
// (flushed, every Get reads Redis) until it is back; then it serves again.
func TestCachedKVTrackingKilled(t *testing.T) {
	r := newCacheRig(t, SessionCacheOptions{MaxStale: 5 * time.Second}, nil)
	r.setSeen("session:k", "v1")
	r.mustGet("session:k", "v1")
	id := r.trackingID()
	if err := r.other.Do(context.Background(), "CLIENT", "KILL", "ID", id).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.lost:
		t.Logf("lost: %v", err)
	case <-time.After(2 * time.Second):
		t.Fatal("the loss was not noticed")
	}
	// Changed while no tracking connection may be up: must be seen.
	r.set("session:k", "v2")
	r.mustGet("session:k", "v2")
	r.waitUp()
	if r.trackingID() == id {
		t.Fatal("same connection")
	}
	r.mustGet("session:k", "v2")
	g := r.gets()
	for range 5 {
		r.mustGet("session:k", "v2")
	}
	if d := r.gets() - g; d != 0 {
		t.Fatalf("after reconnecting, served nothing from memory (%d GETs)", d)
	}
	r.set("session:k", "v3")
	time.Sleep(50 * time.Millisecond)
	r.mustGet("session:k", "v3")
}

// TestCachedKVRedisRestarted: a Redis restarted without persistence has
// no sessions: none is served from memory after it.
func TestCachedKVRedisRestarted(t *testing.T) {
	r := newCacheRig(t, SessionCacheOptions{}, nil)
	r.set("session:r", "v1")
	r.mustGet("session:r", "v1")
	r.mustGet("session:r", "v1")
	r.srv.Stop()
	r.srv.Start()
	for i := 0; i < 200; i++ {
		got, err := r.get("session:r")
		if err == nil {
			t.Fatalf("after the restart, Get %d = %q", i, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.waitUp()
	r.set("session:r", "v2")
	time.Sleep(50 * time.Millisecond)
	r.mustGet("session:r", "v2")
}

// TestCachedKVReadRacesInvalidation: a value read from Redis just before
// a change whose invalidation is handled before it is kept is not kept.
func TestCachedKVReadRacesInvalidation(t *testing.T) {
	var r *cacheRig
	var once atomic.Bool
	r = newCacheRig(t, SessionCacheOptions{}, func(kv *CachedKV) {
		kv.afterRead = func(key string) {
			if key != "session:race" || !once.CompareAndSwap(false, true) {
				return
			}
			s := kv.shard(key)
			s.mu.RLock()
			seq := s.seq
			s.mu.RUnlock()
			r.set(key, "new")
			for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(time.Millisecond) {
				s.mu.RLock()
				moved := s.seq != seq
				s.mu.RUnlock()
				if moved {
					return
				}
				if time.Now().After(deadline) {
					r.t.Error("the invalidation did not come")
					return
				}
			}
		}
	})
	r.set("session:race", "old")
	time.Sleep(20 * time.Millisecond)
	r.mustGet("session:race", "old") // read before the change
	if !once.Load() {
		t.Fatal("hook did not run")
	}
	r.mustGet("session:race", "new")
}

// TestCachedKVBounded: the cache holds at most Entries values, in about
// the memory they take.
func TestCachedKVBounded(t *testing.T) {
	const n = 10000
	r := newCacheRig(t, SessionCacheOptions{Entries: n}, nil)
	ctx := context.Background()
	value := strings.Repeat("x", 100)
	key := func(i int) string { return fmt.Sprintf("session:%043d", i) }
	pipe := r.other.Pipeline()
	for i := range 3 * n {
		pipe.Set(ctx, r.prefix+key(i), value, time.Hour)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the invalidations pass
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range 3 * n {
		if _, err := r.kv.Get(ctx, key(i)); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if l := r.kv.Len(); l > n || l < n/2 {
		t.Fatalf("Len = %d; want at most %d (and most of it)", l, n)
	}
	// Per value: the key (51 bytes, a 64-byte object), the value (100
	// bytes, a 112-byte object), the map slot (16-byte key header and a
	// 32-byte entry) at a load factor down to about a half: ~270 bytes.
	const perEntry = 400
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap grew %d bytes for %d values (%d a value)", grown, r.kv.Len(), grown/int64(r.kv.Len()))
	if grown > n*perEntry {
		t.Fatalf("heap grew %d bytes; want under %d", grown, n*perEntry)
	}
	runtime.KeepAlive(r.kv)
}

// TestCachedKVStaleBound: with the tracking reader stalled, nothing is
// served from memory once the latest answered PING is older than MaxStale.
func TestCachedKVStaleBound(t *testing.T) {
	var offset atomic.Int64
	var stalled atomic.Bool
	release := make(chan struct{})
	// A clock that moves only when the test moves it.
	start := time.Now()
	now := func() time.Time { return start.Add(time.Duration(offset.Load())) }
	r := newCacheRig(t, SessionCacheOptions{Now: now}, func(kv *CachedKV) {
		kv.beforeMessage = func() {
			if stalled.Load() {
				<-release
			}
		}
	})
	var once sync.Once
	unstall := func() { once.Do(func() { stalled.Store(false); close(release) }) }
	t.Cleanup(unstall) // before the rig's: a failing test must not hold the reader
	r.setSeen("session:s", "v1")
	r.mustGet("session:s", "v1")
	g := r.gets()
	r.mustGet("session:s", "v1")
	if d := r.gets() - g; d != 0 {
		t.Fatalf("not served from memory: %d GETs", d)
	}
	stalled.Store(true)
	time.Sleep(50 * time.Millisecond) // the reader is now held
	offset.Store(int64(90 * time.Millisecond))
	g = r.gets()
	r.mustGet("session:s", "v1")
	if d := r.gets() - g; d != 0 {
		t.Fatalf("served from Redis within MaxStale of the last PONG: %d GETs", d)
	}
	offset.Store(int64(160 * time.Millisecond))
	g = r.gets()
	r.mustGet("session:s", "v1")
	if d := r.gets() - g; d != 1 {
		t.Fatalf("past MaxStale with the reader stalled, Get made %d GETs; want 1", d)
	}
	unstall()
	for deadline := time.Now().Add(2 * time.Second); !r.kv.fresh(r.kv.clock()); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not fresh again after the reader went on")
		}
	}
	g = r.gets()
	r.mustGet("session:s", "v1")
	if d := r.gets() - g; d != 0 {
		t.Fatalf("after the reader went on: %d GETs", d)
	}
}

// TestCachedKVTrackingRefused: a Redis user without +client|tracking gets
// no cache (Refused says why), and every Get reads Redis.
func TestCachedKVTrackingRefused(t *testing.T) {
	srv := redistest.StartServer(t, "--appendonly", "no")
	admin := srv.Client()
	ctx := context.Background()
	if err := admin.Do(ctx, "ACL", "SETUSER", "gw", "on", ">pw", "~*", "&*", "+@all", "-client|tracking").Err(); err != nil {
		t.Fatal(err)
	}
	o := &redis.Options{Addr: srv.Addr, Username: "gw", Password: "pw"}
	main := redis.NewClient(o)
	defer main.Close()
	kv := NewCachedKV(NewRedisKV(main, "gw:"), SessionCacheOptions{})
	tr := redis.NewClient(kv.TrackingOptions(o))
	defer tr.Close()
	refusedErr := make(chan error, 1)
	tctx, cancel := context.WithCancel(ctx)
	wait := kv.Track(tctx, tr, TrackingEvents{
		Up:      func() { t.Error("tracking up without the permission") },
		Refused: func(err error) { refusedErr <- err },
	})
	defer func() { cancel(); wait() }()
	select {
	case err := <-refusedErr:
		if !strings.Contains(err.Error(), "NOPERM") || !strings.Contains(err.Error(), "CLIENT TRACKING") {
			t.Fatalf("refusal: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no refusal")
	}
	r := &cacheRig{t: t, other: admin, kv: kv, prefix: "gw:"}
	r.set("session:x", "v")
	g := r.gets()
	for range 3 {
		r.mustGet("session:x", "v")
	}
	if d := r.gets() - g; d != 3 {
		t.Fatalf("3 Gets without tracking made %d GETs; want 3", d)
	}
}

// TestCachedKVContract: the KV contract holds for a CachedKV with tracking
// on (a change by another client, as the contract's clock moves expiries,
// is given MaxStale to arrive).
func TestCachedKVContract(t *testing.T) {
	testKV(t, func(t *testing.T) (KV, func(time.Duration)) {
		rdb, prefix := redistest.Client(t)
		kv := NewCachedKV(NewRedisKV(rdb, prefix), SessionCacheOptions{})
		up := make(chan struct{}, 10)
		tr := redis.NewClient(kv.TrackingOptions(&redis.Options{Addr: redistest.Addr()}))
		ctx, cancel := context.WithCancel(context.Background())
		wait := kv.Track(ctx, tr, TrackingEvents{Up: func() { up <- struct{}{} }})
		t.Cleanup(func() { cancel(); wait(); tr.Close() })
		select {
		case <-up:
		case <-time.After(5 * time.Second):
			t.Fatal("tracking did not come up")
		}
		return kv, func(d time.Duration) {
			redistest.Advance(t, rdb, prefix, d)
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// TestCachedKVFlushDB: a FLUSHDB elsewhere (an invalidation that names no
// key) empties the cache.
func TestCachedKVFlushDB(t *testing.T) {
	r := newCacheRig(t, SessionCacheOptions{}, nil)
	r.set("session:f", "v1")
	time.Sleep(20 * time.Millisecond)
	r.mustGet("session:f", "v1")
	r.mustGet("session:f", "v1")
	if err := r.other.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		if _, err := r.get("session:f"); errors.Is(err, ErrNotFound) {
			break
		}
		if time.Since(start) > 100*time.Millisecond {
			t.Fatal("still served 100ms after FLUSHDB")
		}
	}
	t.Logf("seen after %v", time.Since(start))
}
