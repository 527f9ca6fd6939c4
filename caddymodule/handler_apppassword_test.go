package caddymodule

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// opCounter counts the store operations of a request, by kind.
type opCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *opCounter) add(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[op]++
}

func (c *opCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = nil
	return n
}

type countingAccounts struct {
	store.Accounts
	c *opCounter
}

func (a countingAccounts) Get(ctx context.Context, user string) (*store.Account, error) {
	a.c.add("accounts.get")
	return a.Accounts.Get(ctx, user)
}

func (a countingAccounts) Update(ctx context.Context, user string, fn func(*store.Account) error) error {
	a.c.add("accounts.update")
	return a.Accounts.Update(ctx, user, fn)
}

type countingKV struct {
	store.KV
	c *opCounter
}

func (k countingKV) Get(ctx context.Context, key string) ([]byte, error) {
	k.c.add("kv.get")
	return k.KV.Get(ctx, key)
}

func (k countingKV) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	k.c.add("kv.set")
	return k.KV.Set(ctx, key, v, ttl)
}

type countingLimiter struct {
	limit.Limiter
	c *opCounter
}

func (l countingLimiter) Allow(ctx context.Context, key string, lim limit.Limit) (limit.Result, error) {
	l.c.add("limiter.allow")
	return l.Limiter.Allow(ctx, key, lim)
}

func (l countingLimiter) Refund(ctx context.Context, key string, lim limit.Limit) error {
	l.c.add("limiter.refund")
	return l.Limiter.Refund(ctx, key, lim)
}

// generousLimits never refuse an app password, so that every request does
// the whole check.
func generousLimits() regulation.Limits {
	l := regulation.DefaultLimits()
	l.AppPasswordPerIP = limit.Limit{Rate: 1 << 30, Period: time.Second}
	l.AppPasswordPerUser = l.AppPasswordPerIP
	return l
}

// appPasswordHandler is a handler with app_passwords for alice, who has an
// app password, on the app's stores (Redis when rc is set).
func appPasswordHandler(tb testing.TB, rc *RedisConfig) *Handler {
	tb.Helper()
	h := testHandlerOn(tb, &Handler{AppPasswords: true}, rc)
	if _, err := h.app.engine.CreateAppPassword(context.Background(), "alice", "mail"); err != nil {
		tb.Fatal(err)
	}
	return h
}

// basicRequest runs one Basic-auth request through h and returns its status.
func basicRequest(tb testing.TB, h *Handler, user, secret string) int {
	req := httptest.NewRequest(http.MethodGet, "/dav", nil)
	req.SetBasicAuth(user, secret)
	rec := httptest.NewRecorder()
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
		w.WriteHeader(http.StatusOK)
		return nil
	})
	if err := h.ServeHTTP(rec, req, next); err != nil {
		tb.Fatal(err)
	}
	return rec.Code
}

// TestAppPasswordUnknownNameSameWork: a wrong app password for a user who
// exists (with a large account: many app passwords and remembered
// devices) and one for a name nobody has do the same store reads and
// writes, and neither reads an account, so that their timing does not tell
// the names apart however much the account holds. (Both paths hash the
// secret in one and the same function.)
func TestAppPasswordUnknownNameSameWork(t *testing.T) {
	h := appPasswordHandler(t, nil)
	ctx := context.Background()
	e := h.app.engine
	for i := range 10 {
		if _, err := e.CreateAppPassword(ctx, "alice", fmt.Sprintf("client %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for range 15 {
		if _, err := e.RememberDevice(ctx, "alice", "Firefox on Linux", time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.app.indexAppPasswords(ctx); err != nil {
		t.Fatal(err)
	}
	c := &opCounter{}
	e.Accounts = countingAccounts{e.Accounts, c}
	e.KV = countingKV{e.KV, c}
	e.Regulation = regulation.New(generousLimits(), countingLimiter{limit.NewMemory(), c}, countingKV{store.NewMemoryKV(), c}, time.Now)
	const wrong = "aaaa-bbbb-cccc-dddd"
	var known, unknown map[string]int
	for i := range 3 { // the same every time, not only the first
		if s := basicRequest(t, h, "alice", wrong); s != http.StatusUnauthorized {
			t.Fatalf("wrong app password for alice: %d", s)
		}
		known = c.take()
		if s := basicRequest(t, h, "mallory", wrong); s != http.StatusUnauthorized {
			t.Fatalf("app password for an unknown name: %d", s)
		}
		unknown = c.take()
		if len(known) == 0 || !equalCounts(known, unknown) {
			t.Fatalf("request %d: store operations for a known name %v, for an unknown one %v", i+1, known, unknown)
		}
		if known["accounts.get"] != 0 {
			t.Fatalf("request %d: a wrong app password read the account (%v): its time grows with what the account holds", i+1, known)
		}
	}
	t.Logf("store operations of a wrong app password, known or unknown name: %v", known)
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// BenchmarkAppPasswordWrong: a wrong app password for a known and for an
// unknown name, on the embedded stores and on Redis (loopback); the two
// should take the same time.
func BenchmarkAppPasswordWrong(b *testing.B) {
	for _, backend := range []string{"embedded", "redis"} {
		var rc *RedisConfig
		if backend == "redis" {
			_, prefix := redistest.Client(b)
			rc = &RedisConfig{URL: "redis://" + redistest.Addr() + "/0", KeyPrefix: prefix}
		}
		h := appPasswordHandler(b, rc)
		e := h.app.engine
		e.Regulation = regulation.New(generousLimits(), limit.NewMemory(), store.NewMemoryKV(), time.Now)
		for _, name := range []string{"alice", "mallory"} {
			runtime.GC() // not the garbage of setting up (the users file's hashes)
			b.Run(backend+"/"+map[string]string{"alice": "known", "mallory": "unknown"}[name], func(b *testing.B) {
				for b.Loop() {
					if s := basicRequest(b, h, name, "aaaa-bbbb-cccc-dddd"); s != http.StatusUnauthorized {
						b.Fatalf("status %d", s)
					}
				}
			})
		}
	}
}
