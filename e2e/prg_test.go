package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/twiliotest"
)

// Every state-changing POST of the portal answers with a redirect to a GET
// page that shows its result (POST/redirect/GET), so that reloading the
// result page repeats nothing; destructive actions ask once first.

// expectSeeOther fails unless r is a 303 to a portal page, and returns
// where it leads.
func expectSeeOther(t *testing.T, r *response) string {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s %s: status %d, want 303 (POST/redirect/GET); body:\n%s", r.Request.Method, r.Request.URL, r.StatusCode, tail(r.Body, 1500))
	}
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, "/.mfa/") {
		t.Fatalf("%s %s: redirect to %q, want a portal page", r.Request.Method, r.Request.URL, loc)
	}
	return loc
}

// follow returns r, or the page it redirects to (once).
func (b *browser) follow(r *response) *response {
	b.t.Helper()
	if r.StatusCode == http.StatusSeeOther || r.StatusCode == http.StatusFound {
		return b.get(r.Header.Get("Location"))
	}
	return r
}

// confirmed posts form to path with the confirmation (confirm=1) that
// destructive actions need, and follows the redirect to the result page.
func (b *browser) confirmed(path string, form url.Values) *response {
	b.t.Helper()
	form.Set("confirm", "1")
	return b.follow(b.post(path, form))
}

// twoMethodsSignedIn starts a gateway with texts and remembered devices
// and returns it with a browser where alice is signed in (a remembered
// device) with two methods, the app and a phone, so that one can be
// removed.
func twoMethodsSignedIn(t *testing.T) (*gateway, *browser) {
	t.Helper()
	f := twiliotest.New(t, twilioSID, twilioToken)
	g, _ := startPhoneGateway(t, twilioBlock("sms", f)+"remember_device 1h\n"+limitsBlock("resend_after 1s", "login_per_user 100/1m"))
	e := g.newBrowser().firstSignIn("alice", "/")
	b := g.newBrowser()
	b.signInRemembering("alice", e.Codes[0], true)
	// A phone as a second method, so that one can be removed.
	expectRedirect(t, b.submitNumber("sms", jpRegion, jpTyped, ""), "/.mfa/setup/phone/code")
	c := codeOf(t, f.WaitMessage(t, jpE164, sendTimeout).Body)
	page := b.get("/.mfa/setup/phone/code")
	expectRedirect(t, b.post("/.mfa/setup/phone/code", url.Values{"csrf": {csrfOf(t, page.Body)}, "code": {c}}), "/.mfa/security?added=1")
	return g, b
}

