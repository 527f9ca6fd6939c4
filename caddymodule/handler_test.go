package caddymodule

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// testHandler provisions an app with one user (alice, group staff) outside
// a running Caddy, and a handler on it.
func testHandler(tb testing.TB, h *Handler) *Handler {
	return testHandlerOn(tb, h, nil)
}

// testHandlerOn is testHandler with the app on Redis when rc is set.
func testHandlerOn(tb testing.TB, h *Handler, rc *RedisConfig) *Handler {
	tb.Helper()
	dir := tb.TempDir()
	hash, err := users.HashPassword("pw", users.DefaultArgon2)
	if err != nil {
		tb.Fatal(err)
	}
	uf := filepath.Join(dir, "users.yml")
	yml := "users:\n  alice:\n    displayname: Alice\n    email: a@example.com\n    groups: [staff]\n    password: \"" + hash + "\"\n"
	if err := os.WriteFile(uf, []byte(yml), 0o600); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	tb.Cleanup(cancel)
	app := &App{UsersFile: uf, DataDir: dir, StorageKey: "bench-storage-key-0123456789abcdef0123", Redis: rc}
	if err := app.Provision(ctx); err != nil {
		tb.Fatal(err)
	}
	app.logger = zap.NewNop()
	tb.Cleanup(func() { _ = app.Cleanup() })
	if err := app.Validate(); err != nil {
		tb.Fatal(err)
	}
	// As Caddy's Start does: the embedded stores open there.
	if err := app.startEmbedded(); err != nil {
		tb.Fatal(err)
	}
	if rc != nil {
		// As Caddy's Start does: until the checks on Redis pass, the
		// gateway serves nothing.
		if err := app.startRedis(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	h.logger = zap.NewNop()
	if err := h.setup(app); err != nil {
		tb.Fatal(err)
	}
	return h
}

// signedInCookie makes a two-factor session for user and returns its cookie.
func signedInCookie(tb testing.TB, h *Handler, user string) *http.Cookie {
	tb.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	store := h.app.engine.Sessions
	sess, err := store.New(req, "mfa")
	if err != nil {
		tb.Fatal(err)
	}
	d := session.DataOf(sess)
	d.User, d.Level = user, session.TwoFactor
	rec := httptest.NewRecorder()
	if err := store.Save(req, rec, sess); err != nil {
		tb.Fatal(err)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		tb.Fatalf("%d cookies", len(cookies))
	}
	return cookies[0]
}

// passedHeaders serves req, a signed-in request, through h and returns the
// headers the upstream got.
func passedHeaders(t *testing.T, h *Handler, req *http.Request) http.Header {
	t.Helper()
	var got http.Header
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		got = r.Header.Clone()
		return nil
	})
	if err := h.ServeHTTP(httptest.NewRecorder(), req, next); err != nil {
		t.Fatal(err)
	}
	if got == nil {
		t.Fatal("signed-in request not passed on")
	}
	return got
}

func TestHandlerStripsSpoofedHeadersAndSetsIdentity(t *testing.T) {
	h := testHandler(t, &Handler{})
	c := signedInCookie(t, h, "alice")
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.AddCookie(c)
	for _, k := range []string{"Remote-User", "REMOTE-USER", "Remote_User", "remote_groups", "Remote-Name", "Remote_Email"} {
		req.Header[k] = []string{"mallory"}
	}
	req.Header.Set("Remote-Address", "kept") // not an identity header
	got := passedHeaders(t, h, req)
	want := map[string]string{"Remote-User": "alice", "Remote-Groups": "staff", "Remote-Name": "Alice", "Remote-Email": "a@example.com", "Remote-Address": "kept"}
	for k, v := range want {
		if vs := got[k]; len(vs) != 1 || vs[0] != v {
			t.Errorf("%s = %q, want %q", k, vs, v)
		}
	}
	for _, k := range []string{"REMOTE-USER", "Remote_User", "remote_groups", "Remote_Email"} {
		if _, ok := got[k]; ok {
			t.Errorf("spoofed %s reached the upstream", k)
		}
	}
}

func TestHandlerRefusesWithoutSession(t *testing.T) {
	h := testHandler(t, &Handler{})
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		t.Fatal("passed on without a session")
		return nil
	})
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Header.Set("Remote-User", "alice")
	rec := httptest.NewRecorder()
	if err := h.ServeHTTP(rec, req, next); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", rec.Code)
	}
}

// BenchmarkSignedInRequest is the hot path: an already signed-in request
// through the handler (cookie check, session read, user lookup, policy,
// headers) to a no-op next handler.
func BenchmarkSignedInRequest(b *testing.B) {
	benchSignedIn(b, testHandler(b, &Handler{AllowGroups: []string{"staff"}}))
}

