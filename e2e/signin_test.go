package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestFirstAndSecondSignIn walks the whole first sign-in (password,
// enrolment, first code, recovery codes, upstream reached with identity
// headers), signs out, and signs in again with password and code.
func TestFirstAndSecondSignIn(t *testing.T) {
	g := startGateway(t, gatewayOpts{route: "allow_groups staff"})
	b := g.newBrowser()

	// An unauthenticated navigation goes to the portal, keeping the path.
	r := b.get("/reports/q3?year=2026")
	expectRedirect(t, r, "/.mfa/login?rd=%2Freports%2Fq3%3Fyear%3D2026")
	if _, hits := g.Upstream.Last(); hits != 0 {
		t.Fatal("upstream reached before sign-in")
	}

	login := b.get("/.mfa/login?rd=%2Freports%2Fq3%3Fyear%3D2026")
	expectStatus(t, login, http.StatusOK)
	for _, want := range []string{`autocomplete="username"`, `autocomplete="current-password"`, `E2E Corp`} {
		if !strings.Contains(login.Body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	for h, want := range map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
		if got := login.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if csp := login.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("weak CSP %q", csp)
	}

	e := b.firstSignIn("alice", "/reports/q3?year=2026")
	afterEnrol := b.sessionCookie()

	// The recovery page's button returns to the page first asked for.
	r = b.get("/reports/q3?year=2026", "Remote-User", "mallory", "remote_user", "mallory", "Remote-Groups", "admins")
	expectStatus(t, r, http.StatusOK)
	h, _ := g.Upstream.Last()
	for name, want := range map[string]string{
		"Remote-User": "alice", "Remote-Groups": "admins,staff",
		"Remote-Name": "Alice Example", "Remote-Email": "alice@example.com",
	} {
		if got := h.Values(name); len(got) != 1 || got[0] != want {
			t.Errorf("upstream got %s = %q, want %q", name, got, want)
		}
	}
	if v := h.Values("Remote_user"); len(v) != 0 {
		t.Errorf("client-sent Remote_User reached the upstream: %q", v)
	}
	if strings.Contains(h.Get("Cookie"), "caddy_mfa=") {
		t.Errorf("the gateway's session cookie reached the upstream: %q", h.Get("Cookie"))
	}

	// Sign out, then the app is closed again.
	page := b.get("/.mfa/challenge") // any portal page renders a sign-out form
	expectRedirect(t, page, "/reports/q3?year=2026")
	login = b.get("/.mfa/login")
	expectRedirect(t, login, "/")
	home := b.get("/")
	expectStatus(t, home, http.StatusOK)
	account := b.get("/.mfa/")
	expectStatus(t, account, http.StatusOK)
	out := b.follow(b.post("/.mfa/logout", url.Values{"csrf": {csrfOf(t, account.Body)}}))
	expectStatus(t, out, http.StatusOK)
	expectRedirect(t, b.get("/reports/q3"), "/.mfa/login?rd=%2Freports%2Fq3")

	// Second sign-in: password, then a code.
	r = b.secondSignIn("alice", e, "/wiki", 1)
	expectRedirect(t, r, "/wiki")
	if b.sessionCookie() == afterEnrol {
		t.Fatal("session id reused across sign-ins")
	}
	expectStatus(t, b.get("/wiki"), http.StatusOK)
	if h, _ := g.Upstream.Last(); h.Get("Remote-User") != "alice" {
		t.Fatalf("upstream got Remote-User %q after second sign-in", h.Get("Remote-User"))
	}
}
