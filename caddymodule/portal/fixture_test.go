package portal

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/cookies"
	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
	"github.com/caddy-mfa/caddy-mfa/challenge/seal"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/challenge/totp"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// testPortal is a portal on the embedded in-memory stores, with users
// alice (no second factor yet) and bob (an authenticator app), and the
// authenticator app as the one method offered.
func testPortal(tb testing.TB) *Portal {
	tb.Helper()
	hash, err := users.HashPassword("pw", users.DefaultArgon2)
	if err != nil {
		tb.Fatal(err)
	}
	yml := "users:\n  alice:\n    displayname: Alice\n    password: \"" + hash + "\"\n  bob:\n    password: \"" + hash + "\"\n"
	return testPortalUsers(tb, yml, users.Options{})
}

// testPortalUsers is testPortal with the users file yml (which must list
// bob) read with opts.
func testPortalUsers(tb testing.TB, yml string, opts users.Options) *Portal {
	tb.Helper()
	dir := tb.TempDir()
	uf := filepath.Join(dir, "users.yml")
	if err := os.WriteFile(uf, []byte(yml), 0o600); err != nil {
		tb.Fatal(err)
	}
	db, err := users.Open(uf, opts)
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := seal.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	kv := store.NewMemoryKV()
	pol := cookies.New("", "", false, false)
	sessions, err := session.NewStore(session.Config{Cookies: pol.SessionCookies(), Idle: time.Hour, Lifetime: 2 * time.Hour,
		HashKeys: [][]byte{keys.CookieHashKey()}}, kv)
	if err != nil {
		tb.Fatal(err)
	}
	var tc totp.Config
	tc.Defaults()
	e := &challenge.Engine{Users: db, Accounts: store.NewMemoryAccounts(), Sessions: sessions, Keys: keys, TOTP: tc,
		Methods: []string{challenge.MethodTOTP}, Now: time.Now, KV: kv,
		Regulation: regulation.New(regulation.DefaultLimits(), limit.NewMemory(), kv, time.Now)}
	err = e.Accounts.Update(context.Background(), "bob", func(a *store.Account) error {
		a.TOTP = &store.TOTP{Added: time.Now()}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	r, err := ui.New()
	if err != nil {
		tb.Fatal(err)
	}
	p, err := New(Config{Engine: e, Renderer: r, Events: events.New(zap.NewNop()), Prefix: "/.mfa/", Org: "Example",
		Held:    func(http.ResponseWriter, *http.Request) bool { return false },
		Cookies: pol, Pages: &Pages{Renderer: r, Org: "Example", Prefix: "/.mfa/", Logger: zap.NewNop(),
			BusyRetry: func() time.Duration { return time.Second }}})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// testSession saves a session of user at level, its second factor given
// secondFactorAge seconds ago, and returns its cookie and id.
func testSession(tb testing.TB, p *Portal, user string, level session.Level, secondFactorAge int64) (*http.Cookie, string) {
	tb.Helper()
	st := p.engine.Sessions
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	sess, err := st.New(req, "mfa")
	if err != nil {
		tb.Fatal(err)
	}
	d := session.DataOf(sess)
	d.User, d.Level, d.Return = user, level, "/first"
	if level == session.TwoFactor {
		d.SecondFactorAt = st.Now().Unix() - secondFactorAge
	}
	rec := httptest.NewRecorder()
	if err := st.Save(req, rec, sess); err != nil {
		tb.Fatal(err)
	}
	return rec.Result().Cookies()[0], sess.ID
}

// staleAge is the age in seconds of a second factor too old for a change.
const staleAge = int64(challenge.StepUpAge/time.Second) + 60

// sessionState is a state a browser's session can be in.
type sessionState struct {
	name  string
	user  string
	level session.Level
	age   int64 // of the second factor, in seconds
}

// sessionStates are the states the portal tests walk: bob has an
// authenticator app, alice nothing yet.
func sessionStates() []sessionState {
	return []sessionState{
		{name: "anonymous"},
		{name: "password, nothing registered", user: "alice", level: session.OneFactor},
		{name: "password, app registered", user: "bob", level: session.OneFactor},
		{name: "signed in", user: "bob", level: session.TwoFactor, age: 60},
		{name: "signed in, stale second factor", user: "bob", level: session.TwoFactor, age: staleAge},
		{name: "registering another method", user: "alice", level: session.TwoFactor, age: 60},
	}
}
