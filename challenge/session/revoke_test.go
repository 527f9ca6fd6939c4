package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// testRevokeUser: "sign out everywhere" ends every session of one user and
// no other, whichever store holds them.
func testRevokeUser(t *testing.T, kv store.KV) {
	s, err := NewStore(Config{CookieName: "m", Cookies: testCookies{"m"}, Idle: time.Hour, Lifetime: 2 * time.Hour, HashKeys: [][]byte{testKey}}, kv)
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(user string) *http.Cookie {
		r := request(nil, false)
		sess, _ := s.New(r, "mfa")
		d := DataOf(sess)
		d.User, d.Level = user, TwoFactor
		rec := httptest.NewRecorder()
		if err := s.Save(r, rec, sess); err != nil {
			t.Fatal(err)
		}
		return onlyCookie(t, rec)
	}
	live := func(c *http.Cookie) bool {
		_, d, err := s.Lookup(request(c, false))
		if err != nil {
			t.Fatal(err)
		}
		return d != nil
	}
	a1, a2, b := signIn("alice"), signIn("alice"), signIn("bob")

	// A rotated-away id leaves the index: a3's old id is not counted.
	r := request(signIn("alice"), false)
	sess, _ := s.New(r, "mfa")
	if err := s.Rotate(context.Background(), sess); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if err := s.Save(r, rec, sess); err != nil {
		t.Fatal(err)
	}
	a3 := onlyCookie(t, rec)

	n, err := s.RevokeUser(context.Background(), "alice")
	if err != nil || n != 3 {
		t.Fatalf("RevokeUser = %d, %v; want 3", n, err)
	}
	for i, c := range []*http.Cookie{a1, a2, a3} {
		if live(c) {
			t.Errorf("alice's session %d survived", i+1)
		}
	}
	if !live(b) {
		t.Error("bob's session ended too")
	}
	if n, err := s.RevokeUser(context.Background(), "alice"); err != nil || n != 0 {
		t.Fatalf("second RevokeUser = %d, %v", n, err)
	}
}

func TestRevokeUserMemory(t *testing.T) { testRevokeUser(t, store.NewMemoryKV()) }

func TestRevokeUserRedis(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	testRevokeUser(t, store.NewRedisKV(rdb, prefix))
}

// racingKV deletes a session key right after a Get has read it: a sign-out
// or revocation landing while a request is in flight.
type racingKV struct{ store.KV }

func (k racingKV) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := k.KV.Get(ctx, key)
	if err == nil && strings.HasPrefix(key, "session:") {
		_ = k.KV.Delete(ctx, key)
	}
	return v, err
}

// A request in flight that refreshes LastSeen must not bring back a
// session deleted meanwhile.
func TestTouchDoesNotReviveADeletedSession(t *testing.T) {
	f := newFixture(t, nil)
	c := f.signIn(t, false)
	f.clock.Advance(idle / 2) // past the touch interval
	racing, err := NewStore(f.s.cfg, racingKV{f.mem})
	if err != nil {
		t.Fatal(err)
	}
	racing.SetClock(f.clock.Now)
	if _, d, err := racing.Lookup(request(c, false)); err != nil || d != nil {
		t.Fatalf("lookup of a session deleted mid-request = %+v, %v; want none", d, err)
	}
	if d := f.lookup(t, c, false); d != nil {
		t.Fatal("the refresh of LastSeen brought the deleted session back")
	}
}
