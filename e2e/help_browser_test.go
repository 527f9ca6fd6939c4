package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserHelpLink (issue 16, item 10): with help_url set, every page
// links to it, and the second-factor page tells a user who lost their phone
// to use a recovery code or get help there; without it, the page says to
// ask an administrator and links nowhere. In English and Japanese.
func TestBrowserHelpLink(t *testing.T) {
	const help = "https://help.example.com/mfa?from=portal&x=1"
	for _, tc := range []struct {
		name, global, lang, lost string
		link                     bool
	}{
		{"help_url, en", "help_url \"" + help + "\"", "en", "Lost your phone?", true},
		{"help_url, ja", "help_url \"" + help + "\"", "ja", "スマートフォンをなくした場合は", true},
		{"none, en", "", "en", "ask your administrator", false},
		{"none, ja", "", "ja", "管理者に連絡してください", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := startGateway(t, gatewayOpts{global: tc.global})
			b := g.newBrowser()
			b.firstSignIn("alice", "/")
			c := g.newBrowser()
			c.lang = tc.lang
			expectRedirect(t, c.login("alice", testPassword, "/"), "/.mfa/challenge")
			ctx := newChromium(t)
			p := page{t, ctx}
			setBrowserLang(t, p, tc.lang)
			copyCookies(t, p, g, c)
			for _, path := range []string{"/.mfa/login", "/.mfa/challenge", "/.mfa/challenge?method=recovery"} {
				p.do("open "+path, chromedp.Navigate(g.URL+path), chromedp.WaitVisible(chromedp.CSS("h1")))
				href := eval[string](p, `(document.querySelector("a.help") || {}).href || ""`)
				if tc.link && href != help {
					t.Errorf("%s: help link %q, want %q", path, href, help)
				}
				if !tc.link && href != "" {
					t.Errorf("%s: a help link %q without help_url", path, href)
				}
			}
			p.do("the challenge", chromedp.Navigate(g.URL+"/.mfa/challenge"), chromedp.WaitVisible(chromedp.CSS("h1")))
			lost := eval[string](p, `(document.querySelector("p.lost") || {}).textContent || ""`)
			if !strings.Contains(lost, tc.lost) {
				t.Errorf("lost-phone line %q, want it to contain %q", lost, tc.lost)
			}
		})
	}
}
