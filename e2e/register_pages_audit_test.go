package e2e

import (
	"net/url"
	"testing"

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
	a := newAuditor(t, g, g.URL)
	a.audit([]auditState{{"before registering", before, []string{"register"}}, {"code sent", sent, []string{"register"}}})

	// alice registers (with a pass), then signs in again without her app.
	expectRedirect(t, before.postPass(g.issuePass("alice", "1h", 1)), "/.mfa/setup")
	before.registerTOTP()
	lost := g.newBrowser()
	expectRedirect(t, lost.login("alice", testPassword, "/"), "/.mfa/challenge")
	a.audit([]auditState{{"lost every method", lost, []string{"challenge", "pass"}}})
}
