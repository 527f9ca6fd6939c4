package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/caddy-mfa/caddy-mfa/internal/twiliotest"
)

// loadCounter runs at the start of every document: it records, in the
// tab's sessionStorage, the path of each page loaded and each request the
// page makes to the call status endpoint.
const loadCounter = `(function () {
  try {
    var s = window.sessionStorage;
    var loads = JSON.parse(s.getItem("e2e-loads") || "[]");
    loads.push(location.pathname);
    s.setItem("e2e-loads", JSON.stringify(loads));
    if (window.fetch) {
      var f = window.fetch;
      window.fetch = function (u) {
        if (String(u).indexOf("/call/status") >= 0) {
          s.setItem("e2e-polls", String(+(s.getItem("e2e-polls") || 0) + 1));
        }
        return f.apply(this, arguments);
      };
    }
  } catch (e) {}
})();`

// countLoads installs loadCounter in the tab of ctx.
func countLoads(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: loadCounter}); err != nil {
		t.Fatal(err)
	}
}

// countedLoads returns how many times the tab loaded path, and the status polls.
func countedLoads(p page, path string) (int, int) {
	p.t.Helper()
	var list []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		v, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`JSON.parse(sessionStorage.getItem("e2e-loads") || "[]")`))
		if err == nil {
			list = v
			break
		}
		if time.Now().After(deadline) { // navigating all along
			p.fail("reading the load counter", err)
		}
	}
	n := 0
	for _, l := range list {
		if l == path {
			n++
		}
	}
	polls := 0
	if v, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`sessionStorage.getItem("e2e-polls") || "0"`)); err == nil {
		polls = mustAtoi(p.t, v)
	}
	return n, polls
}

// bodyText waits up to d for the page's text to contain want (reading
// during a navigation fails, so it retries) and returns it.
func bodyText(p page, want string, d time.Duration) string {
	p.t.Helper()
	var txt string
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		txt, _ = chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		if strings.Contains(txt, want) {
			break
		}
	}
	return txt
}

// voiceBrowserGateway is a voice-only gateway where alice has registered
// her phone (over HTTP); the returned sendGap knows when.
func voiceBrowserGateway(t *testing.T) (*gateway, *twiliotest.Fake, *sendGap) {
	f := twiliotest.New(t, twilioSID, twilioToken)
	g, _ := startPhoneGateway(t, twilioBlock("voice", f)+limitsBlock("resend_after 1s"))
	gap := &sendGap{}
	g.newBrowser().enrolVoice(f, "alice", jpRegion, jpTyped, "", jpE164)
	gap.sent("alice")
	return g, f, gap
}

// callFromBrowser signs alice in with the password in the tab and presses
// "Call me", ending on the waiting page.
func callFromBrowser(p page, g *gateway, gap *sendGap, path string) {
	p.t.Helper()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	p.do("open the app", chromedp.Navigate(g.URL+path), chromedp.WaitVisible(css("#username")))
	p.do("sign in", chromedp.SendKeys(css("#username"), "alice"), chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css(`form[action="/.mfa/challenge/send"] button`)))
	if s := p.text("main"); !strings.Contains(s, "We'll call +81 •• •••• 5678") {
		p.t.Fatalf("challenge page says %q", s)
	}
	gap.wait("alice")
	p.do("call me", chromedp.Click(css(`form[action="/.mfa/challenge/send"] button`)), chromedp.WaitVisible(css("#call-finish button")))
	gap.sent("alice")
}

