package e2e

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// browserSignedIn signs alice in for the first time in tab p (the
// authenticator app) and returns its seed and the recovery codes shown.
func browserSignedIn(p page, g *gateway) (string, []string) {
	p.t.Helper()
	return browserSignedInAs(p, g, "alice")
}

// browserSignedInAs is browserSignedIn for user.
func browserSignedInAs(p page, g *gateway, user string) (string, []string) {
	p.t.Helper()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	p.do("open the app", chromedp.Navigate(g.URL+"/"), chromedp.WaitVisible(css("#username")))
	p.do("sign in", chromedp.SendKeys(css("#username"), user), chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css(`a.method[href="/.mfa/setup/totp"]`)))
	p.do("choose the app", chromedp.Click(css(`a.method[href="/.mfa/setup/totp"]`)), chromedp.WaitVisible(css("code.secret")))
	secret := strings.ReplaceAll(p.text("code.secret"), " ", "")
	p.do("enter the first code", chromedp.SendKeys(css("#code"), code(p.t, secret, time.Now())),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css("ul.codes")))
	return secret, shownCodes(p)
}

// shownCodes are the recovery codes on the page.
func shownCodes(p page) []string {
	p.t.Helper()
	return eval[[]string](p, `Array.from(document.querySelectorAll("ul.codes code")).map(e => e.textContent)`)
}

// reload reloads the tab, as the browser's reload button does, and waits
// for sel.
func (p page) reload(sel string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		p.fail("reload", err)
	}
}

// confirmIfAsked presses the confirmation page's button if the page asks.
func (p page) confirmIfAsked(next string) {
	p.t.Helper()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	p.do("an answer", chromedp.WaitVisible(css(next+`, form:has(input[name="confirm"]) button`)))
	if eval[bool](p, `!!document.querySelector('form input[name="confirm"]')`) {
		p.do("confirm", chromedp.Click(css(`form:has(input[name="confirm"]) button[type=submit]`)), chromedp.WaitVisible(css(next)))
	}
}

// TestBrowserReloadResultPages: in Chromium, reloading the page that shows
// new recovery codes shows the same codes (the set is issued once, and
// they work), and reloading the page that shows a new app password shows
// the same password (one is made).
func TestBrowserReloadResultPages(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gatewayOpts{route: "app_passwords"})
	p := pushBrowser(t)(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	_, first := browserSignedIn(p, g)

	p.do("security info", chromedp.Navigate(g.URL+"/.mfa/security"), chromedp.WaitVisible(css(`form[action="/.mfa/security/recovery"] button`)))
	p.do("get new recovery codes", chromedp.Click(css(`form[action="/.mfa/security/recovery"] button`)))
	p.confirmIfAsked("ul.codes")
	codes := shownCodes(p)
	if len(codes) != 10 || slices.Contains(first, codes[0]) {
		t.Fatalf("new recovery codes %q", codes)
	}
	p.reload("ul.codes")
	if again := shownCodes(p); !slices.Equal(again, codes) {
		t.Errorf("reloading the new recovery codes shows %q, want the same %q", again, codes)
	}
	x := g.newBrowser()
	expectRedirect(t, x.login("alice", testPassword, "/"), "/.mfa/challenge")
	ch := x.get("/.mfa/challenge?method=recovery")
	if r := x.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"recovery"}, "code": {codes[0]}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("a recovery code shown before the reload does not work: %d", r.StatusCode)
	}

	p.do("security info", chromedp.Navigate(g.URL+"/.mfa/security"), chromedp.WaitVisible(css("#app-password-name")))
	p.do("create an app password", chromedp.SendKeys(css("#app-password-name"), "Mail"),
		chromedp.Click(css(`form[action="/.mfa/security/app-passwords"] button`)), chromedp.WaitVisible(css("#app-password")))
	pw := p.text("#app-password")
	p.reload("#app-password")
	if again := p.text("#app-password"); again != pw {
		t.Errorf("reloading the new app password shows %q, want the same %q", again, pw)
	}
	p.do("security info", chromedp.Navigate(g.URL+"/.mfa/security"), chromedp.WaitVisible(css("#app-password-name")))
	if n := eval[int](p, `document.querySelectorAll('form[action="/.mfa/security/app-passwords/revoke"]').length`); n != 1 {
		t.Errorf("%d app passwords after creating one and reloading its page, want 1", n)
	}
	if status, _, _ := davWithAppPassword(t, g, "alice", pw); status != http.StatusOK {
		t.Errorf("the app password shown does not work: %d", status)
	}
}

// TestBrowserConfirmWithoutJavaScript: in Chromium with JavaScript off, in
// Japanese, Revoke and Sign out everywhere ask once; "Cancel" leaves
// everything as it was, the confirmation's button does it.
func TestBrowserConfirmWithoutJavaScript(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gatewayOpts{route: "app_passwords"})
	p := pushBrowser(t)(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	if _, err := chromedp.Call(p.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(p.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "ja"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(p.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	browserSignedIn(p, g)
	p.do("security info", chromedp.Navigate(g.URL+"/.mfa/security"), chromedp.WaitVisible(css("#app-password-name")))
	p.do("create an app password", chromedp.SendKeys(css("#app-password-name"), "Mail"),
		chromedp.Click(css(`form[action="/.mfa/security/app-passwords"] button`)), chromedp.WaitVisible(css("#app-password")))
	pw := p.text("#app-password")

	revoke := css(`form[action="/.mfa/security/app-passwords/revoke"] button`)
	asked := css(`form:has(input[name="confirm"]) button[type=submit]`)
	p.do("security info", chromedp.Navigate(g.URL+"/.mfa/security"), chromedp.WaitVisible(revoke))
	p.do("revoke", chromedp.Click(revoke), chromedp.WaitVisible(asked))
	if h := strings.TrimSpace(p.text("h1")); h != "アプリパスワード「Mail」を取り消しますか？" {
		t.Fatalf("Revoke did not ask first: the page's heading is %q", h)
	}
	checkUsable(p, "confirmation page")
	p.do("cancel", chromedp.Click(css(`a[href="/.mfa/security"]`)), chromedp.WaitVisible(revoke))
	if status, _, _ := davWithAppPassword(t, g, "alice", pw); status != http.StatusOK {
		t.Fatalf("after Cancel the app password does not work: %d", status)
	}
	p.do("revoke", chromedp.Click(revoke), chromedp.WaitVisible(asked))
	if s := p.text(`form:has(input[name="confirm"]) button[type=submit]`); s != "取り消す" {
		t.Errorf("the confirmation's button says %q", s)
	}
	p.do("confirm", chromedp.Click(asked), chromedp.WaitVisible(css("p.notice")))
	if status, _, _ := davWithAppPassword(t, g, "alice", pw); status != http.StatusUnauthorized {
		t.Fatalf("the confirmed revoke left the app password working: %d", status)
	}

	signout := css(`form[action="/.mfa/security/signout"] button`)
	p.do("sign out everywhere", chromedp.Click(signout), chromedp.WaitVisible(asked))
	if h := strings.TrimSpace(p.text("h1")); h != "すべての場所からサインアウトしますか？" {
		t.Errorf("Sign out everywhere asks %q", h)
	}
	p.do("confirm", chromedp.Click(asked))
	if txt := bodyText(p, "サインアウトしました", 5*time.Second); !strings.Contains(txt, "サインアウトしました") {
		t.Fatalf("after the confirmed sign-out the page says %q", txt)
	}
}
