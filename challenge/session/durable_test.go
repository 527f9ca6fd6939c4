package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/sessions"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// durableStore is a session Store on the embedded durable KV in the file
// at path, with clock c, and a function that stops it cleanly.
func durableStore(t *testing.T, path string, c *clock) (*Store, func()) {
	t.Helper()
	s, b, j := durableParts(t, path, c)
	stop := func() { _ = j.Close(); _ = b.Close() }
	t.Cleanup(stop)
	return s, stop
}

// durableParts is durableStore with its file and journal, for a test that
// stops them as a crash would.
func durableParts(t *testing.T, path string, c *clock) (*Store, *store.BoltAccounts, *store.Journal) {
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
	return s, b, j
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

// A change of level (Rotate, then Save) and a sign-out are on file when
// Save returns, though the embedded store syncs the disk once for each: a
// crash right after forgets neither, and brings back no old id.
func TestLevelChangeAndSignOutOnFileWhenSaved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "accounts.db")
	c := new(clock)
	c.ns.Store(time.Now().UnixNano())
	crash := func(b *store.BoltAccounts, j *store.Journal) {
		// Stop the file first: the journal writes nothing more.
		_ = b.Close()
		_ = j.Close()
	}
	save := func(s *Store, sess *sessions.Session) *http.Cookie {
		t.Helper()
		rec := httptest.NewRecorder()
		if err := s.Save(request(nil, false), rec, sess); err != nil {
			t.Fatal(err)
		}
		return rec.Result().Cookies()[0]
	}
	get := func(s *Store, c *http.Cookie) *sessions.Session {
		t.Helper()
		sess, err := s.Get(request(c, false), "mfa")
		if err != nil || sess.IsNew {
			t.Fatalf("session of %s: new %v, %v", c.Name, sess.IsNew, err)
		}
		return sess
	}

	s, b, j := durableParts(t, path, c)
	sess, err := s.New(request(nil, false), "mfa")
	if err != nil {
		t.Fatal(err)
	}
	d := DataOf(sess)
	d.User, d.Level = "alice", OneFactor
	one := save(s, sess)
	sess = get(s, one)
	if err := s.Rotate(context.Background(), sess); err != nil {
		t.Fatal(err)
	}
	DataOf(sess).Level = TwoFactor
	two := save(s, sess)
	crash(b, j)

	s, b, j = durableParts(t, path, c)
	f := &fixture{s: s, clock: c}
	if d := f.lookup(t, one, false); d != nil {
		t.Fatalf("the id of before the change of level came back after a crash: %+v", d)
	}
	if d := f.lookup(t, two, false); d == nil || d.Level != TwoFactor {
		t.Fatalf("session after a crash = %+v, want alice's at two factors", d)
	}
	sess = get(s, two)
	sess.Options.MaxAge = -1
	save(s, sess)
	crash(b, j)

	s, b, j = durableParts(t, path, c)
	t.Cleanup(func() { _ = j.Close(); _ = b.Close() })
	if d := (&fixture{s: s, clock: c}).lookup(t, two, false); d != nil {
		t.Fatalf("a signed-out session came back after a crash: %+v", d)
	}
	if n, err := s.RevokeUser(context.Background(), "alice"); err != nil || n != 0 {
		t.Fatalf("sessions left to sign out after a crash: %d, %v; want none", n, err)
	}
}
