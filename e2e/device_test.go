package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"
)

var deviceIDRE = regexp.MustCompile(`action="/.mfa/security/devices/forget">\s*<input type="hidden" name="csrf" value="[^"]+">\s*<input type="hidden" name="id" value="([0-9a-f]+)"`)

// signInRemembering signs user in with the password and a recovery code,
// ticking "Don't ask again on this device" if remember.
func (b *browser) signInRemembering(user, code string, remember bool) {
	b.t.Helper()
	t := b.t
	expectRedirect(t, b.login(user, testPassword, "/"), "/.mfa/challenge")
	ch := b.get("/.mfa/challenge?method=recovery")
	expectText(t, ch, "Don't ask again on this device for 1 days")
	form := url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"recovery"}, "code": {code}}
	if remember {
		form.Set("remember", "1")
	}
	expectSignedInTo(t, b, b.post("/.mfa/challenge", form), "/")
}

// signOut presses the portal's sign-out button.
func (b *browser) signOut() {
	b.t.Helper()
	page := b.get("/.mfa/")
	for page.StatusCode == http.StatusFound { // not fully signed in: a page that has the button
		page = b.get(page.Header.Get("Location"))
	}
	expectRedirect(b.t, b.post("/.mfa/logout", url.Values{"csrf": {csrfOf(b.t, page.Body)}}), "/.mfa/signed-out?here=1")
}

// TestRememberDevice: with remember_device, a browser that ticked the box
// signs its user in with the password alone, until it expires, is
// forgotten on the security-info page, or the user signs out everywhere;
// other browsers and users are still asked.
func TestRememberDevice(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gatewayOpts{global: "remember_device 3s\n" + limitsBlock("login_per_user 100/1m")})
	e := g.newBrowser().firstSignIn("alice", "/")
	b := g.newBrowser()

	// Not ticked: asked again.
	b.signInRemembering("alice", e.Codes[0], false)
	b.signOut()
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/challenge")

	// Ticked: the password alone from now on, in this browser only.
	b = g.newBrowser()
	b.signInRemembering("alice", e.Codes[1], true)
	remembered := time.Now()
	b.signOut()
	expectRedirect(t, b.login("alice", testPassword, "/app"), "/app")
	b.signedIn("alice", "/app")
	expectRedirect(t, g.newBrowser().login("alice", testPassword, "/"), "/.mfa/challenge")
	expectText(t, b.get("/.mfa/security"), "Remembered devices", "Forget")
	// A remembered device is not a recent second factor for changes.
	page := b.get("/.mfa/security")
	expectRedirect(t, b.post("/.mfa/security/recovery", url.Values{"csrf": {csrfOf(t, page.Body)}}), "/.mfa/challenge")
	b.signOut()

	// It expires.
	time.Sleep(time.Until(remembered.Add(3100 * time.Millisecond)))
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/challenge")

	// Forgotten on the security-info page.
	b = g.newBrowser()
	b.signInRemembering("alice", e.Codes[2], true)
	page = b.get("/.mfa/security")
	r := b.confirmed("/.mfa/security/devices/forget", url.Values{"csrf": {csrfOf(t, page.Body)},
		"id": {deviceIDRE.FindStringSubmatch(page.Body)[1]}})
	expectStatus(t, r, http.StatusOK)
	expectText(t, r, "will ask for the second factor again")
	b.signOut()
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/challenge")

	// Ended by "Sign out everywhere".
	b = g.newBrowser()
	b.signInRemembering("alice", e.Codes[3], true)
	page = b.get("/.mfa/security")
	expectRedirect(t, b.post("/.mfa/security/signout", url.Values{"csrf": {csrfOf(t, page.Body)}, "confirm": {"1"}}), "/.mfa/signed-out")
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/challenge")
	if len(g.waitLog("device_remembered", `"user":"alice"`)) == 0 || len(g.waitLog("remembered_device")) == 0 {
		t.Error("remembering or its use is not in the log")
	}
}
