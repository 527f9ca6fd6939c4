package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/smtptest"
)

// issuePass asks the gateway's admin API for a temporary access pass for
// user, valid for d and uses sign-ins, and returns it.
func (g *gateway) issuePass(user, d string, uses int) string {
	g.t.Helper()
	q := url.Values{"for": {d}, "uses": {fmt.Sprint(uses)}}
	resp, err := http.Post("http://"+g.Admin+"/mfa/temporary-pass/"+url.PathEscape(user)+"?"+q.Encode(), "", nil)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		g.t.Fatalf("issuing a pass for %s: %d %s", user, resp.StatusCode, body)
	}
	var out struct {
		Pass string `json:"temporary_pass"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Pass == "" {
		g.t.Fatalf("issuing a pass for %s: %s (%v)", user, body, err)
	}
	return out.Pass
}

// passPageOnly checks that page asks for a temporary access pass and
// offers nothing to register.
func passPageOnly(t *testing.T, page *response) {
	t.Helper()
	expectStatus(t, page, http.StatusOK)
	if !strings.Contains(page.Body, `name="pass"`) || !strings.Contains(page.Body, `action="/.mfa/register/pass"`) {
		t.Fatalf("the page does not ask for a temporary access pass:\n%s", tail(page.Body, 2000))
	}
	for _, w := range []string{"/.mfa/setup", "register/email", `name="code"`} {
		if strings.Contains(page.Body, w) {
			t.Errorf("the page before registration offers %q:\n%s", w, tail(page.Body, 2000))
		}
	}
}

// postPass posts pass on the page of the gate.
func (b *browser) postPass(pass string) *response {
	b.t.Helper()
	page := b.get("/.mfa/register")
	expectStatus(b.t, page, http.StatusOK)
	return b.post("/.mfa/register/pass", url.Values{"csrf": {csrfOf(b.t, page.Body)}, "pass": {pass}})
}

// registerWithPass signs user in for the first time with a temporary
// access pass issued for it and registers an authenticator app.
func (b *browser) registerWithPass(user string) {
	b.t.Helper()
	expectRedirect(b.t, b.login(user, testPassword, "/"), "/.mfa/register")
	expectRedirect(b.t, b.postPass(b.g.issuePass(user, "1h", 1)), "/.mfa/setup")
	b.registerTOTP()
}

// registerTOTP registers an authenticator app from the setup page, ending
// on the recovery codes, and returns its seed.
func (b *browser) registerTOTP() string {
	b.t.Helper()
	t := b.t
	page := b.get("/.mfa/setup/totp")
	expectStatus(t, page, http.StatusOK)
	m := secretRE.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no secret on the registration page:\n%s", tail(page.Body, 2000))
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	res := b.follow(b.post("/.mfa/setup/totp", url.Values{"csrf": {csrfOf(t, page.Body)}, "code": {code(t, secret, time.Now())}}))
	expectStatus(t, res, http.StatusOK)
	if len(codesRE.FindAllStringSubmatch(res.Body, -1)) != 10 {
		t.Fatalf("no recovery codes after registering:\n%s", tail(res.Body, 2000))
	}
	return secret
}

// With require temporary_pass, the password alone reaches a page that asks
// for the pass and nothing else, and no registration page lets the user
// in. Another user's, a wrong, an expired and a used pass are refused and
// count toward the second-factor lockout; the right one leads to
// registration, and is spent.
func TestRegistrationWithTemporaryPass(t *testing.T) {
	g := startGateway(t, gatewayOpts{global: `registration {
			require temporary_pass
		}
		limits {
			max_code_failures 3
		}`})
	if strings.Contains(g.log.String(), "registration is open") {
		t.Errorf("a closed registration is warned about as open:\n%s", g.log.String())
	}
	b := g.newBrowser()
	expectRedirect(t, b.login("alice", testPassword, "/app"), "/.mfa/register")
	passPageOnly(t, b.get("/.mfa/register"))
	for _, p := range []string{"/.mfa/setup", "/.mfa/setup/totp", "/.mfa/setup/phone?method=sms", "/.mfa/setup/key", "/.mfa/challenge", "/app"} {
		if r := b.get(p); r.StatusCode == http.StatusOK || p != "/app" && r.Header.Get("Location") != "/.mfa/register" {
			t.Errorf("GET %s: %d to %q; want the way to the pass page", p, r.StatusCode, r.Header.Get("Location"))
		}
	}
	// A registration posted straight away is not taken.
	page := b.get("/.mfa/register")
	if r := b.post("/.mfa/setup/totp", url.Values{"csrf": {csrfOf(t, page.Body)}, "code": {"123456"}}); r.Header.Get("Location") != "/.mfa/register" {
		t.Errorf("POST setup/totp before the pass: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}

	bobs := g.issuePass("bob", "1h", 1)
	expired := g.issuePass("alice", "1s", 1)
	time.Sleep(1100 * time.Millisecond)
	for _, c := range []struct{ name, pass, says string }{
		{"another user's", bobs, "pass didn"},
		{"expired", expired, "has expired"},
		{"mistyped", "k7fq-2mzp-x9ab-4tnc", "pass didn"},
	} {
		r := b.postPass(c.pass)
		expectStatus(t, r, http.StatusUnauthorized)
		if !strings.Contains(r.Body, c.says) {
			t.Errorf("%s pass: the page does not say %q:\n%s", c.name, c.says, tail(r.Body, 1500))
		}
	}
	// Three wrong: locked out, the right pass too.
	pass := g.issuePass("alice", "8h", 1)
	if r := b.postPass(pass); r.StatusCode != http.StatusTooManyRequests && r.StatusCode != http.StatusForbidden {
		t.Fatalf("the right pass after three wrong ones: %d, want the lockout", r.StatusCode)
	}
	if out, err := g.cli("mfa", "unlock", "alice"); err != nil {
		t.Fatalf("unlock: %v\n%s", err, out)
	}
	expectRedirect(t, b.postPass(pass), "/.mfa/setup")
	b.registerTOTP()
	expectStatus(t, b.get("/app"), http.StatusOK)

	// Spent: another sign-in of alice asks for her app, and the pass is
	// refused there too.
	b2 := g.newBrowser()
	expectRedirect(t, b2.login("alice", testPassword, "/"), "/.mfa/challenge")
	pp := b2.get("/.mfa/pass")
	expectStatus(t, pp, http.StatusOK)
	expectStatus(t, b2.post("/.mfa/register/pass", url.Values{"csrf": {csrfOf(t, pp.Body)}, "pass": {pass}}), http.StatusUnauthorized)

	log := g.log.String()
	for _, e := range []string{`"temporary_pass_used"`, `"registered_with_temporary_pass"`, `"temporary_pass_expired"`, `"locked_out"`} {
		if !strings.Contains(log, e) {
			t.Errorf("no %s event in the log", e)
		}
	}
	for _, p := range []string{pass, bobs, expired} {
		if strings.Contains(log, p) {
			t.Errorf("the log shows a pass")
		}
	}
}

// A user who lost every method signs in with a pass instead of the second
// factor and goes straight to registering a new one.
func TestTemporaryPassForAUserWhoLostTheirMethods(t *testing.T) {
	g := startGateway(t, gatewayOpts{global: `registration {
			require temporary_pass
		}`})
	// Registered once with a pass.
	g.newBrowser().registerWithPass("alice")

	// Her phone is gone: the challenge links to the pass page.
	b2 := g.newBrowser()
	expectRedirect(t, b2.login("alice", testPassword, "/app"), "/.mfa/challenge")
	ch := b2.get("/.mfa/challenge")
	if !strings.Contains(ch.Body, `href="/.mfa/pass"`) {
		t.Fatalf("the challenge does not offer a temporary access pass:\n%s", tail(ch.Body, 2000))
	}
	pp := b2.get("/.mfa/pass")
	expectStatus(t, pp, http.StatusOK)
	r := b2.post("/.mfa/register/pass", url.Values{"csrf": {csrfOf(t, pp.Body)}, "pass": {g.issuePass("alice", "1h", 1)}})
	expectRedirect(t, r, "/.mfa/setup")
	setup := b2.get("/.mfa/setup")
	expectStatus(t, setup, http.StatusOK)
	if !strings.Contains(setup.Body, `href="/.mfa/setup/phone`) && !strings.Contains(setup.Body, `href="/.mfa/setup/key"`) {
		t.Errorf("the setup page after a pass offers nothing to add:\n%s", tail(setup.Body, 2000))
	}
}

