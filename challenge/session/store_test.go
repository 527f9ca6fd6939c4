package session

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

const (
	idle     = 10 * time.Minute
	lifetime = time.Hour
)

// clock is a hand-moved clock, safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// recordingKV wraps a KV, counts writes, remembers the last TTL, and can
// be made to fail.
type recordingKV struct {
	store.KV
	sets    atomic.Int32
	lastTTL atomic.Int64
	getErr  error
	setErr  error
}

func (k *recordingKV) Get(ctx context.Context, key string) ([]byte, error) {
	if k.getErr != nil {
		return nil, k.getErr
	}
	return k.KV.Get(ctx, key)
}

func (k *recordingKV) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	if k.setErr != nil {
		return k.setErr
	}
	k.sets.Add(1)
	k.lastTTL.Store(int64(ttl))
	return k.KV.Set(ctx, key, v, ttl)
}

// Replace counts as a write too: the touch of LastSeen goes through it.
func (k *recordingKV) Replace(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	if k.setErr != nil {
		return false, k.setErr
	}
	k.sets.Add(1)
	k.lastTTL.Store(int64(ttl))
	return k.KV.Replace(ctx, key, v, ttl)
}

type fixture struct {
	s     *Store
	kv    *recordingKV
	mem   *store.MemoryKV
	clock *clock
}

var testKey = bytes.Repeat([]byte("k"), 64)

func newFixture(t testing.TB, edit func(*Config)) *fixture {
	t.Helper()
	c := new(clock)
	c.ns.Store(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	mem := store.NewMemoryKV()
	mem.SetClock(c.Now)
	kv := &recordingKV{KV: mem}
	cfg := Config{CookieName: "mfa_test", Cookies: testCookies{"mfa_test"}, Idle: idle, Lifetime: lifetime, HashKeys: [][]byte{testKey}}
	if edit != nil {
		edit(&cfg)
	}
	s, err := NewStore(cfg, kv)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	s.SetClock(c.Now)
	return &fixture{s: s, kv: kv, mem: mem, clock: c}
}

func request(c *http.Cookie, useTLS bool) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/", nil)
	if useTLS {
		r.TLS = &tls.ConnectionState{}
	}
	if c != nil {
		r.AddCookie(c)
	}
	return r
}

// onlyCookie returns the one Set-Cookie of rec.
func onlyCookie(t testing.TB, rec *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	cs := rec.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("response sets %d cookies, want 1", len(cs))
	}
	return cs[0]
}

// signIn saves a new two-factor session for alice and returns its cookie.
func (f *fixture) signIn(t testing.TB, useTLS bool) *http.Cookie {
	t.Helper()
	r := request(nil, useTLS)
	sess, err := f.s.New(r, "mfa")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if !sess.IsNew {
		t.Fatal("session without a cookie is not new")
	}
	d := DataOf(sess)
	d.User, d.Level, d.Return = "alice", TwoFactor, "/wiki"
	rec := httptest.NewRecorder()
	if err := f.s.Save(r, rec, sess); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return onlyCookie(t, rec)
}

// lookup returns the live session of c, or nil.
func (f *fixture) lookup(t *testing.T, c *http.Cookie, useTLS bool) *Data {
	t.Helper()
	_, d, err := f.s.Lookup(request(c, useTLS))
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	return d
}

