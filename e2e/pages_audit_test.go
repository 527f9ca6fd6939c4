package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// The page audit: every portal page a user meets, rendered in Chromium at a
// phone's width (390 px) and a desktop's (1280 px), light and dark, in
// English and Japanese. Each rendering is saved as a PNG in the test's
// artefact directory (go test -artifacts keeps them; they are never
// committed) and checked for what a user would trip over:
//   - nothing overflows horizontally (no sideways scrolling);
//   - every input, select and text area has a label;
//   - a Japanese page shows no English outside a short allow-list of
//     product names and codes (text, placeholders, labels, titles, button
//     values);
//   - text contrasts with its background as WCAG 2.2 AA asks: 4.5:1, or
//     3:1 for large text;
//   - every control (button, checkbox, radio, select, text field) offers a
//     target of at least 24 by 24 CSS px (WCAG 2.2 2.5.8); links inside a
//     sentence are exempt, as WCAG allows.

// auditAllowedLatin are the Latin words a Japanese page may show: product
// and company names, the test's organisation and users, and codes.
func auditAllowedLatin() []string {
	return []string{
		"E2E", "Corp", "Alice", "Example", "alice", "bob", "Bob",
		"MFA", "ID", "QR", "URL", "PIN", "SMS", "UTC", "Caddy",
		"Google", "Microsoft", "Authenticator", "Authy", "ntfy", "iPhone", "Android",
		"Windows", "Hello", "YubiKey", "Touch", "Face", "Passkey", "JavaScript",
	}
}

// auditScript inspects the page and returns its findings as JSON.
const auditScript = `(() => {
const allowed = new Set(%s);
const out = {overflow: 0, unlabeled: [], english: [], contrast: [], small: []};
out.overflow = Math.max(0, document.documentElement.scrollWidth - window.innerWidth);
const visible = (el) => {
  for (let e = el; e; e = e.parentElement) {
    const cs = getComputedStyle(e);
    if (cs.display === 'none' || cs.visibility === 'hidden') return false;
  }
  return true;
};
for (const el of document.querySelectorAll('input, select, textarea')) {
  if (['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type) || !visible(el)) continue;
  const labelled = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') ||
    (el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]')) || el.closest('label');
  if (!labelled) out.unlabeled.push(el.name || el.id || el.outerHTML.slice(0, 80));
}
const words = (s) => (s.match(/[A-Za-z][A-Za-z'’]+/g) || []).filter(w => !allowed.has(w));
if (document.documentElement.lang === 'ja') {
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const n = walk.currentNode, p = n.parentElement;
    if (!p || p.closest('script, style, noscript, code, kbd, samp, [translate="no"]') || !visible(p)) continue;
    for (const w of words(n.textContent)) out.english.push(w + ' (in "' + n.textContent.trim().slice(0, 60) + '")');
  }
  for (const el of document.querySelectorAll('[placeholder], [title], [aria-label], img[alt], input[type=submit], input[type=button]')) {
    if (!visible(el)) continue;
    for (const a of ['placeholder', 'title', 'aria-label', 'alt', 'value']) {
      if (a === 'value' && !['submit', 'button'].includes(el.type)) continue;
      for (const w of words(el.getAttribute(a) || '')) out.english.push(w + ' (' + a + ' of <' + el.tagName.toLowerCase() + '>)');
    }
  }
}
const rgba = (s) => { const m = s.match(/[\d.]+/g) || [0, 0, 0, 0]; return m.map(Number).concat([1]).slice(0, 4); };
const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
const background = (el) => {
  let layers = [];
  for (let e = el; e; e = e.parentElement) {
    const c = rgba(getComputedStyle(e).backgroundColor);
    if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
  }
  let base = [255, 255, 255];
  if (layers.length === 0 || layers[layers.length - 1][3] < 1) {
    base = matchMedia('(prefers-color-scheme: dark)').matches ? [0, 0, 0] : [255, 255, 255];
  }
  for (const c of layers.reverse()) base = base.map((v, i) => c[i] * c[3] + v * (1 - c[3]));
  return base;
};
for (const el of document.body.querySelectorAll('*')) {
  const text = Array.from(el.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
  if (!text || !visible(el) || el.closest('script, style')) continue;
  const cs = getComputedStyle(el);
  const fg = rgba(cs.color), bg = background(el);
  const mixed = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
  const [l1, l2] = [lum(mixed), lum(bg)].sort((a, b) => b - a);
  const ratio = (l1 + 0.05) / (l2 + 0.05);
  const px = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
  const need = (px >= 24 || (bold && px >= 18.66)) ? 3 : 4.5;
  if (ratio < need) out.contrast.push(el.tagName.toLowerCase() + ' "' + text.slice(0, 40) + '": ' + ratio.toFixed(2) + ' < ' + need);
}
for (const el of document.querySelectorAll('button:not(.link), a.button, input:not([type=hidden]), select, textarea')) {
  if (!visible(el)) continue;
  const r = el.getBoundingClientRect();
  if (r.width < 24 || r.height < 24) out.small.push(el.tagName.toLowerCase() + (el.type ? '[' + el.type + ']' : '') + '#' + (el.id || el.name || '') + ' ' + Math.round(r.width) + '×' + Math.round(r.height));
}
return JSON.stringify(out);
})()`

// auditFindings is what auditScript reports.
type auditFindings struct {
	Overflow  int      `json:"overflow"`
	Unlabeled []string `json:"unlabeled"`
	English   []string `json:"english"`
	Contrast  []string `json:"contrast"`
	Small     []string `json:"small"`
}