// TestBrowserVoiceWaitingPage drives the page that waits for a sign-in
// call in headless Chromium (one browser, a tab with its own cookies for
// each case):
//   - approved: the page long-polls the call's status and goes on to the
//     app by itself once the callee presses #, loading the waiting page once;
//   - denied: when the callee presses another key, the page says so, once,
//     instead of reloading itself in a loop;
//   - without JavaScript: the page refreshes itself (<noscript> meta
//     refresh) and has a Continue button, which signs in after the #.
func TestBrowserVoiceWaitingPage(t *testing.T) {
	t.Parallel()
	g, f, gap := voiceBrowserGateway(t)
	browserCtx := newChromium(t)
	if err := chromedp.Do(browserCtx); err != nil { // starts the browser
		t.Fatal(err)
	}
	tab := func(t *testing.T) page {
		ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel) // closes the tab: a page that reloads in a loop stops
		return page{t, ctx}
	}

	t.Run("approved", func(t *testing.T) {
		p := tab(t)
		countLoads(t, p.ctx)
		callFromBrowser(p, g, gap, "/app?tab=calls")
		call := f.WaitCall(t, jpE164, sendTimeout)
		screenshot(t, p.ctx, "voice-1-wait")
		// The page polls before anything happens on the phone.
		p.do("page polls the call status", void(chromedp.Poll[bool](`+(sessionStorage.getItem("e2e-polls") || 0) >= 1`, chromedp.WithPollingTimeout(10*time.Second))))
		time.Sleep(200 * time.Millisecond)

		pressedAt := time.Now()
		expectStatus(t, pressed(t, f, call, "#"), 200)
		txt := bodyText(p, "upstream says", 10*time.Second)
		took := time.Since(pressedAt)
		if !strings.Contains(txt, `upstream says hello to "alice" at /app?tab=calls`) {
			t.Fatalf("after # the tab shows %q", txt)
		}
		if took > 4*time.Second {
			t.Errorf("the page went on %v after the key press (the no-script refresh is 5 s; the long poll should be quicker)", took)
		}
		waits, polls := countedLoads(p, "/.mfa/challenge/wait")
		if waits != 1 {
			t.Errorf("the waiting page was loaded %d times, want once", waits)
		}
		if polls < 1 || polls > 3 {
			t.Errorf("the page polled the call status %d times while one poll waits up to 20 s", polls)
		}
		t.Logf("went on %v after #; %d status polls", took, polls)
	})

	t.Run("denied", func(t *testing.T) {
		p := tab(t)
		countLoads(t, p.ctx)
		_, hitsBefore := g.Upstream.Last()
		callFromBrowser(p, g, gap, "/app")
		call := f.WaitCall(t, jpE164, sendTimeout)
		p.do("page polls the call status", void(chromedp.Poll[bool](`+(sessionStorage.getItem("e2e-polls") || 0) >= 1`, chromedp.WithPollingTimeout(10*time.Second))))
		expectStatus(t, pressed(t, f, call, "1"), 200)
		txt := bodyText(p, "The call was not approved", 10*time.Second)
		if !strings.Contains(txt, "The call was not approved") {
			t.Fatalf("after 1 the tab shows %q", txt)
		}
		time.Sleep(2 * time.Second)
		waits, polls := countedLoads(p, "/.mfa/challenge/wait")
		if waits > 2 || polls > 3 {
			t.Errorf("after a denied call, the waiting page was loaded %d times and polled the call status %d times in 2 s: it reloads itself in a loop", waits, polls)
		}
		if _, hits := g.Upstream.Last(); hits != hitsBefore {
			t.Fatal("a denied call reached the app")
		}
	})

	t.Run("without JavaScript", func(t *testing.T) {
		p := tab(t)
		if _, err := chromedp.Call(p.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatal(err)
		}
		callFromBrowser(p, g, gap, "/app?js=off")
		call := f.WaitCall(t, jpE164, sendTimeout)
		head, err := chromedp.Run(p.ctx, chromedp.OuterHTML(chromedp.CSS("head")))
		if err != nil {
			p.fail("reading the head", err)
		}
		if !strings.Contains(head, `<noscript><meta http-equiv="refresh"`) {
			t.Fatalf("the waiting page has no refresh for browsers without JavaScript:\n%s", head)
		}
		if b := p.text("#call-finish button"); b != "Continue" {
			t.Fatalf("button %q, want Continue", b)
		}
		expectStatus(t, pressed(t, f, call, "#"), 200)
		screenshot(t, p.ctx, "voice-2-nojs")
		p.do("continue", chromedp.Click(chromedp.CSS("#call-finish button")))
		txt := bodyText(p, "upstream says", 10*time.Second)
		if !strings.Contains(txt, `upstream says hello to "alice" at /app?js=off`) {
			t.Fatalf("after Continue the tab shows %q", txt)
		}
	})
}
