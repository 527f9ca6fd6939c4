package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"gopkg.in/yaml.v3"

	"github.com/caddy-mfa/caddy-mfa/internal/twiliotest"
)

// The phone pages as a signed-in user meets them (adding a call from
// Security info, changing a number) and the call pages of a sign-in, in
// headless Chromium, in English and Japanese: the words checked are the
// catalogue's, so each language is held to its own text.

// catalogue is the message catalogue of lang (ui/locales/<lang>.yaml).
func catalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "ui", "locales", lang+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s catalogue: %v", lang, err)
	}
	return m
}

// placeholderRE is a template action of a catalogue entry.
var placeholderRE = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// msg is the entry id of cat with its placeholders filled from kv (name,
// value pairs); an id the catalogue lacks fails the test.
func msg(t *testing.T, cat map[string]string, id string, kv ...string) string {
	t.Helper()
	s, ok := cat[id]
	if !ok {
		t.Fatalf("the catalogue has no %q", id)
	}
	data := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		data[kv[i]] = kv[i+1]
	}
	return placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		return data[placeholderRE.FindStringSubmatch(m)[1]]
	})
}

// sessionTab opens a tab in a browser context of its own that speaks lang
// and carries the session of HTTP browser b (its session cookie).
func sessionTab(t *testing.T, browserCtx context.Context, g *gateway, b *browser, lang string) page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := page{t, ctx}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": lang}}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "caddy_mfa", Value: b.sessionCookie(), URL: g.URL + "/"}); err != nil {
		t.Fatal(err)
	}
	return p
}

// mainText is the text of the page's card, read once the page has loaded.
func mainText(p page) string {
	p.t.Helper()
	var txt string
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		txt, err = chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.readyState === "complete" && document.querySelector("main") ? document.querySelector("main").innerText : ""`))
		if err == nil && txt != "" {
			return txt
		}
	}
	p.fail("reading the page", err)
	return ""
}

// wantIn fails unless txt (what page p shows, at step) holds each of want.
func wantIn(p page, step, txt string, want ...string) {
	p.t.Helper()
	for _, w := range want {
		if !strings.Contains(txt, w) {
			p.t.Fatalf("%s: the page lacks %q; it shows:\n%s", step, w, txt)
		}
	}
}

// wantNotIn fails if txt holds any of unwanted.
func wantNotIn(p page, step, txt string, unwanted ...string) {
	p.t.Helper()
	for _, w := range unwanted {
		if w != "" && strings.Contains(txt, w) {
			p.t.Fatalf("%s: the page shows %q:\n%s", step, w, txt)
		}
	}
}

// waitPath waits up to d for the tab to be at path (and loaded).
func waitPath(p page, path string, d time.Duration) {
	p.t.Helper()
	var at string
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		v, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.readyState === "complete" ? location.pathname + location.search : ""`))
		if err == nil {
			at = v
			if strings.HasPrefix(at, path) {
				return
			}
		}
	}
	p.fail("waiting for "+path, fmt.Errorf("the tab is at %q", at))
}