// trusted_networks: registration from the network, and from outside only
// with a pass; the client address is Caddy's, so X-Forwarded-For counts
// only from trusted_proxies.
func TestRegistrationFromTrustedNetworks(t *testing.T) {
	reg := `registration {
			require trusted_networks temporary_pass
			networks 10.0.0.0/8
		}`
	// Without trusted_proxies, a client cannot claim to be in the office.
	g := startGateway(t, gatewayOpts{global: reg})
	b := g.newBrowser()
	b.header = http.Header{"X-Forwarded-For": {"10.1.2.3"}}
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/register")

	g = startGateway(t, gatewayOpts{global: reg, options: "servers {\n\t\ttrusted_proxies static 127.0.0.1/8\n\t\ttrusted_proxies_strict\n\t}"})
	office := g.newBrowser()
	office.header = http.Header{"X-Forwarded-For": {"10.1.2.3"}}
	expectRedirect(t, office.login("alice", testPassword, "/"), "/.mfa/setup")
	office.registerTOTP()

	outside := g.newBrowser()
	outside.header = http.Header{"X-Forwarded-For": {"203.0.113.9"}}
	expectRedirect(t, outside.login("bob", testPassword, "/"), "/.mfa/register")
	passPageOnly(t, outside.get("/.mfa/register"))
	if r := outside.get("/.mfa/setup/totp"); r.Header.Get("Location") != "/.mfa/register" {
		t.Errorf("setup/totp from outside: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	expectRedirect(t, outside.postPass(g.issuePass("bob", "1h", 1)), "/.mfa/setup")
	outside.registerTOTP()
}

// until in the past closes self-registration; in the future it is open,
// with a warning at start that says until when.
func TestRegistrationUntil(t *testing.T) {
	g := startGateway(t, gatewayOpts{global: `registration {
			require open
			until 2020-01-01T00:00:00Z
		}`})
	b := g.newBrowser()
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/register")
	passPageOnly(t, b.get("/.mfa/register"))

	g = startGateway(t, gatewayOpts{global: `registration {
			require open
			until 2099-01-01T00:00:00Z
		}`})
	expectRedirect(t, g.newBrowser().login("alice", testPassword, "/"), "/.mfa/setup")
	if !strings.Contains(g.log.String(), "registration is open until 2099-01-01T00:00:00Z") {
		t.Errorf("no warning of an open registration until a date:\n%s", tail(g.log.String(), 3000))
	}
	// And without a policy: open, and said so.
	g = startGateway(t, gatewayOpts{})
	if !strings.Contains(g.log.String(), "registration is open: whoever first signs in with a user's password registers the second factor") {
		t.Errorf("no warning of the default open registration:\n%s", tail(g.log.String(), 3000))
	}
}

// Bad registration blocks stop Caddy from starting, each with a clear
// message.
func TestRegistrationRefusedConfigs(t *testing.T) {
	for _, c := range []struct{ block, says string }{
		{"registration {\n\t\t\trequire verified_email\n\t\t}", "needs smtp"},
		{"registration {\n\t\t\trequire trusted_networks\n\t\t}", "needs networks"},
		{"registration {\n\t\t\trequire open temporary_pass\n\t\t}", "keep open alone"},
		{"registration {\n\t\t\trequire sometimes\n\t\t}", "sometimes"},
		{"registration {\n\t\t\trequire temporary_pass\n\t\t\tnetworks 10.0.0.0/8\n\t\t}", "does not list trusted_networks"},
		{"registration {\n\t\t\trequire open\n\t\t\tuntil tomorrow\n\t\t}", "RFC 3339"},
		{"", "belongs in the global mfa block"}, // a route's own
	} {
		o := gatewayOpts{global: c.block}
		if c.block == "" {
			o.route = "registration {\n\t\t\trequire temporary_pass\n\t\t}"
		}
		g := writeGateway(t, o, testStorageKey)
		out, err := g.cliWithConfig("validate")
		if err == nil || !strings.Contains(out, c.says) {
			t.Errorf("%s: validate = %v, want an error saying %q:\n%s", c.block, err, c.says, tail(out, 1500))
		}
	}
}

var emailCodeRE = regexp.MustCompile(`(?m)^\s+(\d{6})\s*$`)

// verified_email: a code e-mailed to the address of the users file lets
// the session register; a wrong one is refused, and the e-mail is no way
// to sign in of its own.
func TestRegistrationWithVerifiedEmail(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "e2e-smtp-password"})
	g := startGateway(t, gatewayOpts{global: smtpGlobal(t, s) + `
		registration {
			require verified_email
		}
		notify {
			events method_added
		}`})
	b := g.newBrowser()
	expectRedirect(t, b.login("alice", testPassword, "/app"), "/.mfa/register")
	page := b.get("/.mfa/register")
	expectStatus(t, page, http.StatusOK)
	if !strings.Contains(page.Body, "a•••@example.com") || strings.Contains(page.Body, "alice@example.com") {
		t.Fatalf("the page does not show the masked address:\n%s", tail(page.Body, 2000))
	}
	expectRedirect(t, b.post("/.mfa/register/email", url.Values{"csrf": {csrfOf(t, page.Body)}}), "/.mfa/register")
	p := parsed(t, s, 1, 10*time.Second)
	if p.To != `"Alice Example" <alice@example.com>` || !strings.Contains(p.Subject, "add a sign-in method") {
		t.Errorf("code e-mail to %q, subject %q", p.To, p.Subject)
	}
	m := emailCodeRE.FindStringSubmatch(p.Text)
	if m == nil || !strings.Contains(p.HTML, m[1]) {
		t.Fatalf("no code in the e-mail:\n%s\n%s", p.Text, p.HTML)
	}
	code := m[1]

	// Another session of alice (someone else with her password) cannot use it.
	other := g.newBrowser()
	expectRedirect(t, other.login("alice", testPassword, "/"), "/.mfa/register")
	op := other.get("/.mfa/register")
	expectStatus(t, other.post("/.mfa/register/email/code", url.Values{"csrf": {csrfOf(t, op.Body)}, "code": {code}}), http.StatusUnauthorized)

	page = b.get("/.mfa/register")
	if !strings.Contains(page.Body, `action="/.mfa/register/email/code"`) {
		t.Fatalf("after the send the page does not ask for the code:\n%s", tail(page.Body, 2000))
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	r := b.post("/.mfa/register/email/code", url.Values{"csrf": {csrfOf(t, page.Body)}, "code": {wrong}})
	expectStatus(t, r, http.StatusUnauthorized)
	expectRedirect(t, b.post("/.mfa/register/email/code", url.Values{"csrf": {csrfOf(t, page.Body)}, "code": {code}}), "/.mfa/setup")
	b.registerTOTP()
	expectStatus(t, b.get("/app"), http.StatusOK)

	// Used: the code does nothing more, and bob's page is his own.
	bob := g.newBrowser()
	bob.lang = "ja"
	expectRedirect(t, bob.login("bob", testPassword, "/"), "/.mfa/register")
	bp := bob.get("/.mfa/register")
	expectRedirect(t, bob.post("/.mfa/register/email", url.Values{"csrf": {csrfOf(t, bp.Body)}}), "/.mfa/register")
	var jp bool
	for i := 2; i <= 3 && !jp; i++ { // the method_added notice of alice may come between
		if q := parsed(t, s, i, 10*time.Second); strings.Contains(q.To, "bob@example.com") {
			jp = strings.Contains(q.Subject, "コード") && emailCodeRE.MatchString(q.Text)
			if !jp {
				t.Errorf("bob's code e-mail is not in Japanese: %q\n%s", q.Subject, q.Text)
			}
			jp = true
		}
	}
	if !jp {
		t.Error("no code e-mail for bob")
	}
	if strings.Contains(g.log.String(), code) {
		t.Error("the log shows an e-mailed code")
	}
	if raw := readDataDir(t, g.DataDir); strings.Contains(raw, code) {
		t.Error("the data dir holds an e-mailed code in clear")
	}
}

// readDataDir is every file of dir, concatenated.
func readDataDir(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			data, _ := os.ReadFile(p)
			b.Write(data)
		}
		return nil
	})
	return b.String()
}

// The user hears of a registration by temporary access pass, by e-mail,
// in the language of the sign-in; the pass is not in it.
func TestRegistrationWithTemporaryPassIsNoticed(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "e2e-smtp-password"})
	g := startGateway(t, gatewayOpts{global: smtpGlobal(t, s) + `
		registration {
			require temporary_pass
		}
		notify {
			events registered_with_temporary_pass
		}`})
	b := g.newBrowser()
	b.lang = "ja"
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/register")
	pass := g.issuePass("alice", "1h", 1)
	expectRedirect(t, b.postPass(pass), "/.mfa/setup")
	b.registerTOTP()
	p := parsed(t, s, 1, 10*time.Second)
	if p.Subject != "アカウントで一時アクセスパスが使われました" || p.To != `"Alice Example" <alice@example.com>` {
		t.Errorf("notice %q to %q", p.Subject, p.To)
	}
	for _, part := range []string{p.Text, p.HTML} {
		if strings.Contains(part, pass) || !strings.Contains(part, "127.0.0.1") {
			t.Errorf("the notice shows the pass, or not where from:\n%s", part)
		}
	}
	time.Sleep(time.Second)
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d notices, want 1", n)
	}
}
