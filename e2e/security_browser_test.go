package e2e

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var (
	// securityTimeRE is a time as the security-info page shows it.
	securityTimeRE = `\d{4}-\d\d-\d\d \d\d:\d\d UTC`
	appRowRE       = regexp.MustCompile(`^Added ` + securityTimeRE + ` · last used ` + securityTimeRE + `$`)
	newAppPwRowRE  = regexp.MustCompile(`^Created ` + securityTimeRE + ` · not used yet$`)
	usedAppPwRowRE = regexp.MustCompile(`^Created ` + securityTimeRE + ` · last used ` + securityTimeRE + `$`)
	appPasswordFmt = regexp.MustCompile(`^[a-z2-7]{4}(-[a-z2-7]{4}){3}$`)
)

// davWithAppPassword is a mail or file-sync app: a GET of /dav with Basic
// auth and no cookies. It returns the status, the body and the
// WWW-Authenticate header.
func davWithAppPassword(t *testing.T, g *gateway, user, password string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, g.URL+"/dav", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, password)
	req.Header.Set("Accept", "*/*")
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET /dav with Basic auth: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header.Get("WWW-Authenticate")
}

// rowText is the details of the security-info row named name, "" if
// there is no such row. Its times are read as the server wrote them, in
// UTC (their titles): TestBrowserTimesInOwnZone checks what the browser
// shows in their place.
func rowText(p page, name string) string {
	p.t.Helper()
	return eval[string](p, `(() => {
  const li = Array.from(document.querySelectorAll("ul.security li")).find(li => li.querySelector(".name")?.textContent.trim() === `+jsString(name)+`);
  if (!li) return "";
  const details = li.querySelector(".details").cloneNode(true);
  details.querySelectorAll("time[title]").forEach(e => { e.textContent = e.title; });
  return details.textContent.trim();
})()`)
}

// jsString quotes s for a JavaScript expression (s is plain text here).
func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// checkUsable fails the test for what makes the page hard to use on a
// phone or with a screen reader: a form field without a label, a button
// without a name, and a page wider than the screen.
func checkUsable(p page, what string) {
	p.t.Helper()
	unlabelled := eval[[]string](p, `Array.from(document.querySelectorAll("input:not([type=hidden]), select, textarea"))
  .filter(e => e.labels.length === 0 && !e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby"))
  .map(e => e.outerHTML)`)
	if len(unlabelled) > 0 {
		p.t.Errorf("%s: form fields without a label: %q", what, unlabelled)
	}
	nameless := eval[[]string](p, `Array.from(document.querySelectorAll("button, a"))
  .filter(e => !e.textContent.trim() && !e.getAttribute("aria-label"))
  .map(e => e.outerHTML)`)
	if len(nameless) > 0 {
		p.t.Errorf("%s: buttons or links without a name: %q", what, nameless)
	}
	if w := eval[[]int](p, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
		p.t.Errorf("%s: the page is %d px wide on a %d px screen (it scrolls sideways)", what, w[0], w[1])
	}
}