// auditState is a browser in one state of sign-in and the pages it sees.
type auditState struct {
	name  string
	b     *browser // nil: anonymous
	pages []string
}

// TestPagesAudit renders and checks every page a user meets (see above).
func TestPagesAudit(t *testing.T) {
	// Pages are opened on a site on localhost, where security keys work.
	port := freePort(t)
	site := fmt.Sprintf("http://localhost:%d", port)
	g := startGateway(t, gatewayOpts{global: fmt.Sprintf("remember_device 1d\n\t\thelp_url https://help.example.com\n\t\twebauthn {\n\t\t\trp_id localhost\n\t\t\torigins %s\n\t\t}", site),
		extraSites: keyAppSite(port)})

	signedIn := g.newBrowser()
	e := signedIn.firstSignIn("alice", "/")
	// The result pages of Security info show for two minutes after the
	// change: the audit reads them within that.
	createAppPassword(t, signedIn, "メール") // a user's own name: not English on the Japanese pages
	expectStatus(t, signedIn.confirmed("/.mfa/security/recovery", url.Values{"csrf": {csrfOf(t, signedIn.get("/.mfa/security").Body)}}), http.StatusOK)
	challenged := g.newBrowser()
	expectRedirect(t, challenged.login("alice", testPassword, "/"), "/.mfa/challenge")
	enrolling := g.newBrowser()
	expectRedirect(t, enrolling.login("bob", testPassword, "/"), "/.mfa/setup")
	_ = e

	states := []auditState{
		{"anonymous", nil, []string{"login", "login?rd=%2Fapp", "signed-out", "no-such-page"}},
		{"registering", enrolling, []string{"setup", "setup/totp", "setup/key"}},
		{"asked for the second factor", challenged, []string{"challenge", "challenge?method=recovery"}},
		{"signed in", signedIn, []string{"", "security", "setup", "setup/totp", "recovery-left", "security/recovery", "security/signout",
			"security/recovery/codes", "security/app-passwords/new"}},
	}
	newAuditor(t, g, site).audit(states)
}

// auditor opens pages of g's site in one Chromium and audits them.
type auditor struct {
	t       *testing.T
	g       *gateway
	site    string
	script  string
	dir     string
	browser page
}

// newAuditor starts the Chromium of an audit of pages on site (g's URL
// or another name of it).
func newAuditor(t *testing.T, g *gateway, site string) *auditor {
	t.Helper()
	allowed, _ := json.Marshal(auditAllowedLatin())
	a := &auditor{t: t, g: g, site: site, script: fmt.Sprintf(auditScript, allowed), dir: t.ArtifactDir(), browser: page{t, newChromium(t)}}
	t.Cleanup(func() { t.Logf("screenshots in %s", a.dir) })
	return a
}

// audit renders and checks every page of each state, in both languages,
// on a phone and a desktop, light and dark.
func (a *auditor) audit(states []auditState) {
	t, ctx := a.t, a.browser.ctx
	for _, lang := range []string{"en", "ja"} {
		setBrowserLang(t, a.browser, lang)
		for _, s := range states {
			copyCookies(t, a.browser, a.g, s.b, a.site)
			for _, width := range []int64{390, 1280} {
				for _, scheme := range []string{"light", "dark"} {
					if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
						Width: width, Height: 900, DeviceScaleFactor: 1, Mobile: width < 600}); err != nil {
						t.Fatal(err)
					}
					if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
						Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
						t.Fatal(err)
					}
					for _, pg := range s.pages {
						where := fmt.Sprintf("%s, %s, %d px, %s: /.mfa/%s", lang, s.name, width, scheme, pg)
						auditPage(t, a.browser, a.site+"/.mfa/"+pg, a.script, where,
							filepath.Join(a.dir, fmt.Sprintf("%s-%d-%s-%s.png", lang, width, scheme, auditFileName(s.name+"-"+pg))))
					}
				}
			}
		}
	}
}

// auditPage opens target, saves its screenshot to png and reports what
// auditScript finds on it.
func auditPage(t *testing.T, p page, target, script, where, png string) {
	t.Helper()
	resp, err := chromedp.RunResponse(p.ctx, chromedp.Navigate(target))
	if err != nil {
		p.fail(where, err)
	}
	want := int64(http.StatusOK)
	if strings.Contains(target, "no-such-page") {
		want = http.StatusNotFound
	}
	if resp.Status != want {
		t.Errorf("%s: status %d, want %d", where, resp.Status, want)
		return
	}
	buf, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.fail(where+": screenshot", err)
	}
	if err := os.WriteFile(png, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	raw := eval[string](p, script)
	var f auditFindings
	if err := json.Unmarshal([]byte(raw), &f); err != nil {
		t.Fatalf("%s: audit: %v: %s", where, err, raw)
	}
	if f.Overflow > 0 {
		t.Errorf("%s: overflows horizontally by %d px", where, f.Overflow)
	}
	if len(f.Unlabeled) > 0 {
		t.Errorf("%s: inputs without a label: %v", where, f.Unlabeled)
	}
	if len(f.English) > 0 {
		t.Errorf("%s: English on a Japanese page: %v", where, f.English)
	}
	if len(f.Contrast) > 0 {
		t.Errorf("%s: text below WCAG AA contrast: %v", where, f.Contrast)
	}
	if len(f.Small) > 0 {
		t.Errorf("%s: controls smaller than 24×24 px: %v", where, f.Small)
	}
}

// auditFileName makes a page's name safe as a file name.
func auditFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, strings.ToLower(s))
}
