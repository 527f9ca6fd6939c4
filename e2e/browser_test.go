package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium, which .ci/run and scripts/test.sh install.
const chromiumPath = "/usr/bin/chromium"

// newChromium starts headless Chromium with the flags it needs on a closed
// network, as root.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Chromium is required for browser tests (apt-get install chromium; scripts/test.sh does it): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(390, 844), // a phone
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// screenshot saves the page to $MFA_SCREENSHOTS/name.png when that is set,
// so a person can look at what users see.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("MFA_SCREENSHOTS")
	if dir == "" {
		return
	}
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// page wraps a Chromium tab with steps that fail the test with the page's
// HTML, so a failure says what the user saw.
type page struct {
	t   *testing.T
	ctx context.Context
}

func (p page) fail(step string, err error) {
	p.t.Helper()
	html, _ := chromedp.Run(p.ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	p.t.Fatalf("%s: %v\npage:\n%s", step, err, tail(html, 3000))
}

func (p page) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.fail(step, err)
	}
}

func (p page) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.fail("reading "+sel, err)
	}
	return s
}

// void drops an action's value, to run it among steps.
func void[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}

func eval[T any](p page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.fail("evaluating "+expr, err)
	}
	return v
}

// TestBrowserFirstSignIn drives the first sign-in in real headless Chromium:
// password, enrolment with the key shown on the page, first code, recovery
// codes, and the app behind the gateway.
func TestBrowserFirstSignIn(t *testing.T) {
	g := startGateway(t, gatewayOpts{route: "allow_groups staff"})
	p := page{t, newChromium(t)}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	p.do("open the app", chromedp.Navigate(g.URL+"/dashboard?tab=2"), chromedp.WaitVisible(css("#username")))
	if h := p.text("h1"); h != "Sign in" {
		t.Fatalf("first page heading %q", h)
	}
	screenshot(t, p.ctx, "1-login")
	p.do("sign in", chromedp.SendKeys(css("#username"), "alice"), chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css("a.method")))
	screenshot(t, p.ctx, "2-setup")
	p.do("choose the app", chromedp.Click(css(`a.method[href$="setup/totp"]`)), chromedp.WaitVisible(css("code.secret")))
	secret := strings.ReplaceAll(p.text("code.secret"), " ", "")
	// The QR code image loads (the CSP allows the portal's own images).
	p.do("QR code loads", void(chromedp.Poll[bool](`document.querySelector("img.qr").complete`, chromedp.WithPollingTimeout(10*time.Second))))
	if w := eval[int](p, `document.querySelector("img.qr").naturalWidth`); w < 100 {
		t.Fatalf("QR code image did not load (naturalWidth %d)", w)
	}
	screenshot(t, p.ctx, "3-totp")
	p.do("enter the first code", chromedp.SendKeys(css("#code"), code(t, secret, time.Now())),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css("ul.codes")))
	codes := eval[[]string](p, `Array.from(document.querySelectorAll("ul.codes code")).map(e => e.textContent)`)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown, want 10", len(codes))
	}
	screenshot(t, p.ctx, "4-recovery")
	p.do("continue to the app", chromedp.Click(css("a#codes-saved")))
	// The click navigates; read the page until the app's answer is there
	// (evaluating during the navigation fails, so retry).
	var txt string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		txt, _ = chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		if strings.Contains(txt, "upstream says") {
			break
		}
	}
	if !strings.Contains(txt, `upstream says hello to "alice" at /dashboard?tab=2`) {
		t.Fatalf("app page: %q", txt)
	}
	h, _ := g.Upstream.Last()
	if h.Get("Remote-Email") != "alice@example.com" {
		t.Fatalf("upstream Remote-Email %q", h.Get("Remote-Email"))
	}
}
