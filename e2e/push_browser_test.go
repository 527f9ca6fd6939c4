package e2e

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/caddy-mfa/caddy-mfa/internal/ntfytest"
)

// The app-notification sign-in in headless Chromium, with two tabs in
// browser contexts of their own (no shared cookies or storage): tab A is the
// computer signing in, tab B the phone that opens the notification's link.

// pushPollCounter runs at the start of every document and counts, in the
// tab's sessionStorage, the requests the page makes to the push status
// endpoint (loadCounter counts only the call status).
const pushPollCounter = `(function () {
  try {
    var s = window.sessionStorage;
    if (window.fetch) {
      var f = window.fetch;
      window.fetch = function (u) {
        if (String(u).indexOf("/push/status") >= 0) {
          s.setItem("e2e-push-polls", String(+(s.getItem("e2e-push-polls") || 0) + 1));
        }
        return f.apply(this, arguments);
      };
    }
  } catch (e) {}
})();`

// countPushPolls installs pushPollCounter in the tab of ctx.
func countPushPolls(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: pushPollCounter}); err != nil {
		t.Fatal(err)
	}
}

// pushPolls is how many times the tab asked for the push status.
func pushPolls(p page) int {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`sessionStorage.getItem("e2e-push-polls") || "0"`))
	if err != nil {
		p.fail("reading the poll counter", err)
	}
	return mustAtoi(p.t, v)
}

// pushBrowser starts Chromium and returns a function that opens a tab in a
// browser context of its own (cookies included), closed when its test ends.
func pushBrowser(t *testing.T) func(t *testing.T) page {
	browserCtx := newChromium(t)
	if err := chromedp.Do(browserCtx); err != nil { // starts the browser
		t.Fatal(err)
	}
	return func(t *testing.T) page {
		ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		return page{t, ctx}
	}
}

// pushFromBrowser signs alice in with the password in tab a, opening path
// of the app, and presses "Send notification"; it ends on the waiting
// page and returns the number shown there.
func pushFromBrowser(a page, g *gateway, path string) string {
	a.t.Helper()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	send := css(`form[action="/.mfa/challenge/send"] button`)
	a.do("open the app", chromedp.Navigate(g.URL+path), chromedp.WaitVisible(css("#username")))
	a.do("sign in", chromedp.SendKeys(css("#username"), "alice"), chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(send))
	if s := a.text("main"); !strings.Contains(s, "We'll send a notification to your phone") || !strings.Contains(s, "Send notification") {
		a.t.Fatalf("challenge page says %q", s)
	}
	a.do("send notification", chromedp.Click(send), chromedp.WaitVisible(css("#push-number")))
	number := strings.TrimSpace(a.text("#push-number"))
	if !regexp.MustCompile(`^\d\d$`).MatchString(number) {
		a.t.Fatalf("waiting page shows number %q, want two digits; page says %q", number, a.text("main"))
	}
	return number
}

// header is the response header name, whatever its case.
func header(r *network.Response, name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// openApproval opens link in the phone's tab and returns the response to
// the link itself, once the page's script has posted the token from the
// link's fragment and the approval page (or the outcome) is shown.
func openApproval(b page, link string) *network.Response {
	b.t.Helper()
	// From a blank page, as a notification opens it: from the approval
	// page itself the link would only change the fragment.
	b.do("blank page", chromedp.Navigate("about:blank"))
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Navigate(link))
	if err != nil {
		b.fail("opening "+link, err)
	}
	b.do("the link's page posts the token", chromedp.WaitNotPresent(chromedp.CSS("#push-open")), chromedp.WaitVisible(chromedp.CSS("h1")))
	return resp
}

// answerApproval presses the button of answer (with number typed first,
// if any) on the approval page in the phone's tab and returns the answer.
func answerApproval(b page, answer, number string) *network.Response {
	b.t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	if number != "" {
		steps = append(steps, chromedp.SendKeys(chromedp.CSS("#number"), number))
	}
	steps = append(steps, chromedp.Click(chromedp.CSS(`button[value=`+answer+`]`)))
	resp, err := chromedp.RunResponse(b.ctx, steps...)
	if err != nil {
		b.fail("answering "+answer, err)
	}
	return resp
}

