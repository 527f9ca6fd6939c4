package e2e

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
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

// TestSecondFactorFailuresLockOut: wrong codes count too, so a stolen
// password cannot be followed by endless guesses at the code.
func TestSecondFactorFailuresLockOut(t *testing.T) {
	// The per-minute rate limit is raised so that the lockout is what stops it.
	g := startGateway(t, gatewayOpts{global: "limits {\n code_per_user 100/1m\n }"})
	e := g.newBrowser().firstSignIn("alice", "/")
	b := g.newBrowser()
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/challenge")
	page := b.get("/.mfa/challenge")
	// Ten wrong codes in a row lock; re-entering the password between
	// guesses does not reset the count.
	var last *response
	for i := range 11 {
		if i == 5 { // a fresh sign-in with the (stolen) password
			b = g.newBrowser()
			expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/challenge")
			page = b.get("/.mfa/challenge")
		}
		last = b.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, page.Body)}, "method": {"totp"}, "code": {"000000"}})
		if i < 10 {
			expectStatus(t, last, http.StatusUnauthorized)
			page = last
		}
	}
	expectStatus(t, last, http.StatusTooManyRequests)
	// Even the right code is refused while locked.
	ch := b.get("/.mfa/challenge")
	r := b.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"totp"}, "code": {code(t, e.Secret, time.Now().Add(30*time.Second))}})
	expectStatus(t, r, http.StatusTooManyRequests)
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
