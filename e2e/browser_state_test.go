package e2e

import (
	"net/url"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// setBrowserLang makes the Chromium tab of p ask for pages in lang.
func setBrowserLang(t *testing.T, p page, lang string) {
	t.Helper()
	if _, err := chromedp.Call(p.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": lang}}); err != nil {
		t.Fatalf("setting the browser's language: %v", err)
	}
}

// copyCookies gives the Chromium tab of p the cookies b holds for g (and
// nothing else), as if the browser had signed in itself; site, if given,
// is the URL they are set for (default g.URL).
func copyCookies(t *testing.T, p page, g *gateway, b *browser, site ...string) {
	t.Helper()
	if _, err := chromedp.Call(p.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if b == nil {
		return
	}
	target := g.URL
	if len(site) > 0 {
		target = site[0]
	}
	u, _ := url.Parse(g.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if _, err := chromedp.Call(p.ctx, network.SetCookie, network.SetCookieParams{Name: c.Name, Value: c.Value, URL: target + "/"}); err != nil {
			t.Fatalf("copying cookie %s: %v", c.Name, err)
		}
	}
}