// onlyClaimCookie fails unless the phone holds just the cookie that
// claims the prompt: host-only, out of scripts' reach,
// never sent from another site.
func onlyClaimCookie(b page, urls ...string) {
	b.t.Helper()
	if c := eval[string](b, `document.cookie`); c != "" {
		b.t.Errorf("the approval page's script can see cookies %q", c)
	}
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: urls})
	if err != nil {
		b.fail("reading cookies", err)
	}
	if len(res.Cookies) != 1 {
		b.t.Fatalf("the phone holds %d cookies, want the claim only", len(res.Cookies))
	}
	if c := res.Cookies[0]; c.Name != "caddy_mfa_push" || c.Path != "/" || !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict {
		b.t.Errorf("claim cookie %s path %s httpOnly %v sameSite %s", c.Name, c.Path, c.HTTPOnly, c.SameSite)
	}
}

// checkApprovalPage checks the approval page the phone opened: what it
// shows, that it runs no script, and that the token left the address bar.
func checkApprovalPage(b page, resp *network.Response, g *gateway) {
	b.t.Helper()
	t := b.t
	if resp.Status != http.StatusOK {
		b.fail("approval page", fmt.Errorf("status %d", resp.Status))
	}
	if c := header(resp, "Set-Cookie"); c != "" {
		t.Errorf("the link's page sets a cookie before it knows the prompt: %s", c)
	}
	if csp := header(resp, "Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("link page CSP %q: want default-src 'none' and the portal's own scripts only", csp)
	}
	if href := eval[string](b, `location.href`); strings.Contains(href, "t=") || strings.Contains(href, "#") {
		t.Errorf("the token is still in the address bar: %s", href)
	}
	if h := b.text("h1"); h != "Are you trying to sign in?" {
		t.Errorf("approval page heading %q", h)
	}
	fields := eval[[]string](b, `Array.from(document.querySelectorAll("dl.prompt dt, dl.prompt dd")).map(e => e.textContent.trim())`)
	want := map[string]string{"Account": "Alice Example (alice)", "Site": strings.TrimPrefix(g.URL, "http://"), "IP address": "127.0.0.1", "Browser": "Chrome on Linux"}
	got := map[string]string{}
	for i := 0; i+1 < len(fields); i += 2 {
		got[fields[i]] = fields[i+1]
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("approval page shows %s %q, want %q (all: %q)", k, got[k], v, fields)
		}
	}
	if n := eval[int](b, `document.scripts.length`); n != 0 {
		t.Errorf("the approval page has %d <script> elements", n)
	}
	if eval[bool](b, `document.getElementById("push-number") !== null`) {
		t.Error("the approval page shows the number to pick")
	}
}

// pushGateway is a gateway with a fake ntfy where alice has registered her
// phone (over HTTP); it returns the phone's topic and the public URL.
func pushGateway(t *testing.T) (*gateway, *ntfytest.Fake, string, string) {
	t.Helper()
	f := ntfytest.New(t, ntfyToken)
	g, public := startPhoneGateway(t, ntfyBlock(f)+limitsBlock("push_per_user 10/5m"))
	topic, _ := g.newBrowser().enrolPush(f, "alice")
	return g, f, public, topic
}

