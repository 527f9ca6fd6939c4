package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// speaks makes tab p ask for pages in lang (Accept-Language).
func speaks(p page, lang string) {
	p.t.Helper()
	if _, err := chromedp.Call(p.ctx, network.Enable, network.EnableParams{}); err != nil {
		p.fail("enabling the network domain", err)
	}
	if _, err := chromedp.Call(p.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": lang}}); err != nil {
		p.fail("setting Accept-Language", err)
	}
}

// registerInBrowser signs user in for the first time in tab p at base
// (the site's URL), registering the authenticator app, and continues to
// the app; it returns the seed and the recovery codes.
func registerInBrowser(p page, base, user string) (string, []string) {
	p.t.Helper()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	p.do("open the app", chromedp.Navigate(base+"/"), chromedp.WaitVisible(css("#username")))
	p.do("sign in", chromedp.SendKeys(css("#username"), user), chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css(`a.method[href="/.mfa/setup/totp"]`)))
	p.do("choose the app", chromedp.Click(css(`a.method[href="/.mfa/setup/totp"]`)), chromedp.WaitVisible(css("code.secret")))
	secret := strings.ReplaceAll(p.text("code.secret"), " ", "")
	p.do("enter the first code", chromedp.SendKeys(css("#code"), code(p.t, secret, time.Now())),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css("ul.codes")))
	codes := eval[[]string](p, `Array.from(document.querySelectorAll("ul.codes code")).map(e => e.textContent)`)
	p.do("continue to the app", chromedp.Click(css("a#codes-saved")))
	if txt := bodyText(p, "upstream says", 10*time.Second); !strings.Contains(txt, "upstream says") {
		p.t.Fatalf("after the recovery codes the tab shows %q", txt)
	}
	return secret, codes
}

// TestBrowserStepUpChange (issue 16, item 4): a change on the security-info
// page with a second factor older than 10 minutes asks for it again on a
// page that says why, offers no "Don't ask again on this device", and
// exits to the security-info page; after the code, the change asked for is
// shown ready to confirm, and confirming it does it. In English and
// Japanese.
func TestBrowserStepUpChange(t *testing.T) {
	global, rdb, prefix := redisGlobal(t, redistest.Addr())
	g := startGateway(t, gatewayOpts{global: global + "\n\t\tremember_device 30d"})
	newTab := pushBrowser(t)
	cases := []struct {
		lang, user, reason, confirm, button, exit string
	}{
		{"en", "alice", "Confirm it's you to change your security info.", "Get new recovery codes", "Confirm", "Back to security info"},
		{"ja", "bob", "セキュリティ情報を変更するため、本人であることを確認してください。", "新しい回復コードを取得", "確定", "セキュリティ情報に戻る"},
	}
	for _, c := range cases {
		t.Run(c.lang, func(t *testing.T) {
			p := newTab(t)
			speaks(p, c.lang)
			css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
			secret, _ := registerInBrowser(p, g.URL, c.user)
			ageSecondFactor(t, rdb, prefix, c.user, 11*time.Minute)

			recovery := css(`form[action="/.mfa/security/recovery"] button`)
			p.do("open security info", chromedp.Navigate(g.URL+"/.mfa/security"), chromedp.WaitVisible(recovery))
			p.do("ask for new recovery codes", chromedp.Click(recovery), chromedp.WaitVisible(css("#code")))
			txt := eval[string](p, `document.body.innerText`)
			if !strings.Contains(txt, c.reason) {
				t.Errorf("the step-up page does not say why it asks (%q); it says:\n%s", c.reason, txt)
			}
			if n := eval[int](p, `document.querySelectorAll("#remember").length`); n != 0 {
				t.Errorf("the step-up page offers \"Don't ask again on this device\"; it says:\n%s", txt)
			}
			if n := eval[int](p, `document.querySelectorAll('form[action="/.mfa/logout"]').length`); n != 0 {
				t.Errorf("the step-up page offers to sign out; it says:\n%s", txt)
			}
			exit := eval[string](p, `Array.from(document.querySelectorAll('a[href="/.mfa/security"]')).map(a => a.textContent.trim()).join("|")`)
			if exit != c.exit {
				t.Errorf("the step-up page's links to security info: %q, want %q", exit, c.exit)
			}
			checkUsable(p, "step-up page")
			screenshot(t, p.ctx, "stepup-1-"+c.lang)

			p.do("enter the code", chromedp.SendKeys(css("#code"), code(t, secret, time.Now().Add(30*time.Second))),
				chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(recovery))
			txt = eval[string](p, `document.body.innerText`)
			if loc := eval[string](p, `location.pathname`); loc != "/.mfa/stepup" {
				t.Fatalf("after the code the tab is at %s, want the change ready to confirm; it says:\n%s", loc, txt)
			}
			if !strings.Contains(txt, c.confirm) {
				t.Errorf("the confirmation page does not name the change (%q); it says:\n%s", c.confirm, txt)
			}
			if s := strings.TrimSpace(p.text(`form[action="/.mfa/security/recovery"] button`)); s != c.button {
				t.Errorf("the confirm button says %q, want %q", s, c.button)
			}
			checkUsable(p, "confirmation page")
			screenshot(t, p.ctx, "stepup-2-"+c.lang)
			p.do("confirm", chromedp.Click(recovery), chromedp.WaitVisible(css("ul.codes")))
			if n := eval[int](p, `document.querySelectorAll("ul.codes code").length`); n != 10 {
				t.Errorf("%d new recovery codes shown, want 10", n)
			}
		})
	}
}

