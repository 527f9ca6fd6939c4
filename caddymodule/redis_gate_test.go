package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// TestRedisGateHoldsUntilChecked: Caddy may start serving before it starts
// the mfa app, so a gateway on Redis holds every request (the 503 page, a
// log line that says why, nothing reaches the next handler) from Provision
// until its start-up checks on Redis have passed, and then serves.
func TestRedisGateHoldsUntilChecked(t *testing.T) {
	_, prefix := redistest.Client(t)
	dir := t.TempDir()
	uf := filepath.Join(dir, "users.yml")
	if err := os.WriteFile(uf, []byte("users:\n  alice:\n    password: \"$2b$10$v.AbwwXEQpMBinNTWHge0uNUS9rx3TaRQM5Odi.OL8USUw.gowBPi\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	app := &App{UsersFile: uf, DataDir: dir, StorageKey: "gate-storage-key-0123456789abcdef0123",
		Redis: &RedisConfig{URL: "redis://" + redistest.Addr(), KeyPrefix: prefix}}
	if err := app.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	defer app.Cleanup()
	core, logs := observer.New(zap.ErrorLevel)
	app.logger = zap.New(core)
	h := &Handler{logger: zap.NewNop()}
	if err := h.setup(app); err != nil {
		t.Fatal(err)
	}
	reached := false
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { reached = true; return nil })
	serve := func(path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Accept", "text/html")
		rec := httptest.NewRecorder()
		if err := h.ServeHTTP(rec, req, next); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	for _, path := range []string{"/app", "/.mfa/login"} {
		rec := serve(path)
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "try again in a few minutes") {
			t.Fatalf("%s before the checks: %d, want the 503 page:\n%s", path, rec.Code, rec.Body.String())
		}
	}
	if reached || logs.FilterMessageSnippet("start-up checks on Redis have not run yet").Len() != 2 {
		t.Fatalf("reached next: %v; logs: %v", reached, logs.All())
	}
	if err := app.startRedis(ctx); err != nil {
		t.Fatal(err)
	}
	if rec := serve("/.mfa/login"); rec.Code != http.StatusOK {
		t.Fatalf("login page after the checks: %d", rec.Code)
	}
	if rec := serve("/app"); rec.Code != http.StatusFound {
		t.Fatalf("protected page after the checks: %d, want the redirect to sign in", rec.Code)
	}

	// A config reload that keeps the Redis settings, the prefix and the
	// storage key serves from Provision on, as the config it replaces did
	// (no 503s while Caddy starts the new config's apps); one with another
	// key waits for its own checks.
	for key, open := range map[string]bool{app.StorageKey: true, "another-storage-key-0123456789abcdef0": false} {
		next := &App{UsersFile: uf, DataDir: t.TempDir(), StorageKey: key, Redis: &RedisConfig{URL: "redis://" + redistest.Addr(), KeyPrefix: prefix}}
		if err := next.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		if got := next.gate.held() == nil; got != open {
			t.Errorf("reload with storage key %.12s…: open at Provision %v, want %v", key, got, open)
		}
		_ = next.Cleanup()
	}
}
