package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

var levelRE = regexp.MustCompile(`name="level" value="1"`)

// loginAt follows the login page at location (as the gateway redirected
// a browser there) and posts its form, hidden fields included.
func (b *browser) loginAt(location, user string) *response {
	b.t.Helper()
	page := b.get(location)
	expectStatus(b.t, page, http.StatusOK)
	u, err := url.Parse(location)
	if err != nil {
		b.t.Fatal(err)
	}
	form := url.Values{"csrf": {csrfOf(b.t, page.Body)}, "username": {user}, "password": {testPassword}, "rd": {u.Query().Get("rd")}}
	if levelRE.MatchString(page.Body) {
		form.Set("level", "1")
	}
	return b.post("/.mfa/login", form)
}

// TestTrustedNetworks: from a trusted network the password is enough;
// the client address is Caddy's, so X-Forwarded-For counts only from the
// server's trusted_proxies.
func TestTrustedNetworks(t *testing.T) {
	t.Parallel()
	const office = "10.1.2.3"
	// Without trusted_proxies, a client cannot claim to be in the office.
	g := startGateway(t, gatewayOpts{route: "trusted_networks 10.0.0.0/8"})
	b := g.newBrowser()
	r := b.get("/app", "X-Forwarded-For", office)
	expectRedirect(t, r, "/.mfa/login?rd=%2Fapp")
	expectRedirect(t, b.loginAt(r.Header.Get("Location"), "alice"), "/.mfa/setup")
	b.notSignedIn("/app")

	// Behind a proxy Caddy trusts, the forwarded address counts.
	g = startGateway(t, gatewayOpts{options: "servers {\n\t\ttrusted_proxies static 127.0.0.1/8\n\t\ttrusted_proxies_strict\n\t}", route: "trusted_networks 10.0.0.0/8"})
	b = g.newBrowser()
	r = b.get("/app", "X-Forwarded-For", office)
	expectRedirect(t, r, "/.mfa/login?rd=%2Fapp&level=1")
	// alice has no second factor and needs none from the office.
	expectRedirect(t, b.loginAt(r.Header.Get("Location"), "alice"), "/app")
	expectStatus(t, b.get("/app", "X-Forwarded-For", office), http.StatusOK)
	if h, _ := g.Upstream.Last(); h.Get("Remote-User") != "alice" {
		t.Fatalf("upstream got Remote-User %q", h.Get("Remote-User"))
	}
	// The same session from outside the office needs the second factor.
	r = b.get("/app", "X-Forwarded-For", "203.0.113.9")
	expectRedirect(t, r, "/.mfa/login?rd=%2Fapp")
	expectRedirect(t, b.get(r.Header.Get("Location")), "/.mfa/setup")
	if _, n := g.Upstream.Last(); n != 1 {
		t.Fatalf("upstream reached %d times, want once (from the office)", n)
	}
}

// TestPolicyOneFactor: a route with `policy one_factor` needs only the
// password (and no registration); on a two-factor route, the one-factor
// hint a client adds to the login form gets it nothing.
func TestPolicyOneFactor(t *testing.T) {
	t.Parallel()
	strict := startGateway(t, gatewayOpts{})
	strict.newBrowser().firstSignIn("bob", "/")
	g := startGateway(t, gatewayOpts{route: "policy one_factor"})
	b := g.newBrowser()
	r := b.get("/wiki")
	expectRedirect(t, r, "/.mfa/login?rd=%2Fwiki&level=1")
	expectRedirect(t, b.loginAt(r.Header.Get("Location"), "alice"), "/wiki")
	b.signedIn("alice", "/wiki")
	// A wrong password is still refused, and keeps the hint for the retry.
	p := g.newBrowser()
	page := p.get(r.Header.Get("Location"))
	bad := p.post("/.mfa/login", url.Values{"csrf": {csrfOf(t, page.Body)}, "username": {"bob"}, "password": {"nope"}, "rd": {"/wiki"}, "level": {"1"}})
	expectStatus(t, bad, http.StatusUnauthorized)
	if !levelRE.MatchString(bad.Body) {
		t.Error("the login form lost the one-factor hint after a wrong password")
	}
	p.notSignedIn("/wiki")
	// The hint alone gets nothing on a two-factor route.
	s := strict.newBrowser()
	expectRedirect(t, s.post("/.mfa/login", url.Values{"csrf": {csrfOf(t, s.get("/.mfa/login").Body)}, "username": {"bob"}, "password": {testPassword}, "rd": {"/"}, "level": {"1"}}), "/")
	s.notSignedIn("/")
}
