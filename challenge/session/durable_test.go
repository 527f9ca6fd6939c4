package session

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// durableStore is a session Store on the embedded durable KV in the file
// at path, with clock c, and a function that stops it cleanly.
func durableStore(t *testing.T, path string, c *clock) (*Store, func()) {
	t.Helper()
	b, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	j := store.NewJournal(b, func(err error) { t.Logf("lazy commit: %v", err) })
	kv, err := store.OpenDurableKV(j, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	kv.SetClock(c.Now)
	s, err := NewStore(Config{CookieName: "mfa_test", Cookies: testCookies{"mfa_test"}, Idle: idle, Lifetime: lifetime, HashKeys: [][]byte{testKey}}, kv)
	if err != nil {
		t.Fatal(err)
	}
	s.SetClock(c.Now)
	stop := func() { _ = j.Close(); _ = b.Close() }
	t.Cleanup(stop)
	return s, stop
}

// With the embedded store, sessions outlive a restart: the session, its
// refreshed idle time and the per-user index that "sign out everywhere"
// uses.
func TestSessionsSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "accounts.db")
	c := new(clock)
	c.ns.Store(time.Now().UnixNano())
	s, stop := durableStore(t, path, c)
	f := &fixture{s: s, clock: c}
	cookie := f.signIn(t, false)
	c.Advance(idle / 2) // past the touch interval: this lookup refreshes LastSeen
	if d := f.lookup(t, cookie, false); d == nil {
		t.Fatal("no session before the restart")
	}
	stop()

	s2, stop2 := durableStore(t, path, c)
	f2 := &fixture{s: s2, clock: c}
	// 1.3 idle timeouts after sign-in, 0.8 after the refresh: live only
	// if the refresh outlived the restart too.
	c.Advance(idle * 8 / 10)
	d := f2.lookup(t, cookie, false)
	if d == nil || d.User != "alice" || d.Level != TwoFactor {
		t.Fatalf("session after a restart = %+v; want alice's, two factors", d)
	}
	if n, err := s2.RevokeUser(context.Background(), "alice"); err != nil || n != 1 {
		t.Fatalf("sign out everywhere after a restart ended %d sessions, %v; want 1", n, err)
	}
	stop2()
	s3, _ := durableStore(t, path, c)
	if d := (&fixture{s: s3, clock: c}).lookup(t, cookie, false); d != nil {
		t.Fatal("a session signed out everywhere came back after another restart")
	}
}
