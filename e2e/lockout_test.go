package e2e

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// TestLockoutEmbedded: with the embedded stores, five wrong passwords lock
// the user out; while locked, the right and a wrong password get the same
// answer; `caddy mfa unlock` lifts it.
func TestLockoutEmbedded(t *testing.T) {
	g := startGateway(t, gatewayOpts{})
	for range 5 {
		expectStatus(t, g.newBrowser().login("alice", "wrong", "/"), http.StatusUnauthorized)
	}
	right := g.newBrowser().login("alice", testPassword, "/")
	wrong := g.newBrowser().login("alice", "wrong again", "/")
	for _, r := range []*response{right, wrong} {
		expectStatus(t, r, http.StatusTooManyRequests)
	}
	if right.Body != wrong.Body {
		t.Fatalf("a locked user can tell a right password from a wrong one:\n%s\n---\n%s", right.Body, wrong.Body)
	}
	// Retry-After counts down in seconds; the two answers came moments apart.
	ra, _ := strconv.Atoi(right.Header.Get("Retry-After"))
	wa, _ := strconv.Atoi(wrong.Header.Get("Retry-After"))
	if ra <= 0 || wa <= 0 || ra-wa > 2 || wa-ra > 2 {
		t.Fatalf("Retry-After %q vs %q", right.Header.Get("Retry-After"), wrong.Header.Get("Retry-After"))
	}
	// Other users are not affected.
	expectRedirect(t, g.newBrowser().login("bob", testPassword, "/"), "/.mfa/setup")

	out, err := g.cliWithConfig("mfa", "unlock", "alice")
	if err != nil || !strings.Contains(out, `"was_locked":true`) {
		t.Fatalf("unlock: %v %s", err, out)
	}
	expectRedirect(t, g.newBrowser().login("alice", testPassword, "/"), "/.mfa/setup")
}

// TestRateLimitPerIP: a client hammering the login form with many user
// names is slowed down before any password hashing.
func TestRateLimitPerIP(t *testing.T) {
	g := startGateway(t, gatewayOpts{global: "limits {\n login_per_ip 4/1m\n }"})
	b := g.newBrowser()
	page := b.get("/.mfa/login")
	var last *response
	for i := range 5 {
		last = b.post("/.mfa/login", url.Values{"csrf": {csrfOf(t, page.Body)}, "username": {"user" + string(rune('a'+i))}, "password": {"x"}})
	}
	expectStatus(t, last, http.StatusTooManyRequests)
	if !strings.Contains(last.Body, "Too many attempts") {
		t.Fatalf("429 page:\n%s", last.Body)
	}
}
