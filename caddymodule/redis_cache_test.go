package caddymodule

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// trackingConns counts the tracking connections on srv.
func trackingConns(t *testing.T, srv *redistest.Server) int {
	t.Helper()
	list, err := srv.Client().ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(list, " name="+store.TrackingClientName+" ")
}

// TestSessionCacheLifecycle: the tracking connection is opened by Start,
// not Provision, and closed by Stop, with its goroutines, however often a
// config is started and stopped in one process (caddy reload); with
// session_cache off or on Cluster, there is none.
func TestSessionCacheLifecycle(t *testing.T) {
	srv := redistest.StartServer(t, "--appendonly", "no")
	before := runtime.NumGoroutine()
	for i := range 3 {
		app, _ := redisTestApp(t, &RedisConfig{URL: "redis://" + srv.Addr, KeyPrefix: "life:"})
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		if err := app.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		app.logger = zap.NewNop()
		if _, ok := app.engine.KV.(*store.CachedKV); !ok {
			t.Fatalf("KV is %T, want *store.CachedKV", app.engine.KV)
		}
		if n := trackingConns(t, srv); n != 0 {
			t.Fatalf("round %d: %d tracking connections after Provision; want none", i, n)
		}
		if err := app.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for trackingConns(t, srv) != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: no tracking connection after Start", i)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := app.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := app.Cleanup(); err != nil {
			t.Fatal(err)
		}
		cancel()
		deadline = time.Now().Add(5 * time.Second)
		for trackingConns(t, srv) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the tracking connection outlived Stop", i)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}

	for _, rc := range []*RedisConfig{
		{URL: "redis://" + srv.Addr, KeyPrefix: "off:", SessionCache: -1},
	} {
		app, _ := redisTestApp(t, rc)
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		if err := app.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok := app.engine.KV.(*store.RedisKV); !ok {
			t.Fatalf("with session_cache off, KV is %T, want *store.RedisKV", app.engine.KV)
		}
		_ = app.Cleanup()
		cancel()
	}
	if (&RedisConfig{Cluster: true}).sessionCache() != 0 {
		t.Error("a session cache on Cluster")
	}
	if got := (&RedisConfig{}).sessionCache(); got != defaultSessionCache {
		t.Errorf("default session cache %d", got)
	}
}
