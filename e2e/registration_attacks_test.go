package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/smtptest"
)

// Registration CSRF: a pass or an e-mail request posted without the
// session's token (from another site) is refused, spends nothing and
// sends nothing.
func TestRegistrationCSRF(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "e2e-smtp-password"})
	g := startGateway(t, gatewayOpts{global: smtpGlobal(t, s) + `
		registration {
			require verified_email temporary_pass
		}
		notify {
			events locked_out
		}`})
	b := g.newBrowser()
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/register")
	pass := g.issuePass("alice", "1h", 1)
	for _, form := range []url.Values{{"pass": {pass}}, {"pass": {pass}, "csrf": {"forged"}}} {
		expectStatus(t, b.post("/.mfa/register/pass", form), http.StatusForbidden)
	}
	expectStatus(t, b.post("/.mfa/register/email", url.Values{}), http.StatusForbidden)
	expectStatus(t, b.post("/.mfa/register/email/code", url.Values{"code": {"123456"}}), http.StatusForbidden)
	time.Sleep(500 * time.Millisecond)
	if n := len(s.Messages()); n != 0 {
		t.Errorf("a forged request sent %d e-mails", n)
	}
	// Nothing was spent: the pass still works, and alice's session was
	// not let register by the forged posts.
	if r := b.get("/.mfa/setup"); r.Header.Get("Location") != "/.mfa/register" {
		t.Errorf("after forged posts setup answers %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	expectRedirect(t, b.postPass(pass), "/.mfa/setup")
}

// A pass guessed at speed: the guesses count toward the second-factor
// lockout, so few are even checked, and once locked the right pass is
// refused as well.
func TestTemporaryPassGuessedFast(t *testing.T) {
	g := startGateway(t, gatewayOpts{global: `registration {
			require temporary_pass
		}
		limits {
			max_code_failures 5
		}`})
	pass := g.issuePass("alice", "1h", 1)
	b := g.newBrowser()
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/register")
	page := b.get("/.mfa/register")
	token := csrfOf(t, page.Body)
	wrong, refused := 0, 0
	for i := range 40 {
		guess := []byte("k7fq-2mzp-x9ab-4tnc")
		guess[i%len(guess)] = "23456789"[i%8]
		r := b.post("/.mfa/register/pass", url.Values{"csrf": {token}, "pass": {string(guess)}})
		switch r.StatusCode {
		case http.StatusUnauthorized:
			wrong++
		case http.StatusTooManyRequests, http.StatusForbidden:
			refused++
		default:
			t.Fatalf("guess %d: %d", i, r.StatusCode)
		}
	}
	if wrong > 5 || refused < 35 {
		t.Errorf("of 40 fast guesses %d were checked and %d refused; want at most 5 checked", wrong, refused)
	}
	if r := b.post("/.mfa/register/pass", url.Values{"csrf": {token}, "pass": {pass}}); r.StatusCode == http.StatusSeeOther || r.StatusCode == http.StatusFound {
		t.Errorf("the right pass got in during the lockout: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	// Another browser with the password is locked out too: the lockout is
	// the account's.
	b2 := g.newBrowser()
	if r := b2.login("alice", testPassword, "/"); r.StatusCode == http.StatusSeeOther && r.Header.Get("Location") == "/.mfa/register" {
		p2 := b2.get("/.mfa/register")
		if r := b2.post("/.mfa/register/pass", url.Values{"csrf": {csrfOf(t, p2.Body)}, "pass": {pass}}); r.StatusCode == http.StatusSeeOther {
			t.Errorf("a second browser used the pass during the lockout")
		}
	}
}

// A pass of one use replayed in racing requests of two sessions: one
// registers, the other is refused.
func TestTemporaryPassRacedByTwoSessions(t *testing.T) {
	g := startGateway(t, gatewayOpts{global: `registration {
			require temporary_pass
		}`})
	pass := g.issuePass("alice", "1h", 1)
	var bs []*browser
	var tokens []string
	for range 6 {
		b := g.newBrowser()
		expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/register")
		bs = append(bs, b)
		tokens = append(tokens, csrfOf(t, b.get("/.mfa/register").Body))
	}
	var wg sync.WaitGroup
	codes := make([]int, len(bs))
	start := make(chan struct{})
	for i, b := range bs {
		wg.Go(func() {
			<-start
			codes[i] = b.post("/.mfa/register/pass", url.Values{"csrf": {tokens[i]}, "pass": {pass}}).StatusCode
		})
	}
	close(start)
	wg.Wait()
	in := 0
	for _, c := range codes {
		switch c {
		case http.StatusSeeOther, http.StatusFound:
			in++
		case http.StatusUnauthorized:
		default:
			t.Errorf("a racing request answered %d", c)
		}
	}
	if in != 1 {
		t.Errorf("%d of %d racing requests with one pass got in (%v), want 1", in, len(bs), codes)
	}
	if got := strings.Count(g.log.String(), `"temporary_pass_used"`); got != 1 {
		t.Errorf("%d temporary_pass_used events, want 1", got)
	}
}

// Behind a proxy that appends to X-Forwarded-For (nginx's
// $proxy_add_x_forwarded_for, HAProxy, cloud load balancers), Caddy
// without trusted_proxies_strict takes the left-most address, which the
// client wrote: trusted networks (of registration or of a route) would
// trust a spoofed address. There the gateway trusts no address that came
// through a proxy for trusted networks, and says what to fix; with
// trusted_proxies_strict the client's own spoof is refused and the proxy's
// address for the client counts.
func TestTrustedNetworksNeedStrictProxies(t *testing.T) {
	reg := "registration {\n\t\t\trequire trusted_networks\n\t\t\tnetworks 10.0.0.0/8\n\t\t}"
	g := startGateway(t, gatewayOpts{options: "servers {\n\t\ttrusted_proxies static 127.0.0.1/8\n\t}", global: reg,
		route: "trusted_networks 10.0.0.0/8"})
	spoof := g.newBrowser()
	// The client wrote 10.1.2.3; the proxy (here: the test, from
	// 127.0.0.1) appended the address it saw.
	spoof.header = http.Header{"X-Forwarded-For": {"10.1.2.3, 203.0.113.9"}}
	if r := spoof.get("/app"); r.StatusCode != http.StatusFound || !strings.Contains(r.Header.Get("Location"), "/.mfa/login") ||
		strings.Contains(r.Header.Get("Location"), "level=1") {
		t.Errorf("a spoofed office address on the route: %d to %q, want the full sign-in", r.StatusCode, r.Header.Get("Location"))
	}
	expectRedirect(t, spoof.login("alice", testPassword, "/"), "/.mfa/register")
	if !strings.Contains(g.log.String(), "trusted_proxies_strict") {
		t.Errorf("the log does not say to set trusted_proxies_strict:\n%s", tail(g.log.String(), 2000))
	}

	g = startGateway(t, gatewayOpts{options: "servers {\n\t\ttrusted_proxies static 127.0.0.1/8\n\t\ttrusted_proxies_strict\n\t}", global: reg})
	b := g.newBrowser()
	b.header = http.Header{"X-Forwarded-For": {"10.1.2.3, 203.0.113.9"}}
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/register")
	office := g.newBrowser()
	office.header = http.Header{"X-Forwarded-For": {"10.1.2.3"}}
	expectRedirect(t, office.login("bob", testPassword, "/"), "/.mfa/setup")
}

// A sign-in with a temporary access pass never leaves a remembered
// device: the pass's single use and short life must end the access it
// gave (the form has no such box, but a request can carry remember=1).
func TestTemporaryPassRemembersNoDevice(t *testing.T) {
	g := startGateway(t, gatewayOpts{global: "remember_device 30d\n\t\tregistration {\n\t\t\trequire temporary_pass\n\t\t}"})
	g.newBrowser().registerWithPass("alice")

	holder := g.newBrowser()
	expectRedirect(t, holder.login("alice", testPassword, "/"), "/.mfa/challenge")
	pp := holder.get("/.mfa/pass")
	expectRedirect(t, holder.post("/.mfa/register/pass", url.Values{"csrf": {csrfOf(t, pp.Body)}, "pass": {g.issuePass("alice", "1h", 1)}, "remember": {"1"}}), "/.mfa/setup")
	holder.signOut()
	expectRedirect(t, holder.login("alice", testPassword, "/"), "/.mfa/challenge")
}

// A pass revoked after it was used, before a method was registered with
// it: the registration it allowed ends too.
func TestTemporaryPassRevokedEndsItsRegistration(t *testing.T) {
	g := startGateway(t, gatewayOpts{global: "registration {\n\t\t\trequire temporary_pass\n\t\t}"})
	b := g.newBrowser()
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/register")
	expectRedirect(t, b.postPass(g.issuePass("alice", "1h", 2)), "/.mfa/setup")
	expectStatus(t, b.get("/.mfa/setup"), http.StatusOK)
	if out, err := g.cli("mfa", "temporary-pass", "alice", "--revoke"); err != nil {
		t.Fatalf("revoke: %v\n%s", err, out)
	}
	if r := b.get("/.mfa/setup/totp"); r.Header.Get("Location") != "/.mfa/register" {
		t.Errorf("after the revocation setup/totp answers %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
}
