package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// staffSite is a second site of the gateway, on port, open only to staff
// (the same host, so the same cookies and sessions as the first).
func staffSite(port int) string {
	return fmt.Sprintf(`
http://127.0.0.1:%d {
	route {
		mfa {
			allow_groups staff
		}
		respond "staff area" 200
	}
}
`, port)
}

// TestBrowserForbidden (issue 16, item 2): a signed-in user outside the
// route's allow_groups gets a 403 page that names the account and offers
// "Sign out" and "Sign in with another account", both of which work. In
// English and Japanese.
func TestBrowserForbidden(t *testing.T) {
	port := freePort(t)
	g := startGateway(t, gatewayOpts{extraSites: staffSite(port)})
	staff := fmt.Sprintf("http://127.0.0.1:%d", port)
	newTab := pushBrowser(t)
	var codes []string
	cases := []struct{ lang, title, says, signOut, another string }{
		{"en", "You don't have access", "You are signed in as Bob Example (bob), but this account doesn't have access to this page.", "Sign out", "Sign in with another account"},
		{"ja", "アクセス権がありません", "Bob Example（bob）としてサインインしていますが、このアカウントにはこのページへのアクセス権がありません。", "サインアウト", "別のアカウントでサインイン"},
	}
	for _, c := range cases {
		t.Run(c.lang, func(t *testing.T) {
			p := newTab(t)
			speaks(p, c.lang)
			css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
			if codes == nil {
				_, codes = registerInBrowser(p, g.URL, "bob")
			} else { // bob again, in a browser of his own: a recovery code
				p.do("open the app", chromedp.Navigate(g.URL+"/"), chromedp.WaitVisible(css("#username")))
				p.do("sign in", chromedp.SendKeys(css("#username"), "bob"), chromedp.SendKeys(css("#password"), testPassword),
					chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css("#code")))
				p.do("use a recovery code", chromedp.Navigate(g.URL+"/.mfa/challenge?method=recovery"), chromedp.WaitVisible(css("#code")),
					chromedp.SendKeys(css("#code"), codes[0]), chromedp.Click(css("button[type=submit]")),
					chromedp.WaitVisible(css("a.button")), chromedp.Click(css("a.button"))) // past the codes left
				if txt := bodyText(p, "upstream says", 10*time.Second); !strings.Contains(txt, "upstream says") {
					t.Fatalf("after the recovery code the tab shows %q", txt)
				}
			}
			another := css(`form.another button`)
			p.do("open the staff site", chromedp.Navigate(staff+"/reports?q=1"), chromedp.WaitVisible(css("h1")))
			txt := eval[string](p, `document.body.innerText`)
			if h := strings.TrimSpace(p.text("h1")); h != c.title {
				t.Fatalf("heading %q, want %q; page says:\n%s", h, c.title, txt)
			}
			if !strings.Contains(txt, c.says) {
				t.Errorf("the 403 page does not say %q; it says:\n%s", c.says, txt)
			}
			buttons := eval[[]string](p, `Array.from(document.querySelectorAll("main form button, main a")).map(e => e.textContent.trim())`)
			if strings.Join(buttons, "|") != c.signOut+"|"+c.another {
				t.Errorf("the 403 page offers %q, want %q and %q", buttons, c.signOut, c.another)
			}
			checkUsable(p, "403 page")
			screenshot(t, p.ctx, "forbidden-"+c.lang)
			if c.lang == "en" {
				// Another account: signed out, at the login page, with the way back.
				p.do("sign in with another account", chromedp.Click(another), chromedp.WaitVisible(css("#username")))
				if loc := eval[string](p, `location.pathname + location.search`); loc != "/.mfa/login?rd="+url.QueryEscape("/reports?q=1") {
					t.Errorf("another account: at %s", loc)
				}
				p.do("sign in as alice", chromedp.SendKeys(css("#username"), "alice"), chromedp.SendKeys(css("#password"), testPassword),
					chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css(`a.method`)))
				return
			}
			p.do("sign out", chromedp.Click(css(`form[action="/.mfa/logout"]:not(.another) button`)))
			// The click navigates (POST, then the redirect): read until there.
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				at, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`location.pathname`))
				if err == nil && at == "/.mfa/signed-out" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("sign out: at %q (%v), want /.mfa/signed-out", at, err)
				}
			}
			p.do("open the staff site again", chromedp.Navigate(staff+"/reports"), chromedp.WaitVisible(css("#username")))
		})
	}
}

// TestForbiddenBeforeSetup (issue 16, item 2): a user whom the route they
// came from refuses is told so after the password (the setup page answers
// 403, naming the account), instead of being asked to register a second
// factor for nothing; a user it lets in registers as before.
func TestForbiddenBeforeSetup(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gatewayOpts{route: "allow_groups staff"})
	for _, lang := range []string{"en", "ja"} {
		b := g.newBrowser()
		b.lang = lang
		expectRedirect(t, b.login("bob", testPassword, "/wiki"), "/.mfa/setup")
		page := b.get("/.mfa/setup")
		expectStatus(t, page, http.StatusForbidden)
		want := map[string]string{"en": "Bob Example (bob)", "ja": "Bob Example（bob）"}[lang]
		expectText(t, page, want, `action="/.mfa/logout"`, `name="rd" value="/wiki"`)
		expectNoText(t, page, "/.mfa/setup/")
		// Nor does a registration page let him register.
		expectStatus(t, b.get("/.mfa/setup/totp"), http.StatusForbidden)
	}
	expectRedirect(t, g.newBrowser().login("alice", testPassword, "/wiki"), "/.mfa/setup")
}