func TestSessionRoundTrip(t *testing.T) {
	f := newFixture(t, nil)
	c := f.signIn(t, false)
	if strings.Contains(c.Value, "alice") {
		t.Fatal("cookie carries session data; it must hold only the signed id")
	}
	id, d, err := f.s.Lookup(request(c, false))
	if err != nil || d == nil {
		t.Fatalf("Lookup of a fresh session = %v, %v", d, err)
	}
	if d.User != "alice" || d.Level != TwoFactor || d.Return != "/wiki" {
		t.Fatalf("session data = %+v", d)
	}
	if len(id) < 43 { // 32 random bytes in unpadded base64
		t.Fatalf("session id %q is shorter than 256 bits", id)
	}
	if _, err := f.mem.Get(context.Background(), "session:"+id); err != nil {
		t.Fatalf("session not in the KV under its id: %v", err)
	}

	sess, err := f.s.Get(request(c, false), "mfa")
	if err != nil {
		t.Fatal(err)
	}
	if sess.IsNew || sess.ID != id || DataOf(sess).User != "alice" {
		t.Fatalf("Get = new %v, id %q, data %+v", sess.IsNew, sess.ID, DataOf(sess))
	}

	// Two sign-ins get different ids.
	c2 := f.signIn(t, false)
	id2, _, _ := f.s.Lookup(request(c2, false))
	if id2 == id || c2.Value == c.Value {
		t.Fatal("two sessions share an id")
	}
}

func TestNoCookieNoSession(t *testing.T) {
	f := newFixture(t, nil)
	id, d, err := f.s.Lookup(request(nil, false))
	if id != "" || d != nil || err != nil {
		t.Fatalf("Lookup without a cookie = %q, %+v, %v", id, d, err)
	}
	sess, err := f.s.Get(request(nil, false), "mfa")
	if err != nil || !sess.IsNew || sess.ID != "" || DataOf(sess).User != "" || DataOf(sess).Level != Anonymous {
		t.Fatalf("Get without a cookie = %+v, %v", sess, err)
	}
}

func TestForgedCookiesGiveNoSession(t *testing.T) {
	f := newFixture(t, nil)
	good := f.signIn(t, false)
	id, _, _ := f.s.Lookup(request(good, false))

	otherKey, err := securecookie.New(bytes.Repeat([]byte("x"), 64), nil).
		SetSerializer(securecookie.NopEncoder{}).Encode("mfa_test", []byte(id))
	if err != nil {
		t.Fatal(err)
	}
	flip := []byte(good.Value)
	flip[len(flip)/2] ^= 0x01
	for name, value := range map[string]string{
		"tampered":                string(flip),
		"truncated":               good.Value[:len(good.Value)-4],
		"bare id (unsigned)":      id,
		"signed with another key": otherKey,
		"empty":                   "",
	} {
		c := &http.Cookie{Name: "mfa_test", Value: value}
		if d := f.lookup(t, c, false); d != nil {
			t.Errorf("%s cookie gave a session: %+v", name, d)
		}
		sess, err := f.s.Get(request(c, false), "mfa")
		if err != nil || !sess.IsNew || DataOf(sess).User != "" {
			t.Errorf("%s cookie: Get = new %v, data %+v, %v", name, sess.IsNew, DataOf(sess), err)
		}
	}
}

func TestHashKeyRotation(t *testing.T) {
	oldKey := bytes.Repeat([]byte("o"), 64)
	f := newFixture(t, func(c *Config) { c.HashKeys = [][]byte{oldKey} })
	c := f.signIn(t, false)
	// The operator adds a new key in front; sessions signed with the old one
	// stay valid.
	rotated, err := NewStore(Config{CookieName: "mfa_test", Cookies: testCookies{"mfa_test"}, Idle: idle, Lifetime: lifetime, HashKeys: [][]byte{testKey, oldKey}}, f.kv)
	if err != nil {
		t.Fatal(err)
	}
	rotated.SetClock(f.clock.Now)
	if _, d, err := rotated.Lookup(request(c, false)); err != nil || d == nil || d.User != "alice" {
		t.Fatalf("cookie signed with the previous key: %+v, %v", d, err)
	}
	// Once the old key is dropped, its cookies are worthless.
	dropped, err := NewStore(Config{CookieName: "mfa_test", Cookies: testCookies{"mfa_test"}, Idle: idle, Lifetime: lifetime, HashKeys: [][]byte{testKey}}, f.kv)
	if err != nil {
		t.Fatal(err)
	}
	dropped.SetClock(f.clock.Now)
	if _, d, _ := dropped.Lookup(request(c, false)); d != nil {
		t.Fatalf("cookie signed with a dropped key still works: %+v", d)
	}
}

