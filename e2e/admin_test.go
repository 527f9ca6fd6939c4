package e2e

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestAdminUsersResetBypass: `caddy mfa users` lists methods, lockouts and
// last sign-ins; `caddy mfa bypass` lets a user in once with the password
// alone, within at most an hour; `caddy mfa reset` ends the user's sessions
// and makes them register again.
func TestAdminUsersResetBypass(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gatewayOpts{})
	a := g.newBrowser()
	a.firstSignIn("alice", "/")
	a.signedIn("alice", "/")
	// bob's address is locked out by wrong passwords (bob is not: from
	// elsewhere, or a browser he signed in with, he still signs in).
	for range 5 {
		g.newBrowser().login("bob", "wrong password", "/")
	}

	out, err := g.cli("mfa", "users")
	if err != nil {
		t.Fatalf("caddy mfa users: %v\n%s", err, out)
	}
	for _, re := range []string{
		`(?m)^USER\s+METHODS\s+LOCKED\s+LAST SIGN-IN$`,
		`(?m)^alice\s+totp\s+no\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`,
		`(?m)^bob\s+\(none\)\s+some addresses\s+never$`,
		`(?m)^carol \(disabled\)\s+\(none\)\s+no\s+never$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("caddy mfa users lacks %s:\n%s", re, out)
		}
	}
	out, err = g.cli("mfa", "users", "--json")
	var list []struct {
		User    string   `json:"user"`
		Methods []string `json:"methods"`
		Locked  bool     `json:"locked"`
		Sources []string `json:"locked_sources"`
	}
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list) != 3 || list[0].User != "alice" ||
		list[1].Locked || len(list[1].Sources) != 1 || list[1].Sources[0] != "addresses" {
		t.Fatalf("caddy mfa users --json: %v\n%s", err, out)
	}

	// A pass: refused beyond an hour and for unknown users; used once.
	if out, err := g.cli("mfa", "bypass", "alice", "2h"); err == nil || !strings.Contains(out, "at most 1h") {
		t.Errorf("bypass for 2h: %v %s", err, out)
	}
	if out, err := g.cli("mfa", "bypass", "mallory", "10m"); err == nil || !strings.Contains(out, "no such user") {
		t.Errorf("bypass for an unknown user: %v %s", err, out)
	}
	out, err = g.cli("mfa", "bypass", "alice", "10m")
	if err != nil || !strings.Contains(out, `"bypass_until"`) {
		t.Fatalf("caddy mfa bypass: %v %s", err, out)
	}
	if len(g.waitLog("bypass_granted", `"user":"alice"`)) == 0 {
		t.Error("the pass is not in the log")
	}
	p := g.newBrowser()
	expectRedirect(t, p.login("alice", testPassword, "/docs"), "/docs")
	p.signedIn("alice", "/docs")
	if lines := g.waitLog("bypass_used", `"user":"alice"`); len(lines) != 1 || !strings.Contains(lines[0], `"level":"warn"`) {
		t.Errorf("bypass_used log lines: %q", lines)
	}
	// Used up: the next sign-in asks for the second factor again.
	expectRedirect(t, g.newBrowser().login("alice", testPassword, "/"), "/.mfa/challenge")
	// A wrong password never uses a pass.
	if _, err := g.cli("mfa", "bypass", "alice", "10m"); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, g.newBrowser().login("alice", "wrong password", "/"), http.StatusUnauthorized)
	expectRedirect(t, g.newBrowser().login("alice", testPassword, "/"), "/")

	// Reset: every session ends, and alice registers again.
	out, err = g.cli("mfa", "reset", "alice")
	if err != nil || !strings.Contains(out, `"sessions_ended":`) || strings.Contains(out, `"sessions_ended":0`) {
		t.Fatalf("caddy mfa reset: %v %s", err, out)
	}
	a.notSignedIn("/")
	p.notSignedIn("/docs")
	expectRedirect(t, g.newBrowser().login("alice", testPassword, "/"), "/.mfa/setup")
	if out, _ := g.cli("mfa", "users"); !regexp.MustCompile(`(?m)^alice\s+\(none\)`).MatchString(out) {
		t.Errorf("after reset, caddy mfa users says:\n%s", out)
	}
	if lines := g.waitLog("user_reset", `"user":"alice"`); len(lines) != 1 || !strings.Contains(lines[0], `"level":"warn"`) {
		t.Errorf("user_reset log lines: %q", lines)
	}
}
