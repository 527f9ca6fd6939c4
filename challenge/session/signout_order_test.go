package session

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// flakyDeferringKV is the embedded KV (a Deferrer) whose durable Delete of
// a session fails, as a journal commit does on a disk error.
type flakyDeferringKV struct {
	*store.MemoryKV
	fail bool
}

func (k *flakyDeferringKV) Delete(ctx context.Context, key string) error {
	if k.fail && strings.HasPrefix(key, "session:") {
		return errors.New("disk I/O error")
	}
	return k.MemoryKV.Delete(ctx, key)
}

// A sign-out that fails on the store leaves the session where "sign out
// everywhere" (RevokeUser) finds it: the session goes before its entry in
// the index (a stale entry is harmless, a missing one hides a live
// session from revocation).
func TestFailedSignOutLeavesTheSessionInItsIndex(t *testing.T) {
	c := new(clock)
	c.ns.Store(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	mem := store.NewMemoryKV()
	mem.SetClock(c.Now)
	kv := &flakyDeferringKV{MemoryKV: mem}
	s, err := NewStore(Config{CookieName: "mfa_test", Cookies: testCookies{"mfa_test"}, Idle: idle, Lifetime: lifetime, HashKeys: [][]byte{testKey}}, kv)
	if err != nil {
		t.Fatal(err)
	}
	s.SetClock(c.Now)
	f := &fixture{s: s, clock: c}
	cookie := f.signIn(t, false) // alice, two factors

	// Sign-out, with the store failing: the user gets the 503 page.
	sess, err := s.Get(request(cookie, false), "mfa")
	if err != nil || sess.IsNew {
		t.Fatal(err)
	}
	sess.Options.MaxAge = -1
	kv.fail = true
	if err := s.Save(request(cookie, false), httptest.NewRecorder(), sess); err == nil {
		t.Fatal("sign-out did not fail")
	}
	kv.fail = false

	// The user (or the admin) then signs out everywhere.
	n, err := s.RevokeUser(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if d := f.lookup(t, cookie, false); d != nil {
		t.Fatalf("after a failed sign-out and a successful sign-out-everywhere (%d ended), the session is still live: %+v", n, d)
	}
}