func TestIdleExpiry(t *testing.T) {
	f := newFixture(t, nil)
	c := f.signIn(t, false)
	f.clock.Advance(idle - time.Second)
	if f.lookup(t, c, false) == nil {
		t.Fatal("session ended before its idle timeout")
	}
	// That request counted as activity: the idle timeout starts again.
	f.clock.Advance(idle - time.Second)
	if f.lookup(t, c, false) == nil {
		t.Fatal("active session ended at the idle timeout of its first request")
	}
	f.clock.Advance(idle)
	if d := f.lookup(t, c, false); d != nil {
		t.Fatalf("session alive after %v idle: %+v", idle, d)
	}
}

// The data itself says when it expires, whatever the KV's TTL does: a KV
// that keeps entries longer (a Redis without eviction, a restored backup)
// does not revive a session.
func TestIdleExpiryCheckedOnData(t *testing.T) {
	f := newFixture(t, nil)
	c := f.signIn(t, false)
	id, d, _ := f.s.Lookup(request(c, false))
	stale := *d
	stale.LastSeen = f.clock.Now().Add(-idle).Unix()
	if err := f.s.write(context.Background(), id, &stale); err != nil {
		t.Fatal(err)
	}
	if d := f.lookup(t, c, false); d != nil {
		t.Fatalf("session whose LastSeen is %v ago still live: %+v", idle, d)
	}
	if _, err := f.mem.Get(context.Background(), "session:"+id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired session left in the KV: %v", err)
	}
}

func TestAbsoluteLifetime(t *testing.T) {
	f := newFixture(t, nil)
	c := f.signIn(t, false)
	// A request every five minutes keeps the session from going idle...
	for elapsed := 5 * time.Minute; elapsed < lifetime; elapsed += 5 * time.Minute {
		f.clock.Advance(5 * time.Minute)
		if f.lookup(t, c, false) == nil {
			t.Fatalf("active session ended after %v, before its lifetime", elapsed)
		}
	}
	// ...but not past its lifetime.
	f.clock.Advance(5 * time.Minute)
	if d := f.lookup(t, c, false); d != nil {
		t.Fatalf("session alive after its %v lifetime: %+v", lifetime, d)
	}
}

func TestStoredTTLNeverOutlivesTheSession(t *testing.T) {
	f := newFixture(t, nil)
	c := f.signIn(t, false)
	if ttl := time.Duration(f.kv.lastTTL.Load()); ttl != idle {
		t.Fatalf("TTL of a fresh session = %v, want the idle timeout %v", ttl, idle)
	}
	for range 11 {
		f.clock.Advance(5 * time.Minute)
		f.lookup(t, c, false)
	}
	// 55 minutes in: 5 minutes of lifetime left, less than the idle timeout.
	if ttl := time.Duration(f.kv.lastTTL.Load()); ttl != 5*time.Minute {
		t.Fatalf("TTL near the end of the lifetime = %v, want 5m", ttl)
	}
}

func TestRotate(t *testing.T) {
	f := newFixture(t, nil)
	oldCookie := f.signIn(t, false)
	r := request(oldCookie, false)
	sess, err := f.s.Get(r, "mfa")
	if err != nil || sess.IsNew {
		t.Fatalf("Get = %+v, %v", sess, err)
	}
	oldID := sess.ID
	if err := f.s.Rotate(r.Context(), sess); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	// The old id is dead at once, before the new one is saved.
	if d := f.lookup(t, oldCookie, false); d != nil {
		t.Fatalf("old cookie works after Rotate: %+v", d)
	}
	DataOf(sess).Level = TwoFactor
	rec := httptest.NewRecorder()
	if err := f.s.Save(r, rec, sess); err != nil {
		t.Fatalf("Save: %v", err)
	}
	newCookie := onlyCookie(t, rec)
	if sess.ID == "" || sess.ID == oldID || newCookie.Value == oldCookie.Value {
		t.Fatal("Rotate and Save kept the old id")
	}
	if d := f.lookup(t, oldCookie, false); d != nil {
		t.Fatalf("old cookie works after Rotate and Save: %+v", d)
	}
	d := f.lookup(t, newCookie, false)
	if d == nil || d.User != "alice" || d.Return != "/wiki" {
		t.Fatalf("new cookie: %+v, want alice's data carried over", d)
	}
}