// TestBrowserPhoneSignedIn: a signed-in user adds a phone call from
// Security info and changes a number, and a sign-in call is denied or
// answered late, in English and Japanese:
//   - adding: the setup pages are worded for adding and lead back to
//     Security info (never "Cancel and sign out"); the waiting page loads
//     once (its status poll answers a signed-in user) and goes back to
//     Security info by itself after the #; the call says the phone is
//     confirmed, not "you are signed in";
//   - changing a number: the form names the number from the account (a
//     crafted masked= in the link shows nowhere), starts at the country of
//     that number, and the notice says the number was changed;
//   - a denied sign-in call no longer asks to answer and press #;
//     Continue before the answer is not a failed sign-in.
func TestBrowserPhoneSignedIn(t *testing.T) {
	t.Parallel()
	browserCtx := newChromium(t)
	if err := chromedp.Do(browserCtx); err != nil { // starts the browser
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "ja"} {
		t.Run(lang, func(t *testing.T) {
			cat := catalogue(t, lang)
			f := twiliotest.New(t, twilioSID, twilioToken)
			g, _ := startPhoneGateway(t, twilioBlock("sms", f)+twilioBlock("voice", f)+
				limitsBlock("resend_after 1s", "send_per_user 50/1h", "send_per_number 50/1h"))
			var gap sendGap
			b := g.newBrowser()
			b.enrolSMS(f, "alice", jpRegion, jpTyped, jpE164)
			gap.sent("alice")
			p := sessionTab(t, browserCtx, g, b, lang)
			css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
			signOut, back := msg(t, cat, "common.sign_out"), msg(t, cat, "setup.back_security")

			// The choice of method, worded for adding one.
			p.do("open setup", chromedp.Navigate(g.URL+"/.mfa/setup"), chromedp.WaitVisible(css(`a.method[href$="method=voice"]`)))
			txt := mainText(p)
			if h := p.text("h1"); h != msg(t, cat, "title.setup_add") {
				t.Fatalf("the setup page for adding a method is headed %q", h)
			}
			wantNotIn(p, "setup (adding)", txt, msg(t, cat, "setup.intro"), signOut)
			wantIn(p, "setup (adding)", txt, back)

			// The phone form: back to Security info, not "Cancel and sign out".
			p.do("choose a call", chromedp.Click(css(`a.method[href$="method=voice"]`)), chromedp.WaitVisible(css("#number")))
			txt = mainText(p)
			wantNotIn(p, "phone form (adding)", txt, signOut)
			wantIn(p, "phone form (adding)", txt, back)
			if n := eval[int](p, `document.querySelectorAll('a[href="/.mfa/security"]').length`); n != 1 {
				t.Fatalf("the phone form has %d links back to Security info", n)
			}
			countLoads(t, p.ctx)
			gap.wait("alice")
			p.do("call me", chromedp.SendKeys(css("#number"), ukLandTyped), chromedp.Click(css(`button[type=submit]`)),
				chromedp.WaitVisible(css("#call-finish button")))
			gap.sent("alice")
			call := f.WaitCall(t, ukLandE164, sendTimeout)
			wantNotIn(p, "waiting for the call (adding)", mainText(p), signOut)
			// The page waits on its status poll, without reloading itself.
			time.Sleep(3500 * time.Millisecond)
			waits, polls := countedLoads(p, "/.mfa/setup/phone/wait")
			if waits != 1 || polls < 1 {
				t.Fatalf("in 3.5 s the waiting page was loaded %d times and polled %d times; want once, and a poll", waits, polls)
			}
			reply := pressed(t, f, call, "#")
			if strings.Contains(reply.Body, msg(t, cat, "voice.approved")) || !strings.Contains(reply.Body, msg(t, cat, "voice.approved_enrol")) {
				t.Fatalf("after # the registration call says:\n%s", reply.Body)
			}
			waitPath(p, "/.mfa/security", 10*time.Second)
			txt = mainText(p)
			wantIn(p, "security info after adding a call", txt, msg(t, cat, "message.method_added"), ukLandMasked)

			// Change the office number: the form knows it from the account.
			href := eval[string](p, `(document.querySelector('a[href*="replace=phone-1"]') || {}).href || ""`)
			if href == "" || strings.Contains(href, "masked=") {
				t.Fatalf("the change link of the office phone is %q; the number must not travel in the URL", href)
			}
			crafted := g.URL + "/.mfa/setup/phone?method=voice&replace=phone-1&masked=" + url.QueryEscape("CALL 0800 FRAUD")
			p.do("open a crafted change link", chromedp.Navigate(crafted), chromedp.WaitVisible(css("#number")))
			txt = mainText(p)
			wantNotIn(p, "crafted change link", txt, "CALL 0800 FRAUD", signOut)
			wantIn(p, "change of number", txt, msg(t, cat, "phone.replacing", "ReplaceMasked", ukLandMasked), back)
			if h := p.text("h1"); h != msg(t, cat, "title.change_phone") {
				t.Fatalf("the change-number form is headed %q", h)
			}
			if r := eval[string](p, `document.getElementById("region").value`); r != "GB" {
				t.Fatalf("the change-number form starts at country %q, want GB (the number's)", r)
			}
			p.do("follow the change link", chromedp.Navigate(href), chromedp.WaitVisible(css("#number")))
			gap.wait("alice")
			p.do("call the new number", chromedp.SetValue(css("#region"), "US"), chromedp.SendKeys(css("#number"), usTyped),
				chromedp.Click(css(`button[type=submit]`)), chromedp.WaitVisible(css("#call-finish button")))
			gap.sent("alice")
			expectStatus(t, pressed(t, f, f.WaitCall(t, usE164, sendTimeout), "#"), 200)
			waitPath(p, "/.mfa/security", 10*time.Second)
			txt = mainText(p)
			wantIn(p, "security info after a change of number", txt, msg(t, cat, "message.number_changed"))
			wantNotIn(p, "security info after a change of number", txt, msg(t, cat, "message.method_added"), ukLandMasked)

			// A denied sign-in call: the page no longer asks to answer it.
			c := g.newBrowser()
			c.passwordOnly("alice", "/")
			q := sessionTab(t, browserCtx, g, c, lang)
			gap.wait("alice")
			q.do("call me at sign-in", chromedp.Navigate(g.URL+"/.mfa/challenge?method=voice"),
				chromedp.WaitVisible(css(`form[action="/.mfa/challenge/send"] button`)),
				chromedp.Click(css(`form[action="/.mfa/challenge/send"] button`)), chromedp.WaitVisible(css("#call-finish button")))
			gap.sent("alice")
			expectStatus(t, pressed(t, f, f.WaitCall(t, jpE164, sendTimeout), "1"), 200)
			notApproved := msg(t, cat, "error.call_not_approved")
			txt = bodyText(q, notApproved, 10*time.Second)
			wantIn(q, "a denied call", txt, notApproved)
			wantNotIn(q, "a denied call", txt, msg(t, cat, "phone.calling", "Masked", jpMasked), msg(t, cat, "title.phone_wait"),
				msg(t, cat, "phone.status_pending"))

			// Continue before the call is answered (no JavaScript): still waiting, no failure.
			d := g.newBrowser()
			d.passwordOnly("alice", "/")
			r := sessionTab(t, browserCtx, g, d, lang)
			if _, err := chromedp.Call(r.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
				t.Fatal(err)
			}
			failedBefore := len(g.logLines("sign_in_failed", "call_not_approved"))
			gap.wait("alice")
			r.do("call me, then Continue at once", chromedp.Navigate(g.URL+"/.mfa/challenge?method=voice"),
				chromedp.WaitVisible(css(`form[action="/.mfa/challenge/send"] button`)),
				chromedp.Click(css(`form[action="/.mfa/challenge/send"] button`)), chromedp.WaitVisible(css("#call-finish button")))
			gap.sent("alice")
			late := f.WaitCall(t, jpE164, sendTimeout)
			r.do("continue too early", chromedp.Click(css("#call-finish button")))
			time.Sleep(500 * time.Millisecond)
			txt = mainText(r)
			wantNotIn(r, "Continue before the answer", txt, notApproved)
			wantIn(r, "Continue before the answer", txt, msg(t, cat, "phone.status_pending"))
			if n := len(g.logLines("sign_in_failed", "call_not_approved")); n != failedBefore {
				t.Fatalf("Continue before the answer logged sign_in_failed")
			}
			expectStatus(t, pressed(t, f, late, "#"), 200)
			r.do("continue", chromedp.WaitVisible(css("#call-finish button")), chromedp.Click(css("#call-finish button")))
			txt = bodyText(r, "upstream says", 10*time.Second)
			if !strings.Contains(txt, `upstream says hello to "alice"`) {
				t.Fatalf("after # and Continue the tab shows %q", txt)
			}
		})
	}
}