// TestStepUpComesBack (issue 16, item 4, the rest of its kind): a change
// met with a stale second factor comes back after it, ready to confirm,
// with the form values it was asked with; the confirmation page (a GET)
// changes nothing; it is bound to the session that asked; and a setup page
// opened with a stale factor comes back to that page.
func TestStepUpComesBack(t *testing.T) {
	t.Parallel()
	global, rdb, prefix := redisGlobal(t, redistest.Addr())
	g := startGateway(t, gatewayOpts{global: global, route: "app_passwords"})
	b := g.newBrowser()
	e := b.firstSignIn("alice", "/")
	used := 0
	// stepUp gives a recovery code at the challenge and returns where it
	// sends the browser (which must start with to).
	stepUp := func(to string) string {
		t.Helper()
		ch := b.get("/.mfa/challenge?method=recovery")
		r := b.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"recovery"}, "code": {e.Codes[used]}})
		used++
		if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, to) {
			t.Fatalf("after the step-up: %d to %q, want to %s", r.StatusCode, loc, to)
		}
		return r.Header.Get("Location")
	}
	const mail = `<strong class="name">Mail</strong>`

	// A new app password named "Mail": after the step-up, ready to confirm,
	// with its name; the GET creates nothing; the POST does.
	ageSecondFactor(t, rdb, prefix, "alice", 11*time.Minute)
	page := b.get("/.mfa/security")
	expectRedirect(t, b.post("/.mfa/security/app-passwords", url.Values{"csrf": {csrfOf(t, page.Body)}, "name": {"Mail"}}), "/.mfa/challenge")
	ch := b.get("/.mfa/challenge")
	expectText(t, ch, "Confirm it's you to change your security info.")
	expectNoText(t, ch, `name="remember"`, `action="/.mfa/logout"`)
	loc := stepUp("/.mfa/stepup?id=")
	confirm := b.get(loc)
	expectStatus(t, confirm, http.StatusOK)
	expectText(t, confirm, `action="/.mfa/security/app-passwords"`, `name="name" value="Mail"`, "Create an app password")
	expectText(t, b.get(loc), `name="name" value="Mail"`) // a reload shows it again
	expectNoText(t, b.get("/.mfa/security"), mail)        // and creates nothing
	done := b.post("/.mfa/security/app-passwords", url.Values{"csrf": {csrfOf(t, confirm.Body)}, "name": {"Mail"}, "change": {confirm.Request.URL.Query().Get("id")}})
	if done.StatusCode >= 400 {
		t.Fatalf("confirming: %d\n%s", done.StatusCode, done.Body)
	}
	expectText(t, b.get("/.mfa/security"), mail)
	// Done: the confirmation is gone.
	expectRedirect(t, b.get(loc), "/.mfa/security")

	// Another session of alice cannot open one.
	ageSecondFactor(t, rdb, prefix, "alice", 11*time.Minute)
	page = b.get("/.mfa/security")
	expectRedirect(t, b.post("/.mfa/security/signout", url.Values{"csrf": {csrfOf(t, page.Body)}}), "/.mfa/challenge")
	loc = stepUp("/.mfa/stepup?id=")
	expectText(t, b.get(loc), `action="/.mfa/security/signout"`, "Sign out everywhere")
	other := g.newBrowser()
	expectRedirect(t, other.secondSignIn("alice", e, "/", 1), "/")
	expectRedirect(t, other.get(loc), "/.mfa/security")

	// A setup page opened with a stale factor comes back to that page.
	ageSecondFactor(t, rdb, prefix, "alice", 11*time.Minute)
	setup := b.get("/.mfa/setup/totp")
	expectText(t, setup, `action="/.mfa/security/verify"`, `name="next" value="/.mfa/setup/totp"`)
	expectRedirect(t, b.post("/.mfa/security/verify", url.Values{"csrf": {csrfOf(t, setup.Body)}, "next": {"/.mfa/setup/totp"}}), "/.mfa/challenge")
	loc = stepUp("/.mfa/stepup?id=")
	expectRedirect(t, b.get(loc), "/.mfa/setup/totp")
}

// expectStepUpReturn fails unless r, the answer to a second factor given
// again for a change, sends the browser to the page that shows the change
// ready to confirm; it returns that page's path.
func expectStepUpReturn(t *testing.T, r *response) string {
	t.Helper()
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/.mfa/stepup?id=") {
		t.Fatalf("%s %s: %d to %q, want to /.mfa/stepup?id=…", r.Request.Method, r.Request.URL, r.StatusCode, loc)
	}
	return loc
}
