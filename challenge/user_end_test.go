package challenge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// endFixture is a fixture with a users file, sessions and a KV.
func endFixture(t *testing.T, usersFile string) *fixture {
	t.Helper()
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "users.yml")
	if err := os.WriteFile(path, []byte(usersFile), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := users.Open(path, users.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kv := store.NewMemoryKV()
	kv.SetClock(f.clock.Now)
	s, err := session.NewStore(session.Config{Cookies: testSessionCookies{}, Idle: time.Hour, Lifetime: 12 * time.Hour, HashKeys: [][]byte{make([]byte, 32)}}, kv)
	if err != nil {
		t.Fatal(err)
	}
	s.SetClock(f.clock.Now)
	f.e.Users, f.e.Sessions, f.e.KV = db, s, kv
	return f
}

// signIn makes a two-factor session of user and returns its cookie.
func (f *fixture) signIn(t *testing.T, user string) *http.Cookie {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	sess, err := f.e.Sessions.New(r, "mfa")
	if err != nil {
		t.Fatal(err)
	}
	d := session.DataOf(sess)
	d.User, d.Level = user, session.TwoFactor
	w := httptest.NewRecorder()
	if err := f.e.Sessions.Save(r, w, sess); err != nil {
		t.Fatal(err)
	}
	return w.Result().Cookies()[0]
}

func (f *fixture) sessionUser(t *testing.T, c *http.Cookie) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(c)
	_, d, err := f.e.Sessions.Lookup(r)
	if err != nil {
		t.Fatal(err)
	}
	if d == nil {
		return ""
	}
	return d.User
}

const endUsersFile = "users:\n  alice:\n    password: \"$2a$04$uJrQ9M3n8y9a8g5m6i0a0eQb7D1yB1sXbUoQ8dC6rG0cW9j1d2n3a\"\n" +
	"  bob:\n    password: \"$2a$04$uJrQ9M3n8y9a8g5m6i0a0eQb7D1yB1sXbUoQ8dC6rG0cW9j1d2n3a\"\n"

// EndUser ends every session, device, app password and waiting pass of a
// user, keeps their second factors, leaves other users alone, and a second
// run finds nothing and is no error.
func TestEndUser(t *testing.T) {
	ctx := context.Background()
	f := endFixture(t, endUsersFile)
	secret, _ := f.enrol(t, "alice")
	pw, err := f.e.CreateAppPassword(ctx, "alice", "Mail")
	if err != nil {
		t.Fatal(err)
	}
	// A remembered device, written as RememberDevice writes one.
	token := strings.Repeat("d", DeviceTokenLen)
	if err := f.e.Accounts.Update(ctx, "alice", func(a *store.Account) error {
		now := f.clock.Now()
		a.Devices = append(a.Devices, store.Device{ID: "d1", Name: "Firefox", Hash: f.e.deviceHash("alice", token),
			Created: now, LastUsed: now, Expires: now.Add(14 * 24 * time.Hour)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.e.RememberedDevice(ctx, "alice", token); !ok || err != nil {
		t.Fatalf("the device is not remembered before: %v, %v", ok, err)
	}
	if err := f.e.GrantBypass(ctx, "alice", time.Hour); err != nil {
		t.Fatal(err)
	}
	c1, c2, bobs := f.signIn(t, "alice"), f.signIn(t, "alice"), f.signIn(t, "bob")
	bobPW, err := f.e.CreateAppPassword(ctx, "bob", "Mail")
	if err != nil {
		t.Fatal(err)
	}

	x, err := f.e.EndUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if want := (EndedAccess{Sessions: 2, Devices: 1, AppPasswords: 1, Pass: true}); x != want {
		t.Fatalf("EndUser = %+v, want %+v", x, want)
	}
	if f.sessionUser(t, c1) != "" || f.sessionUser(t, c2) != "" {
		t.Error("a session of alice survived")
	}
	if name, _, _ := f.e.CheckAppPassword(ctx, "alice", pw); name != "" {
		t.Error("alice's app password still works")
	}
	if ok, _ := f.e.RememberedDevice(ctx, "alice", token); ok {
		t.Error("alice's device is still remembered")
	}
	if ok, _ := f.e.TakeBypass(ctx, "alice"); ok {
		t.Error("alice's pass is still waiting")
	}
	if a := f.account(t, "alice"); a.TOTP == nil || len(a.RecoveryCodes) != 10 {
		t.Error("alice's second factors were removed; they must stay")
	}
	f.clock.Advance(30 * time.Second)
	if err := f.e.CheckTOTP(ctx, "alice", f.code(t, secret)); err != nil {
		t.Errorf("alice's app no longer works: %v", err)
	}
	if f.sessionUser(t, bobs) != "bob" {
		t.Error("bob's session ended with alice's")
	}
	if name, _, _ := f.e.CheckAppPassword(ctx, "bob", bobPW); name == "" {
		t.Error("bob's app password ended with alice's")
	}

	// Again (another gateway, a retry): nothing left, no error.
	if x, err := f.e.EndUser(ctx, "alice"); err != nil || x.Any() {
		t.Fatalf("second EndUser = %+v, %v; want nothing and no error", x, err)
	}
	// A user with no account at all: nothing, and no account is made.
	if x, err := f.e.EndUser(ctx, "nobody"); err != nil || x.Any() {
		t.Fatalf("EndUser of a user with no account = %+v, %v", x, err)
	}
	if f.account(t, "nobody") != nil {
		t.Error("EndUser created an account")
	}
}