// TestBrowserPushApproval signs in with an app notification in headless
// Chromium: the waiting page long-polls the prompt's status and goes on to
// the app by itself once the phone approves with the number shown, loading
// the waiting page once; the phone (a browser context of its own) sees who
// signs in, where from, on which site and with which browser, and the
// approval page runs no script and uses no cookie; the link works once.
func TestBrowserPushApproval(t *testing.T) {
	t.Parallel()
	g, f, public, topic := pushGateway(t)
	tab := pushBrowser(t)
	a, b := tab(t), tab(t)
	countLoads(t, a.ctx)
	countPushPolls(t, a.ctx)
	number := pushFromBrowser(a, g, "/reports?week=7")
	screenshot(t, a.ctx, "push-1-wait")
	msg := f.WaitMessage(t, topic, sendTimeout)
	if !strings.HasPrefix(msg.Click, public+"/.mfa/push/approve#t=") {
		t.Fatalf("notification link %q, want the approval page on %s", msg.Click, public)
	}
	if !strings.Contains(msg.Message, "(Chrome on Linux)") {
		t.Errorf("notification %q does not name the browser", msg.Message)
	}
	// The page waits on the long poll before anything happens on the phone.
	a.do("page polls the push status", void(chromedp.Poll[bool](`+(sessionStorage.getItem("e2e-push-polls") || 0) >= 1`, chromedp.WithPollingTimeout(10*time.Second))))

	checkApprovalPage(b, openApproval(b, msg.Click), g)
	screenshot(t, b.ctx, "push-2-approve")
	approvedAt := time.Now()
	r := answerApproval(b, "approve", number)
	if txt := bodyText(b, "Approved", 5*time.Second); r.Status != http.StatusOK || !strings.Contains(txt, "Approved. You can go back") {
		t.Fatalf("after approving, the phone shows (%d) %q", r.Status, txt)
	}
	screenshot(t, b.ctx, "push-3-approved")
	onlyClaimCookie(b, public+"/.mfa/push/approve", g.URL+"/.mfa/push/approve", g.URL)

	// Tab A signs in by itself: nothing is clicked there.
	txt := bodyText(a, "upstream says", 10*time.Second)
	took := time.Since(approvedAt)
	if !strings.Contains(txt, `upstream says hello to "alice" at /reports?week=7`) {
		t.Fatalf("after the phone approved, the computer's tab shows %q", txt)
	}
	if took > 4*time.Second {
		t.Errorf("the page went on %v after the approval (the long poll should be quicker)", took)
	}
	if h, _ := g.Upstream.Last(); h.Get("Remote-User") != "alice" {
		t.Errorf("upstream Remote-User %q", h.Get("Remote-User"))
	}
	waits, _ := countedLoads(a, "/.mfa/challenge/push")
	if waits != 1 {
		t.Errorf("the waiting page was loaded %d times, want once", waits)
	}
	if polls := pushPolls(a); polls < 1 || polls > 3 {
		t.Errorf("the page polled the push status %d times while one poll waits up to 20 s", polls)
	}
	t.Logf("signed in %v after the approval", took)

	// The link works once.
	again := openApproval(b, msg.Click)
	if txt := bodyText(b, "already been answered", 3*time.Second); again.Status != http.StatusOK || !strings.Contains(txt, "already been answered") {
		t.Fatalf("reopening the link: (%d) %q", again.Status, txt)
	}
}

