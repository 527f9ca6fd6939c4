package e2e

import (
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// TestRecoveryCodesLeftAfterUse (issue 16, item 10): a sign-in with a
// recovery code goes to a page that says how many codes are left and goes
// on to where the user was going; when three or fewer are left it asks to
// register a method again (or get new codes). In English and Japanese.
func TestRecoveryCodesLeftAfterUse(t *testing.T) {
	g := startGateway(t, gatewayOpts{})
	e := g.newBrowser().firstSignIn("alice", "/")
	for i, c := range e.Codes[:7] {
		b := g.newBrowser()
		if i%2 == 1 {
			b.lang = "ja"
		}
		expectRedirect(t, b.login("alice", testPassword, "/app/page"), "/.mfa/challenge")
		ch := b.get("/.mfa/challenge?method=recovery")
		expectStatus(t, ch, http.StatusOK)
		r := b.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"recovery"}, "code": {c}})
		expectRedirect(t, r, "/.mfa/recovery-left")
		left := 10 - (i + 1)
		p := b.get("/.mfa/recovery-left")
		expectStatus(t, p, http.StatusOK)
		want := map[string]string{"en": "You have " + strconv.Itoa(left) + " recovery codes left", "ja": "回復コードは残り " + strconv.Itoa(left) + " 個です"}[langOf(b)]
		if !strings.Contains(p.Body, want) {
			t.Fatalf("after using code %d: page lacks %q:\n%s", i+1, want, tail(p.Body, 1500))
		}
		if !strings.Contains(p.Body, `href="/app/page"`) {
			t.Fatalf("after using code %d: no way on to /app/page:\n%s", i+1, tail(p.Body, 1500))
		}
		asks := strings.Contains(p.Body, `href="/.mfa/setup"`) && strings.Contains(p.Body, `href="/.mfa/security"`)
		if asks != (left <= 3) {
			t.Fatalf("with %d codes left the page asks to register again: %v, want %v:\n%s", left, asks, left <= 3, tail(p.Body, 1500))
		}
		// The page is a GET that changes nothing: shown again, the same.
		if again := b.get("/.mfa/recovery-left"); again.Body != p.Body {
			t.Fatalf("the page changed when reloaded")
		}
	}
	// Signed in with the app, nobody is sent there.
	b := g.newBrowser()
	expectRedirect(t, b.secondSignIn("alice", e, "/app/x", 1), "/app/x")
}

func langOf(b *browser) string {
	if b.lang == "ja" {
		return "ja"
	}
	return "en"
}

// expectSignedInTo fails unless r, the answer to a second factor, leads
// to rd: at once, or, after a sign-in with a recovery code, through the
// page that says how many codes are left, whose way on is rd.
func expectSignedInTo(t *testing.T, b *browser, r *response, rd string) {
	t.Helper()
	if r.StatusCode == http.StatusSeeOther && r.Header.Get("Location") == "/.mfa/recovery-left" {
		p := b.get("/.mfa/recovery-left")
		expectStatus(t, p, http.StatusOK)
		if !strings.Contains(p.Body, `href="`+html.EscapeString(rd)+`"`) {
			t.Fatalf("the recovery-codes-left page leads elsewhere than %s:\n%s", rd, tail(p.Body, 1500))
		}
		return
	}
	expectRedirect(t, r, rd)
}