// benchSignedIn runs signed-in requests of alice through h.
func benchSignedIn(b *testing.B, h *Handler) {
	c := signedInCookie(b, h, "alice")
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })
	req := httptest.NewRequest(http.MethodGet, "/app/page?x=1", nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("User-Agent", "bench")
	// The browser sends the app's cookie and the gateway's; the handler
	// strips the gateway's (in place), so a new header goes in each time.
	cookie := "app_session=" + strings.Repeat("x", 150) + "; " + c.Name + "=" + c.Value
	// Caddy gives each request a new replacer, where the handler sets the
	// {http.auth.user.*} placeholders.
	repl := caddy.NewReplacer()
	req = req.WithContext(context.WithValue(req.Context(), caddy.ReplacerCtxKey, repl))
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		*repl = *caddy.NewReplacer()
		repl.Map(httpVarsStandIn)               // as caddyhttp adds its request placeholders
		req.Header["Cookie"] = []string{cookie} // (one of the allocs/op)
		if err := h.ServeHTTP(w, req, next); err != nil {
			b.Fatal(err)
		}
		if req.Header.Get("Remote-User") != "alice" {
			b.Fatal("not signed in")
		}
	}
}

// httpVarsStandIn stands for the provider of {http.request.*} that Caddy's
// server adds to each request's replacer.
func httpVarsStandIn(string) (any, bool) { return nil, false }

// BenchmarkSignedInRequestRedis is the hot path with sessions in Redis on
// loopback (one GET per request). It also reports the bytes one session
// takes in Redis (MEMORY USAGE of its key).
func BenchmarkSignedInRequestRedis(b *testing.B) {
	rdb, prefix := redistest.Client(b)
	benchSignedIn(b, testHandlerOn(b, &Handler{AllowGroups: []string{"staff"}}, &RedisConfig{URL: "redis://" + redistest.Addr(), KeyPrefix: prefix}))
	b.StopTimer()
	keys, err := rdb.Keys(context.Background(), prefix+"session:*").Result()
	if err != nil || len(keys) != 1 {
		b.Fatalf("session keys %v, %v", keys, err)
	}
	n, err := rdb.MemoryUsage(context.Background(), keys[0]).Result()
	if err != nil {
		b.Fatal(err)
	}
	idx, err := rdb.MemoryUsage(context.Background(), prefix+"user-sessions:alice").Result()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n), "B/session-key")
	b.ReportMetric(float64(idx), "B/user-index")
}

// BenchmarkSessionLookup is the cookie check and session read alone.
func BenchmarkSessionLookup(b *testing.B) {
	h := testHandler(b, &Handler{})
	c := signedInCookie(b, h, "alice")
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(c)
	b.ReportAllocs()
	for b.Loop() {
		if _, d, err := h.app.engine.Sessions.Lookup(req); err != nil || d == nil {
			b.Fatal("no session", err)
		}
	}
}

// BenchmarkIdentityHeaders is the header rewrite alone.
func BenchmarkIdentityHeaders(b *testing.B) {
	u := &users.User{Name: "alice", DisplayName: "Alice", Email: "a@example.com"}
	hdr := http.Header{"Accept": {"text/html"}, "User-Agent": {"x"}, "Cookie": {"a=b"}, "Remote-User": {"x"}}
	b.ReportAllocs()
	ids := newIdentityNames(nil)
	for b.Loop() {
		ids.stripFrom(hdr)
		ids.setOn(hdr, u)
	}
}

func TestSessionCookieNotForwarded(t *testing.T) {
	h := testHandler(t, &Handler{})
	c := signedInCookie(t, h, "alice")
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Header.Set("Cookie", "app=1; "+c.Name+"="+c.Value)
	var got http.Header
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error { got = r.Header.Clone(); return nil })
	if err := h.ServeHTTP(httptest.NewRecorder(), req, next); err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Get("Cookie") != "app=1" {
		t.Fatalf("upstream Cookie header %q, want only the app's cookie", got.Get("Cookie"))
	}
}

// downKV is a store that cannot be reached.
type downKV struct{ store.KV }

func (downKV) Get(context.Context, string) ([]byte, error) {
	return nil, fmt.Errorf("%w: connection refused", store.ErrUnavailable)
}

// Fail closed: when the session store cannot be read, a signed-in cookie
// gets a 503, never the app and never a redirect to sign in again.
func TestHandlerFailsClosedWhenTheStoreIsDown(t *testing.T) {
	h := testHandler(t, &Handler{})
	c := signedInCookie(t, h, "alice")
	down, err := session.NewStore(session.Config{Idle: time.Hour, Lifetime: time.Hour, Cookies: h.app.cookies.SessionCookies(),
		HashKeys: [][]byte{h.app.engine.Keys.CookieHashKey()}}, downKV{store.NewMemoryKV()})
	if err != nil {
		t.Fatal(err)
	}
	h.app.engine.Sessions = down
	for _, accept := range []string{"text/html", "application/json"} {
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		req.Header.Set("Accept", accept)
		req.AddCookie(c)
		rec := httptest.NewRecorder()
		next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
			t.Fatal("request passed on while the store is down")
			return nil
		})
		if err := h.ServeHTTP(rec, req, next); err != nil {
			t.Fatal(err)
		}
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Location") != "" {
			t.Fatalf("Accept %s: status %d, Location %q; want 503 and no redirect", accept, rec.Code, rec.Header().Get("Location"))
		}
	}
}
