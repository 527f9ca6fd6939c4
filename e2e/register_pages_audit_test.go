package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/caddy-mfa/caddy-mfa/internal/smtptest"
)

// The pages of a registration policy pass the checks of TestPagesAudit
// (no overflow, labelled inputs, no English on Japanese pages, contrast,
// target sizes) in both languages, on a phone and a desktop, light and
// dark: the page before registration (offering the e-mailed code and the
// pass), the same after the code was sent, and the pass page of a user
// who lost their methods.
func TestRegisterPagesAudit(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "e2e-smtp-password"})
	g := startGateway(t, gatewayOpts{global: smtpGlobal(t, s) + `
		registration {
			require verified_email temporary_pass
		}`})
	before := g.newBrowser()
	expectRedirect(t, before.login("alice", testPassword, "/"), "/.mfa/register")
	sent := g.newBrowser()
	expectRedirect(t, sent.login("bob", testPassword, "/"), "/.mfa/register")
	expectRedirect(t, sent.post("/.mfa/register/email", url.Values{"csrf": {csrfOf(t, sent.get("/.mfa/register").Body)}}), "/.mfa/register")
	allowed, _ := json.Marshal(auditAllowedLatin())
	script := fmt.Sprintf(auditScript, allowed)
	dir := t.ArtifactDir()
	ctx := newChromium(t)
	audit := func(states []auditState) {
		for _, lang := range []string{"en", "ja"} {
			setBrowserLang(t, page{t, ctx}, lang)
			for _, st := range states {
				copyCookies(t, page{t, ctx}, g, st.b)
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
						for _, pg := range st.pages {
							where := fmt.Sprintf("%s, %s, %d px, %s: /.mfa/%s", lang, st.name, width, scheme, pg)
							auditPage(t, page{t, ctx}, g.URL+"/.mfa/"+pg, script, where,
								filepath.Join(dir, fmt.Sprintf("%s-%d-%s-%s.png", lang, width, scheme, auditFileName(st.name+"-"+pg))))
						}
					}
				}
			}
		}
	}
	audit([]auditState{{"before registering", before, []string{"register"}}, {"code sent", sent, []string{"register"}}})

	// alice registers (with a pass), then signs in again without her app.
	expectRedirect(t, before.postPass(g.issuePass("alice", "1h", 1)), "/.mfa/setup")
	before.registerTOTP()
	lost := g.newBrowser()
	expectRedirect(t, lost.login("alice", testPassword, "/"), "/.mfa/challenge")
	audit([]auditState{{"lost every method", lost, []string{"challenge", "pass"}}})
}
