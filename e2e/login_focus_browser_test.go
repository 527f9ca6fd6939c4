package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserLoginFocusAfterWrongPassword (issue 16, item 13): after a
// wrong password the user name is kept and the cursor is in the password
// field, ready for another try, in English and Japanese.
func TestBrowserLoginFocusAfterWrongPassword(t *testing.T) {
	g := startGateway(t, gatewayOpts{})
	p := page{t, newChromium(t)}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	p.do("open the login page", chromedp.Navigate(g.URL+"/.mfa/login"), chromedp.WaitVisible(css("#username")))
	if got := eval[string](p, `document.activeElement.id`); got != "username" {
		t.Fatalf("a fresh login page focuses %q, want the user name", got)
	}
	p.do("a wrong password", chromedp.SendKeys(css("#username"), "alice"), chromedp.SendKeys(css("#password"), "wrong"),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css("#login-error")))
	if got := eval[string](p, `document.querySelector("#username").value`); got != "alice" {
		t.Fatalf("the user name after a wrong password is %q, want alice kept", got)
	}
	if got := eval[string](p, `document.activeElement.id`); got != "password" {
		t.Fatalf("after a wrong password the focus is on %q, want the password field", got)
	}
	if got := eval[string](p, `document.querySelector("#password").getAttribute("aria-describedby") || ""`); got != "login-error" {
		t.Fatalf("the password field is not described by the error (%q)", got)
	}
}