func TestRotateFailsClosed(t *testing.T) {
	f := newFixture(t, nil)
	c := f.signIn(t, false)
	sess, _ := f.s.Get(request(c, false), "mfa")
	broken := &failingDeleteKV{KV: f.kv}
	s2, _ := NewStore(Config{CookieName: "mfa_test", Cookies: testCookies{"mfa_test"}, Idle: idle, Lifetime: lifetime, HashKeys: [][]byte{testKey}}, broken)
	if err := s2.Rotate(context.Background(), sess); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Rotate with a failing KV: %v, want ErrUnavailable", err)
	}
}

type failingDeleteKV struct{ store.KV }

func (failingDeleteKV) Delete(context.Context, string) error { return errors.New("connection refused") }

func TestSaveWithNegativeMaxAgeSignsOut(t *testing.T) {
	f := newFixture(t, nil)
	c := f.signIn(t, false)
	r := request(c, false)
	sess, err := f.s.Get(r, "mfa")
	if err != nil {
		t.Fatal(err)
	}
	id := sess.ID
	sess.Options.MaxAge = -1
	rec := httptest.NewRecorder()
	if err := f.s.Save(r, rec, sess); err != nil {
		t.Fatalf("Save: %v", err)
	}
	out := onlyCookie(t, rec)
	if out.Name != "mfa_test" || out.Value != "" || out.MaxAge >= 0 {
		t.Fatalf("sign-out cookie = %+v, want an empty cookie that expires now", out)
	}
	if _, err := f.mem.Get(context.Background(), "session:"+id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session still stored after sign-out: %v", err)
	}
	// A copy of the cookie kept by an attacker (or the browser) is dead.
	if d := f.lookup(t, c, false); d != nil {
		t.Fatalf("cookie works after sign-out: %+v", d)
	}
}

// The store sets the cookie its policy makes, with the session's lifetime,
// and reads it back under the policy's name; the policy's rules (names,
// prefix, attributes) are tested with the gateway's policy in caddymodule.
func TestCookieFromPolicy(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		f := newFixture(t, nil)
		c := f.signIn(t, useTLS)
		want := testCookies{"mfa_test"}.Name(request(nil, useTLS))
		if c.Name != want || f.s.CookieName(request(nil, useTLS)) != want {
			t.Errorf("TLS %v: cookie %q, CookieName %q; want the policy's %q", useTLS, c.Name, f.s.CookieName(request(nil, useTLS)), want)
		}
		if c.MaxAge != int(lifetime/time.Second) {
			t.Errorf("MaxAge = %d, want the lifetime %d", c.MaxAge, int(lifetime/time.Second))
		}
		if d := f.lookup(t, c, useTLS); d == nil || d.User != "alice" {
			t.Fatalf("cookie does not find its session: %+v", d)
		}
	}
}

// Under TLS only the __Host- cookie counts: a sibling subdomain can plant a
// plain-named cookie for the parent domain, but not a __Host- one, so
// reading the plain name would let it fix a victim's session.
func TestTLSIgnoresUnprefixedCookie(t *testing.T) {
	f := newFixture(t, nil)
	c := f.signIn(t, true)
	planted := &http.Cookie{Name: "mfa_test", Value: c.Value}
	if d := f.lookup(t, planted, true); d != nil {
		t.Fatalf("plain-named cookie accepted under TLS: %+v", d)
	}
}