// TestBrowserPushWithoutJavaScript: without JavaScript, the waiting page
// refreshes itself (<noscript> meta refresh) until the prompt is approved,
// then says so, and its Continue button signs in.
func TestBrowserPushWithoutJavaScript(t *testing.T) {
	t.Parallel()
	g, f, _, topic := pushGateway(t)
	tab := pushBrowser(t)
	a, b := tab(t), tab(t)
	if _, err := chromedp.Call(a.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	number := pushFromBrowser(a, g, "/app?js=off")
	msg := f.WaitMessage(t, topic, sendTimeout)
	head, err := chromedp.Run(a.ctx, chromedp.OuterHTML(chromedp.CSS("head")))
	if err != nil {
		a.fail("reading the head", err)
	}
	if !strings.Contains(head, `<noscript><meta http-equiv="refresh"`) {
		t.Fatalf("the waiting page has no refresh for browsers without JavaScript:\n%s", head)
	}
	if s := a.text("#call-finish button"); s != "Continue" {
		t.Fatalf("button %q, want Continue", s)
	}
	checkApprovalPage(b, openApproval(b, msg.Click), g)
	if r := answerApproval(b, "approve", number); r.Status != http.StatusOK {
		t.Fatalf("approving: %d %q", r.Status, bodyText(b, "Approved", time.Second))
	}
	// The page refreshes itself and says so (and stops refreshing).
	if txt := bodyText(a, "The notification was approved. Press Continue.", 8*time.Second); !strings.Contains(txt, "The notification was approved. Press Continue.") {
		t.Fatalf("the waiting page did not refresh to the approval: %q", txt)
	}
	screenshot(t, a.ctx, "push-4-nojs")
	a.do("continue", chromedp.Click(chromedp.CSS("#call-finish button")))
	if txt := bodyText(a, "upstream says", 10*time.Second); !strings.Contains(txt, `upstream says hello to "alice" at /app?js=off`) {
		t.Fatalf("after Continue the tab shows %q", txt)
	}
}

// TestBrowserPushFraud: the phone presses "Deny and report fraud"; the
// computer's waiting page changes by itself to say the sign-in was not
// approved, and sending another notification is refused as blocked; the
// link does not work again; `caddy mfa unlock` lets the user send again.
func TestBrowserPushFraud(t *testing.T) {
	t.Parallel()
	g, f, public, topic := pushGateway(t)
	tab := pushBrowser(t)
	a, b := tab(t), tab(t)
	countLoads(t, a.ctx)
	countPushPolls(t, a.ctx)
	_, hitsBefore := g.Upstream.Last()

	pushFromBrowser(a, g, "/")
	msg := f.WaitMessage(t, topic, sendTimeout)
	a.do("page polls the push status", void(chromedp.Poll[bool](`+(sessionStorage.getItem("e2e-push-polls") || 0) >= 1`, chromedp.WithPollingTimeout(10*time.Second))))

	checkApprovalPage(b, openApproval(b, msg.Click), g)
	reportedAt := time.Now()
	r := answerApproval(b, "fraud", "")
	if txt := bodyText(b, "blocked", 5*time.Second); r.Status != http.StatusOK || !strings.Contains(txt, "sign-ins to your account are blocked") {
		t.Fatalf("after reporting fraud, the phone shows (%d) %q", r.Status, txt)
	}
	screenshot(t, b.ctx, "push-5-fraud-phone")
	onlyClaimCookie(b, public+"/.mfa/push/approve", g.URL+"/.mfa/push/approve", g.URL)

	// Tab A learns of it by itself, with the words of a plain denial.
	const notApproved = "The sign-in was not approved on your phone"
	txt := bodyText(a, notApproved, 10*time.Second)
	took := time.Since(reportedAt)
	if !strings.Contains(txt, notApproved) {
		t.Fatalf("after the fraud report, the computer's tab shows %q", txt)
	}
	if took > 4*time.Second {
		t.Errorf("the page changed %v after the report (the long poll should be quicker)", took)
	}
	if eval[bool](a, `document.getElementById("push-number") !== null`) {
		t.Error("after the report the waiting page still shows the number")
	}
	screenshot(t, a.ctx, "push-6-fraud-computer")
	time.Sleep(1500 * time.Millisecond)
	if waits, _ := countedLoads(a, "/.mfa/challenge/push"); waits != 2 {
		t.Errorf("the waiting page was loaded %d times, want twice (the page, then one reload): it reloads in a loop", waits)
	}
	if polls := pushPolls(a); polls > 3 {
		t.Errorf("the page polled the push status %d times", polls)
	}

	// Sending another notification is refused: the account is blocked.
	sent := len(f.Messages())
	a.do("send another notification", chromedp.Click(chromedp.CSS(`form[action="/.mfa/challenge/send"] button`)))
	if txt := bodyText(a, "Sign-in to this account is blocked", 5*time.Second); !strings.Contains(txt, "Sign-in to this account is blocked") {
		t.Fatalf("sending another notification after the report shows %q", txt)
	}
	if n := len(f.Messages()); n != sent {
		t.Errorf("a notification was sent to a blocked account (%d, was %d)", n, sent)
	}
	if _, hits := g.Upstream.Last(); hits != hitsBefore {
		t.Fatal("the reported sign-in reached the app")
	}

	// The link works once.
	again := openApproval(b, msg.Click)
	if txt := bodyText(b, "already been answered", 3*time.Second); again.Status != http.StatusOK || !strings.Contains(txt, "already been answered") {
		t.Fatalf("reopening the link: (%d) %q", again.Status, txt)
	}

	if out, err := g.cli("mfa", "unlock", "alice"); err != nil {
		t.Fatalf("caddy mfa unlock: %v %s", err, out)
	}
	// Unlocked: the same tab can send a notification again.
	a.do("open the challenge", chromedp.Navigate(g.URL+"/.mfa/challenge?method=push"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/.mfa/challenge/send"] button`)))
	a.do("send after unlock", chromedp.Click(chromedp.CSS(`form[action="/.mfa/challenge/send"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#push-number")))
	f.WaitMessage(t, topic, sendTimeout)
}
