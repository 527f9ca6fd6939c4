package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// sessionCookieAt makes a session for user at level and returns its cookie.
func sessionCookieAt(tb testing.TB, h *Handler, user string, level session.Level) *http.Cookie {
	tb.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	sess, err := h.app.engine.Sessions.New(req, "mfa")
	if err != nil {
		tb.Fatal(err)
	}
	d := session.DataOf(sess)
	d.User, d.Level = user, level
	rec := httptest.NewRecorder()
	if err := h.app.engine.Sessions.Save(req, rec, sess); err != nil {
		tb.Fatal(err)
	}
	return rec.Result().Cookies()[0]
}

// withReplacer gives req a replacer in its context, as Caddy's server does.
func withReplacer(req *http.Request) (*http.Request, *caddy.Replacer) {
	repl := caddy.NewReplacer()
	return req.WithContext(context.WithValue(req.Context(), caddy.ReplacerCtxKey, repl)), repl
}

// userPlaceholderNames are the {http.auth.user.*} placeholders the handler sets.
var userPlaceholderNames = []string{"id", "name", "email", "groups", "method"}

// servePlaceholders runs req through h and returns the placeholders the
// next handler saw (nil if the request did not pass), and those the
// replacer holds when the request is done (what the access log reads).
func servePlaceholders(t *testing.T, h *Handler, req *http.Request) (seen, after map[string]string) {
	t.Helper()
	req, repl := withReplacer(req)
	read := func() map[string]string {
		m := map[string]string{}
		for _, k := range userPlaceholderNames {
			if v, ok := repl.GetString("http.auth.user." + k); ok {
				m[k] = v
			}
		}
		return m
	}
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		seen = read()
		return nil
	})
	if err := h.ServeHTTP(httptest.NewRecorder(), req, next); err != nil {
		t.Fatal(err)
	}
	return seen, read()
}

func expectPlaceholders(t *testing.T, what string, got map[string]string, method string) {
	t.Helper()
	want := map[string]string{"id": "alice", "name": "Alice", "email": "a@example.com", "groups": "staff", "method": method}
	if got == nil {
		t.Fatalf("%s: the request did not pass", what)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: {http.auth.user.%s} = %q, want %q", what, k, got[k], v)
		}
	}
}

// TestHandlerSetsUserPlaceholders: every request that passes sets Caddy's
// {http.auth.user.*} placeholders, which later handlers and the access log
// (user_id) read: a two-factor session, a password-only session on a
// one_factor route or from a trusted network, an app password. A request that does not pass sets
// none.
func TestHandlerSetsUserPlaceholders(t *testing.T) {
	h := testHandler(t, &Handler{})
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.AddCookie(signedInCookie(t, h, "alice"))
	seen, after := servePlaceholders(t, h, req)
	expectPlaceholders(t, "two-factor session", seen, "two_factor")
	expectPlaceholders(t, "two-factor session, when done", after, "two_factor")

	one := testHandler(t, &Handler{Policy: "one_factor"})
	req = httptest.NewRequest(http.MethodGet, "/x", nil)
	req.AddCookie(sessionCookieAt(t, one, "alice", session.OneFactor))
	seen, _ = servePlaceholders(t, one, req)
	expectPlaceholders(t, "password-only session on a one_factor route", seen, "password")

	trusted := testHandler(t, &Handler{TrustedNetworks: []string{"192.0.2.0/24"}})
	req = httptest.NewRequest(http.MethodGet, "/x", nil)
	req.RemoteAddr = "192.0.2.7:40000"
	req.AddCookie(sessionCookieAt(t, trusted, "alice", session.OneFactor))
	seen, _ = servePlaceholders(t, trusted, req)
	expectPlaceholders(t, "password-only session from a trusted network", seen, "password")

	// The same session on a two-factor route does not pass, and sets nothing.
	req = httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Header.Set("Accept", "application/json")
	req.AddCookie(sessionCookieAt(t, h, "alice", session.OneFactor))
	seen, after = servePlaceholders(t, h, req)
	if seen != nil || len(after) != 0 {
		t.Errorf("a request that did not pass: placeholders %v, then %v", seen, after)
	}

	ap := appPasswordHandler(t, nil)
	secret, err := ap.app.engine.CreateAppPassword(context.Background(), "alice", "dav")
	if err != nil {
		t.Fatal(err)
	}
	req = httptest.NewRequest(http.MethodGet, "/dav", nil)
	req.SetBasicAuth("alice", secret)
	seen, _ = servePlaceholders(t, ap, req)
	expectPlaceholders(t, "app password", seen, "app_password")
}

// BenchmarkUserPlaceholders is the cost of the placeholders on the hot
// path: each op is a new replacer (as Caddy makes per request), with and
// without the five placeholders set on it.
func BenchmarkUserPlaceholders(b *testing.B) {
	u := &users.User{Name: "alice", DisplayName: "Alice", Email: "a@example.com"}
	req, repl := withReplacer(httptest.NewRequest(http.MethodGet, "/", nil))
	b.Run("replacer only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			*repl = *caddy.NewReplacer()
			repl.Map(httpVarsStandIn)
		}
	})
	b.Run("with placeholders", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			*repl = *caddy.NewReplacer()
			repl.Map(httpVarsStandIn)
			setUserPlaceholders(req, u, methodTwoFactor)
		}
	})
}

// TestUserPlaceholdersPrecedence: what an earlier handler set under
// http.auth.user. (basic_auth's user and metadata) gives way to the mfa
// user; what a later one sets (vars http.auth.user.id ...) wins, as it
// does over Caddy's own authentication; ReplaceAll sees the values too.
func TestUserPlaceholdersPrecedence(t *testing.T) {
	h := testHandler(t, &Handler{})
	req, repl := withReplacer(httptest.NewRequest(http.MethodGet, "/x", nil))
	req.AddCookie(signedInCookie(t, h, "alice"))
	repl.Set("http.auth.user.id", "bob")
	repl.Set("http.auth.user.role", "admin")
	var seen string
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		seen = repl.ReplaceAll("{http.auth.user.id} <{http.auth.user.email}> {http.auth.user.method} [{http.auth.user.role}]", "-")
		return nil
	})
	if err := h.ServeHTTP(httptest.NewRecorder(), req, next); err != nil {
		t.Fatal(err)
	}
	if want := "alice <a@example.com> two_factor [-]"; seen != want {
		t.Errorf("after an earlier handler's user: %q, want %q", seen, want)
	}
	repl.Set("http.auth.user.id", "carol")
	if v, _ := repl.GetString("http.auth.user.id"); v != "carol" {
		t.Errorf("a later Set: http.auth.user.id = %q, want carol", v)
	}
	if _, ok := repl.Get("http.auth.user.other"); ok {
		t.Error("an unknown http.auth.user placeholder is known")
	}
}
