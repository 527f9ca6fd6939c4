package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// keySites starts a gateway whose security keys belong to the relying-party
// id localhost and may be used from sites A and B, not C. The three sites
// are localhost on three ports (browsers allow security keys over plain
// http only there); each answers with the signed-in user.
func keySites(t *testing.T) (g *gateway, a, b, c string) {
	t.Helper()
	ports := []int{freePort(t), freePort(t), freePort(t)}
	var sites strings.Builder
	for _, port := range ports {
		sites.WriteString(keyAppSite(port))
	}
	a, b, c = fmt.Sprintf("http://localhost:%d", ports[0]), fmt.Sprintf("http://localhost:%d", ports[1]), fmt.Sprintf("http://localhost:%d", ports[2])
	g = startGateway(t, gatewayOpts{
		global:     fmt.Sprintf("webauthn {\n\t\t\trp_id localhost\n\t\t\torigins %s %s\n\t\t}", a, b),
		extraSites: sites.String(),
	})
	return g, a, b, c
}

// keyAppSite is a site on localhost:port behind mfa that answers with the
// signed-in user.
func keyAppSite(port int) string {
	return fmt.Sprintf("http://localhost:%d {\n\tmfa\n\trespond \"keys app for {http.request.header.Remote-User}\" 200\n}\n", port)
}

// addKey plugs a virtual security key (CTAP2 over USB, with a PIN or
// fingerprint, touched at once) into the browser of p.
func addKey(p page) webauthn.AuthenticatorID {
	p.t.Helper()
	res, err := chromedp.Call(p.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportUsb,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
	}})
	if err != nil {
		p.fail("adding a virtual security key", err)
	}
	return res.AuthenticatorID
}

// touching says whether key answers when asked (a key left in a drawer
// does not).
func touching(p page, key webauthn.AuthenticatorID, on bool) {
	p.t.Helper()
	if _, err := chromedp.Call(p.ctx, webauthn.SetAutomaticPresenceSimulation, webauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: key, Enabled: on}); err != nil {
		p.fail("setting presence of a virtual key", err)
	}
}

// waitText waits until the page's text holds want, and returns the text.
func waitText(p page, step, want string) string {
	p.t.Helper()
	var txt string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		txt, _ = chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		if strings.Contains(txt, want) {
			return txt
		}
	}
	p.fail(step, fmt.Errorf("the page does not say %q; it says %q", want, txt))
	return ""
}

// keyLogin signs in on site as alice with the password, up to the page
// that asks for her security key.
func keyLogin(p page, site string) {
	p.t.Helper()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	p.do("open "+site, chromedp.Navigate(site+"/docs"), chromedp.WaitVisible(css("#username")))
	p.do("password on "+site, chromedp.SendKeys(css("#username"), "alice"), chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css("form[data-webauthn=get] button")))
	if h := p.text("h1"); h != "Use your security key" {
		p.t.Fatalf("the sign-in on %s asks %q first, want the security key (the default once registered)", site, h)
	}
}

// signOut presses the sign-out button of the portal of the site p is on.
func signOut(p page) {
	p.t.Helper()
	origin := eval[string](p, `location.origin`)
	p.do("sign out", chromedp.Navigate(origin+"/.mfa/"), chromedp.Click(chromedp.CSS(`form[action$="/logout"] button`)))
	waitText(p, "signed out", "You have signed out")
}

