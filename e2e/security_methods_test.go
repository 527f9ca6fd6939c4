package e2e

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/twiliotest"
)

var changeRE = regexp.MustCompile(`href="(/.mfa/setup/phone\?method=sms&amp;replace=phone-0)"`)

// TestSecurityInfoMethods: from the security-info page a user adds a
// phone (proved by a texted code), changes its number (proved by a code to
// the new one; the old number goes), and removes the app, never the last
// method.
func TestSecurityInfoMethods(t *testing.T) {
	t.Parallel()
	f := twiliotest.New(t, twilioSID, twilioToken)
	g, _ := startPhoneGateway(t, twilioBlock("sms", f)+limitsBlock("resend_after 1s"))
	b := g.newBrowser()
	b.firstSignIn("alice", "/")
	var gap sendGap

	expectText(t, b.get("/.mfa/security"), `href="/.mfa/setup"`, "Add a sign-in method")
	setup := b.get("/.mfa/setup")
	expectStatus(t, setup, http.StatusOK)
	expectText(t, setup, `href="/.mfa/setup/phone?method=sms"`)
	expectNoText(t, setup, `href="/.mfa/setup/totp"`) // one app only

	// Add a phone: saved only once the texted code is entered.
	expectRedirect(t, b.submitNumber("sms", jpRegion, jpTyped, ""), "/.mfa/setup/phone/code")
	gap.sent("alice")
	c := codeOf(t, f.WaitMessage(t, jpE164, sendTimeout).Body)
	page := b.get("/.mfa/setup/phone/code")
	expectRedirect(t, b.post("/.mfa/setup/phone/code", url.Values{"csrf": {csrfOf(t, page.Body)}, "code": {c}}), "/.mfa/security?added=1")
	sec := b.get("/.mfa/security?added=1")
	expectText(t, sec, "The method was added", jpMasked, "Authenticator app", `action="/.mfa/security/remove"`)

	// The default method: asked for first at sign-in.
	expectText(t, sec, `<select id="default-method" name="method">`)
	expectStatus(t, b.post("/.mfa/security/default", url.Values{"csrf": {csrfOf(t, sec.Body)}, "method": {"push"}}), http.StatusConflict)
	r := b.follow(b.post("/.mfa/security/default", url.Values{"csrf": {csrfOf(t, sec.Body)}, "method": {"sms"}}))
	expectStatus(t, r, http.StatusOK)
	expectText(t, r, "default sign-in method was saved", `<option value="sms" selected>`)
	d := g.newBrowser()
	d.passwordOnly("alice", "/")
	expectText(t, d.get("/.mfa/challenge"), "Text me a code", "Use a code from my authenticator app")

	// Change its number: the new one must be proved, then the old one goes.
	m := changeRE.FindStringSubmatch(sec.Body)
	if m == nil {
		t.Fatalf("no change link:\n%s", tail(sec.Body, 3000))
	}
	form := b.get(html.UnescapeString(m[1]))
	expectStatus(t, form, http.StatusOK)
	expectText(t, form, "will replace "+jpMasked)
	gap.wait("alice")
	r = b.post("/.mfa/setup/phone", url.Values{"csrf": {csrfOf(t, form.Body)}, "method": {"sms"}, "number": {ukMobileTyped},
		"replace": {"phone-0"}, "masked": {jpMasked}})
	expectRedirect(t, r, "/.mfa/setup/phone/code")
	c = codeOf(t, f.WaitMessage(t, ukMobileE164, sendTimeout).Body)
	page = b.get("/.mfa/setup/phone/code")
	// "Send again" is still a change of this number, not an addition.
	expectText(t, page, `href="/.mfa/setup/phone?method=sms&replace=phone-0"`, "Back to security info")
	expectNoText(t, page, "Cancel and sign out")
	expectRedirect(t, b.post("/.mfa/setup/phone/code", url.Values{"csrf": {csrfOf(t, page.Body)}, "code": {c}}), "/.mfa/security?added=number")
	expectText(t, b.get("/.mfa/security?added=number"), "The phone number was changed.")
	sec = b.get("/.mfa/security")
	expectText(t, sec, "+44 ")
	expectNoText(t, sec, jpMasked)
	if len(g.waitLog("method_removed", "number_changed")) == 0 {
		t.Error("the change of number is not in the log")
	}

	// Remove the app; the phone, now the only method, stays.
	r = b.confirmed("/.mfa/security/remove", url.Values{"csrf": {csrfOf(t, sec.Body)}, "id": {"totp"}})
	expectStatus(t, r, http.StatusOK)
	expectText(t, r, "The method was removed")
	expectNoText(t, r, "Authenticator app", `action="/.mfa/security/remove"`)
	// The app is offered again, and added back without new recovery codes.
	expectText(t, b.get("/.mfa/setup"), `href="/.mfa/setup/totp"`)
	app := b.get("/.mfa/setup/totp")
	m = secretRE.FindStringSubmatch(app.Body)
	if m == nil {
		t.Fatalf("no key on the app's page:\n%s", tail(app.Body, 2000))
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	expectRedirect(t, b.post("/.mfa/setup/totp", url.Values{"csrf": {csrfOf(t, app.Body)}, "code": {code(t, secret, time.Now())}}),
		"/.mfa/security?added=1")
	expectText(t, b.get("/.mfa/security?added=1"), "The method was added", "Authenticator app", "You have 10 unused recovery codes")
	r = b.confirmed("/.mfa/security/remove", url.Values{"csrf": {csrfOf(t, sec.Body)}, "id": {"totp"}})
	expectStatus(t, r, http.StatusOK)
	// And sign-in now goes by text.
	n := g.newBrowser()
	n.passwordOnly("alice", "/")
	expectText(t, n.get("/.mfa/challenge"), "Text me a code")
}