func TestLastSeenTouchedOnlyAfterInterval(t *testing.T) {
	f := newFixture(t, nil) // idle 10m: touch interval is 1m
	c := f.signIn(t, false)
	_, d0, _ := f.s.Lookup(request(c, false))
	writes := f.kv.sets.Load()

	f.clock.Advance(30 * time.Second)
	for range 5 {
		if d := f.lookup(t, c, false); d == nil || d.LastSeen != d0.LastSeen {
			t.Fatalf("LastSeen moved within the touch interval: %+v", d)
		}
	}
	if n := f.kv.sets.Load() - writes; n != 0 {
		t.Fatalf("%d KV writes for requests within the touch interval, want 0", n)
	}

	f.clock.Advance(30 * time.Second)
	d := f.lookup(t, c, false)
	if d == nil || d.LastSeen != f.clock.Now().Unix() {
		t.Fatalf("LastSeen after the touch interval = %+v, want now", d)
	}
	if n := f.kv.sets.Load() - writes; n != 1 {
		t.Fatalf("%d KV writes after the touch interval, want 1", n)
	}
	// The refreshed LastSeen is stored, not just returned.
	if d := f.lookup(t, c, false); d == nil || d.LastSeen != f.clock.Now().Unix() {
		t.Fatalf("refreshed LastSeen not stored: %+v", d)
	}
	if n := f.kv.sets.Load() - writes; n != 1 {
		t.Fatalf("%d KV writes, want still 1", n)
	}
}

func TestUnreachableKVFailsClosed(t *testing.T) {
	f := newFixture(t, nil)
	c := f.signIn(t, false)
	f.kv.getErr = errors.New("dial tcp 127.0.0.1:6379: connection refused")

	id, d, err := f.s.Lookup(request(c, false))
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Lookup with a failing KV: err = %v, want ErrUnavailable", err)
	}
	if d != nil || id != "" {
		t.Fatalf("Lookup with a failing KV returned a session: %q %+v", id, d)
	}
	sess, err := f.s.Get(request(c, false), "mfa")
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Get with a failing KV: err = %v, want ErrUnavailable", err)
	}
	if !sess.IsNew || sess.ID != "" || DataOf(sess).Level != Anonymous {
		t.Fatalf("Get with a failing KV gave session %q at level %v", sess.ID, DataOf(sess).Level)
	}
}

func TestSaveFailureSetsNoCookie(t *testing.T) {
	f := newFixture(t, nil)
	f.kv.setErr = errors.New("connection refused")
	r := request(nil, false)
	sess, _ := f.s.New(r, "mfa")
	DataOf(sess).User = "alice"
	rec := httptest.NewRecorder()
	if err := f.s.Save(r, rec, sess); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Save with a failing KV: err = %v, want ErrUnavailable", err)
	}
	if cs := rec.Result().Cookies(); len(cs) != 0 {
		t.Fatalf("Save that failed set a cookie: %+v", cs)
	}
}

func TestNewStoreValidates(t *testing.T) {
	kv := store.NewMemoryKV()
	for name, cfg := range map[string]Config{
		"no idle":     {Lifetime: time.Hour, HashKeys: [][]byte{testKey}, Cookies: testCookies{"m"}},
		"no lifetime": {Idle: time.Minute, HashKeys: [][]byte{testKey}, Cookies: testCookies{"m"}},
		"no key":      {Idle: time.Minute, Lifetime: time.Hour, Cookies: testCookies{"m"}},
		"no policy":   {Idle: time.Minute, Lifetime: time.Hour, HashKeys: [][]byte{testKey}},
	} {
		if _, err := NewStore(cfg, kv); err == nil {
			t.Errorf("%s: NewStore succeeded", name)
		}
	}
	if _, err := NewStore(Config{Idle: time.Minute, Lifetime: time.Hour, HashKeys: [][]byte{testKey}, Cookies: testCookies{"m"}}, kv); err != nil {
		t.Fatal(err)
	}
}