// TestBrowserSecurityKeys registers two security keys in headless Chromium
// with DevTools virtual authenticators, signs out and in with each on
// another site of the same relying-party id, renames and removes one, and
// is refused on a site outside the configured origins and with a key
// whose counter went back (a copy).
func TestBrowserSecurityKeys(t *testing.T) {
	g, siteA, siteB, siteC := keySites(t)
	p := page{t, newChromium(t)}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	if _, err := chromedp.Call(p.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("enabling the WebAuthn domain: %v", err)
	}
	blue := addKey(p)

	// Register: the password, then the setup page offers security keys first.
	p.do("open site A", chromedp.Navigate(siteA+"/docs"), chromedp.WaitVisible(css("#username")))
	p.do("password", chromedp.SendKeys(css("#username"), "alice"), chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css("a.method")))
	if first := p.text("a.method strong"); first != "Security key or passkey" {
		t.Fatalf("first method on the setup page = %q", first)
	}
	p.do("choose security key", chromedp.Click(css(`a.method[href$="setup/key"]`)), chromedp.WaitVisible(css("#key-name")))
	checkUsable(p, "security key setup")
	screenshot(t, p.ctx, "key-1-setup")
	if v := eval[string](p, `document.querySelector("#key-name").value`); v != "Security key" {
		t.Fatalf("suggested key name = %q", v)
	}
	p.do("name and register", void(chromedp.Evaluate[any](`document.querySelector("#key-name").value = ""`)),
		chromedp.SendKeys(css("#key-name"), "Blue key"), chromedp.Click(css("form[data-webauthn] button")), chromedp.WaitVisible(css("ul.codes")))
	if n := eval[int](p, `document.querySelectorAll("ul.codes code").length`); n != 10 {
		t.Fatalf("%d recovery codes after the first key, want 10", n)
	}
	p.do("continue", chromedp.Click(css("a#codes-saved")))
	waitText(p, "the app after registering", "keys app for alice")

	// The same key again is refused by the browser: the page says so.
	p.do("security info", chromedp.Navigate(siteA+"/.mfa/security"), chromedp.WaitVisible(css("ul.security")))
	if row := rowText(p, "Blue key"); !strings.HasPrefix(row, "Security key or passkey · Added ") {
		t.Fatalf("security-info row of the key = %q", row)
	}
	p.do("add a method", chromedp.Click(css(`a.button[href$="/setup"]`)), chromedp.WaitVisible(css(`a.method[href$="setup/key"]`)))
	p.do("add a security key", chromedp.Click(css(`a.method[href$="setup/key"]`)), chromedp.WaitVisible(css("#key-name")))
	p.do("register the same key", chromedp.Click(css("form[data-webauthn] button")))
	waitText(p, "same key again", "This security key is registered to your account already.")

	// A second key, while the first is away.
	green := addKey(p)
	touching(p, blue, false)
	p.do("name the second key", void(chromedp.Evaluate[any](`document.querySelector("#key-name").value = ""`)),
		chromedp.SendKeys(css("#key-name"), "Green key"), chromedp.Click(css("form[data-webauthn] button")))
	waitText(p, "second key added", "The method was added")
	if rowText(p, "Green key") == "" || rowText(p, "Blue key") == "" {
		t.Fatal("the security-info page does not list both keys")
	}
	screenshot(t, p.ctx, "key-2-security")

	// Sign out; sign in on site B (same relying-party id) with the green key.
	signOut(p)
	keyLogin(p, siteB)
	checkUsable(p, "security key sign-in")
	screenshot(t, p.ctx, "key-3-challenge")
	p.do("use the green key", chromedp.Click(css("form[data-webauthn] button")))
	waitText(p, "the app on site B", "keys app for alice")
	p.do("security info on B", chromedp.Navigate(siteB+"/.mfa/security"), chromedp.WaitVisible(css("ul.security")))
	if row := rowText(p, "Green key"); !strings.Contains(row, "last used") {
		t.Fatalf("green key row after signing in with it = %q", row)
	}

	// Rename the blue key, remove the green one.
	p.do("rename", chromedp.Click(chromedp.Search(`//li[.//input[@value="Blue key"]]//summary`)), void(chromedp.Evaluate[any](`document.querySelector('form.rename input[name=name][value="Blue key"]').value = ""`)),
		chromedp.SendKeys(css(`form.rename input[value="Blue key"]`), "Office key"),
		chromedp.Click(chromedp.Search(`//form[@class="rename"][.//input[@value="Blue key"]]/button`)))
	waitText(p, "renamed", "The security key was renamed.")
	p.do("remove the green key", chromedp.Click(css(`button[aria-label="Remove: Green key"]`)))
	waitText(p, "asked first", "Remove Green key?")
	p.do("confirm", chromedp.Click(css(`form:has(input[name="confirm"]) button[type=submit]`)))
	waitText(p, "removed", "The method was removed")
	if rowText(p, "Green key") != "" || rowText(p, "Office key") == "" {
		t.Fatal("after removing the green key the page does not list only the office key")
	}
	signOut(p)

	// The removed key no longer signs in; the kept one does.
	touching(p, blue, false)
	touching(p, green, true)
	keyLogin(p, siteB)
	p.do("try the removed green key", chromedp.Click(css("form[data-webauthn] button")))
	waitText(p, "removed key refused", "The security key didn't answer in time, or the request was cancelled.")
	touching(p, green, false)
	touching(p, blue, true)
	p.do("use the office key", chromedp.Click(css("form[data-webauthn] button")))
	waitText(p, "the app with the office key", "keys app for alice")
	signOut(p)

	// Site C shares the relying-party id but is not among the origins.
	keyLogin(p, siteC)
	p.do("use the key on site C", chromedp.Click(css("form[data-webauthn] button")))
	waitText(p, "wrong origin", "This site ("+siteC+") may not use security keys registered for localhost.")
	screenshot(t, p.ctx, "key-4-wrong-origin")
	if strings.Contains(eval[string](p, `document.body.innerText`), "keys app") {
		t.Fatal("site C let alice in")
	}
	if eval[bool](p, `!!document.querySelector("form[data-webauthn]")`) {
		t.Fatal("after the refusal, site C still asks for the key it refuses")
	}
	if len(g.waitLog(`"event":"key_wrong_origin"`)) == 0 {
		t.Fatal("no key_wrong_origin event in the log")
	}

	// A copy of the key, whose counter is behind, is refused and logged.
	creds, err := chromedp.Call(p.ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: blue})
	if err != nil || len(creds.Credentials) != 1 {
		t.Fatalf("credentials of the office key: %v, %v", creds, err)
	}
	cred := creds.Credentials[0]
	if _, err := chromedp.Call(p.ctx, webauthn.RemoveCredential, webauthn.RemoveCredentialParams{AuthenticatorID: blue, CredentialID: cred.CredentialID}); err != nil {
		t.Fatal(err)
	}
	// The same key pair with its counter back at 0; only the fields a
	// plain key has (cdproto's Credential also sends CMTG fields, which
	// Chromium refuses for such a key).
	type copiedKey struct {
		CredentialID         []byte  `json:"credentialId"`
		IsResidentCredential bool    `json:"isResidentCredential"`
		RpID                 string  `json:"rpId"`
		PrivateKey           []byte  `json:"privateKey"`
		UserHandle           []byte  `json:"userHandle"`
		SignCount            float64 `json:"signCount"`
	}
	type addCopyParams struct {
		AuthenticatorID webauthn.AuthenticatorID `json:"authenticatorId"`
		Credential      copiedKey                `json:"credential"`
	}
	addCopy := cdp.Command[addCopyParams, cdp.Empty]{Method: webauthn.CommandAddCredential}
	if _, err := chromedp.Call(p.ctx, addCopy, addCopyParams{blue, copiedKey{cred.CredentialID, cred.IsResidentCredential, cred.RpID, cred.PrivateKey, cred.UserHandle, 0}}); err != nil {
		t.Fatal(err)
	}
	p.do("back to site A", chromedp.Navigate(siteA+"/.mfa/challenge"), chromedp.WaitVisible(css("form[data-webauthn] button")))
	p.do("use the copied key", chromedp.Click(css("form[data-webauthn] button")))
	waitText(p, "copied key", "This security key may have been copied")
	if len(g.waitLog(`"event":"key_clone_warning"`)) == 0 {
		t.Fatal("no key_clone_warning event in the log")
	}
}