// TestEveryActionRedirectsAndReloadChangesNothing walks every
// state-changing POST of the security-info page (and sign-out): each
// answers 303 on success, and loading the page it leads to again (a
// reload) shows the same and changes nothing on the server: the security
// page reads the same before and after, a new set of recovery codes is
// issued once (the codes shown still work), one app password is made.
func TestEveryActionRedirectsAndReloadChangesNothing(t *testing.T) {
	t.Parallel()
	g, b := twoMethodsSignedIn(t)

	state := func() string {
		t.Helper()
		r := b.get("/.mfa/security")
		expectStatus(t, r, http.StatusOK)
		return r.Body
	}
	// act posts form to path from the security page, expects a 303, and
	// loads the result page twice.
	act := func(what, path string, form url.Values) *response {
		t.Helper()
		form.Set("csrf", csrfOf(t, state()))
		loc := expectSeeOther(t, b.post(path, form))
		after := state()
		first := b.get(loc)
		expectStatus(t, first, http.StatusOK)
		again := b.get(loc)
		expectStatus(t, again, http.StatusOK)
		if first.Body != again.Body {
			t.Errorf("%s: reloading %s shows something else:\nfirst:\n%s\nreloaded:\n%s", what, loc, tail(first.Body, 1500), tail(again.Body, 1500))
		}
		if now := state(); now != after {
			t.Errorf("%s: reloading %s changed the security info:\nbefore:\n%s\nafter:\n%s", what, loc, tail(after, 2500), tail(now, 2500))
		}
		return first
	}
	confirm := url.Values{"confirm": {"1"}}
	with := func(v url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, vs := range v {
			out[k] = vs
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}

	expectText(t, act("default method", "/.mfa/security/default", url.Values{"method": {"sms"}}), "default sign-in method was saved")
	r := act("new recovery codes", "/.mfa/security/recovery", with(confirm))
	codes := recoveryCodesOf(t, r)
	r = act("app password", "/.mfa/security/app-passwords", url.Values{"name": {"Mail"}})
	m := appPasswordRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no app password shown:\n%s", tail(r.Body, 2000))
	}
	if n := strings.Count(state(), `action="/.mfa/security/app-passwords/revoke"`); n != 1 {
		t.Fatalf("%d app passwords after one was made and its page reloaded, want 1", n)
	}
	appID := regexp.MustCompile(`action="/.mfa/security/app-passwords/revoke">\s*<input type="hidden" name="csrf" value="[^"]+">\s*<input type="hidden" name="id" value="([0-9a-f]+)"`).FindStringSubmatch(state())
	if appID == nil {
		t.Fatal("no revoke form")
	}
	expectText(t, act("revoke app password", "/.mfa/security/app-passwords/revoke", with(confirm, "id", appID[1])), "app password was revoked")
	dev := deviceIDRE.FindStringSubmatch(state())
	if dev == nil {
		t.Fatal("no remembered device")
	}
	expectText(t, act("forget device", "/.mfa/security/devices/forget", with(confirm, "id", dev[1])), "will ask for the second factor again")
	expectText(t, act("remove method", "/.mfa/security/remove", with(confirm, "id", "totp")), "The method was removed")

	// The codes shown (and shown again on the reload) are the ones that work.
	x := g.newBrowser()
	expectRedirect(t, x.login("alice", testPassword, "/"), "/.mfa/challenge")
	ch := x.get("/.mfa/challenge?method=recovery")
	expectSignedInTo(t, x, x.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"recovery"}, "code": {codes[0]}}), "/")

	// Signing out (here, and everywhere) ends on a page a reload does not change.
	for i, out := range []struct{ path, want string }{{"/.mfa/logout", "You have signed out"}, {"/.mfa/security/signout", "signed out on every device"}} {
		y := g.newBrowser()
		y.signInRemembering("alice", codes[1+i], false)
		sec := y.get("/.mfa/security")
		loc := expectSeeOther(t, y.post(out.path, url.Values{"csrf": {csrfOf(t, sec.Body)}, "confirm": {"1"}}))
		first := y.get(loc)
		expectStatus(t, first, http.StatusOK)
		expectText(t, first, out.want)
		again := y.get(loc)
		if again.StatusCode != first.StatusCode || pageText(again) != pageText(first) {
			t.Errorf("reloading %s after %s: %d %q, first %d %q", loc, out.path, again.StatusCode, pageText(again), first.StatusCode, pageText(first))
		}
		y.notSignedIn("/")
	}
	x.notSignedIn("/")

	// The first registration, too: its recovery codes are on the page the
	// registration redirects to, the same on a reload, and its button goes
	// on to the app.
	bob := g.newBrowser()
	expectRedirect(t, bob.login("bob", testPassword, "/app"), "/.mfa/setup")
	app := bob.get("/.mfa/setup/totp")
	seed := strings.ReplaceAll(secretRE.FindStringSubmatch(app.Body)[1], " ", "")
	loc := expectSeeOther(t, bob.post("/.mfa/setup/totp", url.Values{"csrf": {csrfOf(t, app.Body)}, "code": {code(t, seed, time.Now())}}))
	first := bob.get(loc)
	bobCodes := recoveryCodesOf(t, first)
	if again := recoveryCodesOf(t, bob.get(loc)); !slices.Equal(again, bobCodes) {
		t.Errorf("reloading the first recovery codes shows %q, want %q", again, bobCodes)
	}
	expectText(t, first, `class="button" href="/app"`)
}
