package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/internal/ntfytest"
)

// A blocked or locked-out user is told so only after the right password
// (issue 14, item 10): with a wrong one, the answer is the one an unknown
// user name gets, so the sign-in page does not tell who exists, who was
// reported for fraud, or whose second factor someone is guessing.

// answerShape is what a client sees of a sign-in answer, with what differs
// by request alone masked: the CSRF token, the user name typed in, the
// values of cookies.
func answerShape(t *testing.T, r *response, typed string) string {
	t.Helper()
	body := csrfRE.ReplaceAllString(r.Body, `name="csrf" value="CSRF"`)
	body = strings.ReplaceAll(body, `value="`+typed+`"`, `value="NAME"`)
	var cookies []string
	for _, c := range r.Cookies() {
		cookies = append(cookies, c.Name)
	}
	sort.Strings(cookies)
	return fmt.Sprintf("status %d\ncontent-type %q\nretry-after %q\ncookies %v\n%s",
		r.StatusCode, r.Header.Get("Content-Type"), r.Header.Get("Retry-After"), cookies, body)
}

// sameAsUnknown fails unless a wrong password for user gets the answer a
// wrong password for an unknown name gets (each from a fresh browser).
func sameAsUnknown(t *testing.T, g *gateway, user string) {
	t.Helper()
	known := g.newBrowser().login(user, "wrong password", "/")
	unknown := g.newBrowser().login("nobody-here", "wrong password", "/")
	if a, b := answerShape(t, known, user), answerShape(t, unknown, "nobody-here"); a != b {
		t.Fatalf("a wrong password for %s is answered unlike one for an unknown name:\n%s\n--- unknown name:\n%s", user, tail(a, 3000), tail(b, 3000))
	}
	expectStatus(t, known, http.StatusUnauthorized)
}

// TestHardeningBlockedUserNotIdentifiable: after a fraud report, a wrong
// password for the blocked user is answered as for an unknown name; the
// right password is told of the block.
func TestHardeningBlockedUserNotIdentifiable(t *testing.T) {
	f := ntfytest.New(t, ntfyToken)
	g, _ := startPhoneGateway(t, ntfyBlock(f))
	topic, _ := g.newBrowser().enrolPush(f, "alice")
	attacker := g.newBrowser()
	attacker.sendPush("alice")
	msg := f.WaitMessage(t, topic, sendTimeout)
	expectStatus(t, newPhone(t).answer(msg.Click, "fraud", ""), http.StatusOK)

	sameAsUnknown(t, g, "alice")
	blocked := g.newBrowser().login("alice", testPassword, "/")
	expectStatus(t, blocked, http.StatusForbidden)
	expectText(t, blocked, "Sign-in to this account is blocked")
	// Nor does the attacker's half-done sign-in get further.
	expectStatus(t, attacker.finishWait("/.mfa/challenge/push"), http.StatusForbidden)
}

// TestHardeningCodeLockedUserNotIdentifiable: a user locked out after wrong
// second-factor codes is told so only after the right password.
func TestHardeningCodeLockedUserNotIdentifiable(t *testing.T) {
	g := startGateway(t, gatewayOpts{global: limitsBlock("code_per_user 100/1m")})
	g.newBrowser().firstSignIn("bob", "/")
	b := g.newBrowser()
	expectRedirect(t, b.login("bob", testPassword, "/"), "/.mfa/challenge")
	var last *response
	for range 11 { // the tenth wrong code locks
		page := b.get("/.mfa/challenge")
		last = b.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, page.Body)}, "method": {"totp"}, "code": {"000000"}})
	}
	expectStatus(t, last, http.StatusTooManyRequests)

	sameAsUnknown(t, g, "bob")
	locked := g.newBrowser().login("bob", testPassword, "/")
	expectStatus(t, locked, http.StatusTooManyRequests)
	expectText(t, locked, "Too many attempts")
}