// TestBrowserSecurityInfo drives the security-info page in headless
// Chromium, as a user on a phone: the first sign-in with the authenticator
// app, then from the portal's root page the link to the page, which shows
// the app (added, last used, not removable as the only method) and the
// recovery codes left; an app password made there works as Basic auth
// until it is revoked there; new recovery codes replace the old ones; and
// "Sign out everywhere" ends the browser's session.
func TestBrowserSecurityInfo(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gatewayOpts{route: "app_passwords"})
	p := pushBrowser(t)(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	securityPage := css(`form[action="/.mfa/security/signout"] button`)
	mainText := func() string { return eval[string](p, `document.body.innerText`) }
	expectMain := func(what string, want ...string) {
		t.Helper()
		txt := mainText()
		for _, w := range want {
			if !strings.Contains(txt, w) {
				t.Errorf("%s: the page does not say %q; it says:\n%s", what, w, txt)
			}
		}
	}
	heading := func(what, want string) {
		t.Helper()
		if h := strings.TrimSpace(p.text("h1")); h != want {
			t.Fatalf("%s: heading %q, want %q; page says:\n%s", what, h, want, mainText())
		}
	}

	// 1. First sign-in, enrolling the authenticator app.
	p.do("open the app", chromedp.Navigate(g.URL+"/"), chromedp.WaitVisible(css("#username")))
	p.do("sign in", chromedp.SendKeys(css("#username"), "alice"), chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css(`a.method[href="/.mfa/setup/totp"]`)))
	if s := p.text(`a.method[href="/.mfa/setup/totp"]`); !strings.Contains(s, "Authenticator app") {
		t.Fatalf("setup page offers %q, want the authenticator app", s)
	}
	p.do("choose the app", chromedp.Click(css(`a.method[href="/.mfa/setup/totp"]`)), chromedp.WaitVisible(css("code.secret")))
	secret := strings.ReplaceAll(p.text("code.secret"), " ", "")
	p.do("enter the first code", chromedp.SendKeys(css("#code"), code(t, secret, time.Now())),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css("ul.codes")))
	firstCodes := eval[[]string](p, `Array.from(document.querySelectorAll("ul.codes code")).map(e => e.textContent)`)
	if len(firstCodes) != 10 {
		t.Fatalf("%d recovery codes shown at enrolment, want 10; page says:\n%s", len(firstCodes), mainText())
	}
	p.do("continue to the app", chromedp.Click(css("a#codes-saved")))
	if txt := bodyText(p, "upstream says", 10*time.Second); !strings.Contains(txt, `upstream says hello to "alice" at /`) {
		t.Fatalf("after the recovery codes the tab shows %q", txt)
	}

	// 2. From the portal's root page to the security-info page.
	link := css(`a[href="/.mfa/security"]`)
	p.do("open the portal", chromedp.Navigate(g.URL+"/.mfa/"), chromedp.WaitVisible(link))
	if s := p.text(`a[href="/.mfa/security"]`); !strings.Contains(s, "Security info") {
		t.Errorf("the root page's link to the security-info page says %q", s)
	}
	p.do("follow the link", chromedp.Click(link), chromedp.WaitVisible(securityPage))
	heading("security-info page", "Security info")
	if title := eval[string](p, `document.title`); title != "Security info · E2E Corp" {
		t.Errorf("page title %q", title)
	}
	if row := rowText(p, "Authenticator app"); !appRowRE.MatchString(row) {
		t.Errorf("the authenticator app's row says %q, want Added … · last used …; page says:\n%s", row, mainText())
	}
	if n := eval[int](p, `document.querySelectorAll('form[action="/.mfa/security/remove"]').length`); n != 0 {
		t.Errorf("the only method has %d Remove buttons", n)
	}
	expectMain("security-info page", "Your only sign-in method can't be removed.", "You have 10 unused recovery codes.",
		"Get new recovery codes", "App passwords", "Sign out everywhere")
	if s := p.text("label[for=app-password-name]"); !strings.HasPrefix(s, "Name of a new app password") {
		t.Errorf("the app password name field is labelled %q", s)
	}
	checkUsable(p, "security-info page")
	screenshot(t, p.ctx, "security-1-page")

	// 3. An app password: made, used by an app, revoked.
	create := css(`form[action="/.mfa/security/app-passwords"] button`)
	if s := p.text(`form[action="/.mfa/security/app-passwords"] button`); s != "Create app password" {
		t.Errorf("create button says %q", s)
	}
	p.do("create an app password", chromedp.SendKeys(css("#app-password-name"), "Mail"), chromedp.Click(create),
		chromedp.WaitVisible(css("#app-password")))
	heading("new app password page", "Your new app password")
	pw := strings.TrimSpace(p.text("#app-password"))
	if !appPasswordFmt.MatchString(pw) {
		t.Fatalf("app password shown %q, want four groups of four base32 letters; page says:\n%s", pw, mainText())
	}
	expectMain("new app password page", "This is the only time it is shown")
	checkUsable(p, "new app password page")
	screenshot(t, p.ctx, "security-2-app-password")
	if s := p.text("a.button"); s != "Done" {
		t.Errorf("the app password page's button says %q, want Done", s)
	}
	revokeMail := chromedp.Search(`//ul[contains(@class,"security")]/li[normalize-space(strong)="Mail"]//button[normalize-space()="Revoke"]`)
	p.do("done", chromedp.Click(css("a.button")), chromedp.WaitVisible(revokeMail))
	if loc := eval[string](p, `location.pathname`); loc != "/.mfa/security" {
		t.Errorf("Done went to %s", loc)
	}
	if row := rowText(p, "Mail"); !newAppPwRowRE.MatchString(row) {
		t.Errorf("the new app password's row says %q, want Created … · not used yet", row)
	}

	status, body, _ := davWithAppPassword(t, g, "alice", pw)
	if status != http.StatusOK || body != `upstream says hello to "alice" at /dav` {
		t.Fatalf("GET /dav with the app password: %d %q", status, body)
	}
	if h, _ := g.Upstream.Last(); h.Get("Remote-User") != "alice" || h.Get("Authorization") != "" {
		t.Errorf("upstream got Remote-User %q, Authorization %q", h.Get("Remote-User"), h.Get("Authorization"))
	}
	p.do("reload", chromedp.Navigate(g.URL+"/.mfa/security"), chromedp.WaitVisible(revokeMail))
	if row := rowText(p, "Mail"); !usedAppPwRowRE.MatchString(row) {
		t.Errorf("after its use, the app password's row says %q, want Created … · last used …", row)
	}

	asked := css(`form:has(input[name="confirm"]) button[type=submit]`)
	p.do("revoke Mail", chromedp.Click(revokeMail), chromedp.WaitVisible(asked))
	heading("revoke confirmation", "Revoke the app password “Mail”?")
	p.do("confirm", chromedp.Click(asked), chromedp.WaitVisible(css("p.notice")))
	if s := p.text("p.notice"); s != "The app password was revoked; apps that use it can no longer sign in." {
		t.Errorf("after revoking, the page says %q", s)
	}
	if row := rowText(p, "Mail"); row != "" {
		t.Errorf("the revoked app password is still listed: %q", row)
	}
	screenshot(t, p.ctx, "security-3-revoked")
	if status, body, auth := davWithAppPassword(t, g, "alice", pw); status != http.StatusUnauthorized || !strings.HasPrefix(auth, "Basic ") {
		t.Fatalf("GET /dav with the revoked app password: %d (WWW-Authenticate %q) %q", status, auth, body)
	}

	// 4. New recovery codes.
	p.do("get new recovery codes", chromedp.Click(chromedp.Search(`//form[@action="/.mfa/security/recovery"]/button[normalize-space()="Get new recovery codes"]`)),
		chromedp.WaitVisible(asked))
	heading("recovery confirmation", "Get new recovery codes?")
	p.do("confirm", chromedp.Click(asked), chromedp.WaitVisible(css("ul.codes")))
	heading("new recovery codes", "Save your recovery codes")
	newCodes := eval[[]string](p, `Array.from(document.querySelectorAll("ul.codes code")).map(e => e.textContent)`)
	if len(newCodes) != 10 {
		t.Fatalf("%d new recovery codes shown, want 10; page says:\n%s", len(newCodes), mainText())
	}
	for _, c := range newCodes {
		if slices.Contains(firstCodes, c) {
			t.Errorf("new recovery code %s was also in the first set", c)
		}
	}
	screenshot(t, p.ctx, "security-4-recovery")
	if href := eval[string](p, `document.querySelector("a#codes-saved").getAttribute("href")`); href != "/.mfa/security" {
		t.Errorf("the recovery page's continue link goes to %q", href)
	}
	p.do("back to the security-info page", chromedp.Click(css("a#codes-saved")), chromedp.WaitVisible(securityPage))
	heading("security-info page after new codes", "Security info")
	expectMain("security-info page after new codes", "You have 10 unused recovery codes.")

	// 5. Sign out everywhere.
	p.do("sign out everywhere", chromedp.Click(chromedp.Search(`//form[@action="/.mfa/security/signout"]/button[normalize-space()="Sign out everywhere"]`)),
		chromedp.WaitVisible(asked))
	heading("sign-out confirmation", "Sign out everywhere?")
	p.do("confirm", chromedp.Click(asked))
	if txt := bodyText(p, "signed out on every device", 5*time.Second); !strings.Contains(txt, "You are signed out on every device and browser.") {
		t.Fatalf("after Sign out everywhere the page says %q", txt)
	}
	heading("signed out", "You have signed out")
	screenshot(t, p.ctx, "security-5-signed-out")
	_, hits := g.Upstream.Last()
	p.do("open the app again", chromedp.Navigate(g.URL+"/"), chromedp.WaitVisible(css("#username")))
	heading("after signing out everywhere", "Sign in")
	if loc := eval[string](p, `location.pathname`); loc != "/.mfa/login" {
		t.Errorf("after signing out everywhere the app sent the browser to %s", loc)
	}
	if _, n := g.Upstream.Last(); n != hits {
		t.Error("the signed-out browser reached the app")
	}
}
