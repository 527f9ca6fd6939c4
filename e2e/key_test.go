package e2e

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
	"github.com/caddy-mfa/caddy-mfa/internal/webauthntest"
)

var keyOptionsRE = regexp.MustCompile(`data-options="([^"]+)"`)

// keyOptions are the WebAuthn options a security-key page hands its script.
func keyOptions(t *testing.T, body string) []byte {
	t.Helper()
	m := keyOptionsRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no security-key options in the page:\n%s", tail(body, 2000))
	}
	return []byte(html.UnescapeString(m[1]))
}

// on is a client of the gateway's site at base.
func on(g *gateway, base string) *browser {
	site := *g
	site.URL = base
	return site.newBrowser()
}

// expectPage fails unless the page has status code and says want.
func expectPage(t *testing.T, r *response, code int, want string) {
	t.Helper()
	expectStatus(t, r, code)
	expectText(t, r, want)
}

// TestSecurityKeyOverHTTP registers and uses a software security key
// through a real Caddy, as a browser's script would post its answers: the
// errors a user can meet, replays, and a site outside the origins.
func TestSecurityKeyOverHTTP(t *testing.T) {
	g, siteA, siteB, _ := keySites(t)
	key := webauthntest.New(siteA)

	a := on(g, siteA)
	expectRedirect(t, a.login("alice", testPassword, "/docs"), "/.mfa/setup")
	page := a.get("/.mfa/setup/key")
	expectStatus(t, page, http.StatusOK)
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("the key page does not allow its own script: %q", csp)
	}
	post := func(b *browser, path string, page *response, form url.Values) *response {
		form.Set("csrf", csrfOf(t, page.Body))
		if m := ceremonyRE.FindStringSubmatch(page.Body); m != nil {
			form.Set("ceremony", m[1]) // which showing of the page answers
		}
		return b.post(path, form)
	}

	// No JavaScript: nothing was asked of a key, and the page says why.
	expectPage(t, post(a, "/.mfa/setup/key", page, url.Values{"name": {"Blue key"}}), http.StatusUnprocessableEntity, "Security keys need JavaScript")
	// No name.
	page = a.get("/.mfa/setup/key")
	answer, _, err := key.Create(keyOptions(t, page.Body))
	if err != nil {
		t.Fatal(err)
	}
	expectPage(t, post(a, "/.mfa/setup/key", page, url.Values{"name": {"  "}, "response": {string(answer)}}), http.StatusUnprocessableEntity, "Give the key a name of 1 to 64 characters.")
	// A forged CSRF token.
	bad := a.post("/.mfa/setup/key", url.Values{"csrf": {"forged"}, "name": {"Blue key"}, "response": {"{}"}})
	expectPage(t, bad, http.StatusForbidden, "This page had expired")

	// Each showing of the page starts a new ceremony: answer the last one.
	page = bad
	key = webauthntest.New(siteA)
	answer, _, err = key.Create(keyOptions(t, page.Body))
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"name": {"Blue key"}, "response": {string(answer)}}
	done := a.follow(post(a, "/.mfa/setup/key", page, form))
	expectStatus(t, done, http.StatusOK)
	if n := len(codesRE.FindAllString(done.Body, -1)); n != 10 {
		t.Fatalf("%d recovery codes after the first key, want 10", n)
	}
	// The same answer again (a replay) registers nothing.
	sec := a.get("/.mfa/security")
	form.Set("csrf", csrfOf(t, sec.Body))
	expectPage(t, a.post("/.mfa/setup/key", form), http.StatusConflict, "The request to your security key expired or was already used.")
	sec = a.get("/.mfa/security")
	if n := strings.Count(sec.Body, `action="/.mfa/security/keys/rename"`); n != 1 {
		t.Fatalf("%d keys on the security-info page after a replayed registration, want 1", n)
	}
	if len(g.waitLog(`"event":"method_added"`, `"method":"webauthn"`)) == 0 {
		t.Fatal("no method_added event for the key in the log")
	}

	// Rename: an empty name and an unknown key are refused.
	renamed := post(a, "/.mfa/security/keys/rename", sec, url.Values{"id": {"key-AAAA"}, "name": {"x"}})
	expectPage(t, renamed, http.StatusConflict, "That method is not registered any more.")
	id := regexp.MustCompile(`name="id" value="(key-[A-Za-z0-9_-]+)"`).FindStringSubmatch(sec.Body)
	if id == nil {
		t.Fatalf("no key id on the security-info page:\n%s", sec.Body)
	}
	expectPage(t, post(a, "/.mfa/security/keys/rename", sec, url.Values{"id": {id[1]}, "name": {""}}), http.StatusUnprocessableEntity, "Give the key a name")
	expectPage(t, a.follow(post(a, "/.mfa/security/keys/rename", sec, url.Values{"id": {id[1]}, "name": {"<Office> key"}})), http.StatusOK, "The security key was renamed.")
	if sec = a.get("/.mfa/security"); !strings.Contains(sec.Body, `<strong class="name">&lt;Office&gt; key</strong>`) {
		t.Fatalf("the renamed key is not listed, escaped:\n%s", sec.Body)
	}

	// Site B shares the relying-party id: the key signs in there, first.
	b := on(g, siteB)
	expectRedirect(t, b.login("alice", testPassword, "/docs"), "/.mfa/challenge")
	ch := b.get("/.mfa/challenge")
	expectPage(t, ch, http.StatusOK, "Use your security key")
	key.Origin = siteB
	signed, err := key.Get(keyOptions(t, ch.Body))
	if err != nil {
		t.Fatal(err)
	}
	in := url.Values{"method": {"webauthn"}, "response": {string(signed)}}
	expectRedirect(t, post(b, "/.mfa/challenge", ch, in), "/docs")
	if r := b.get("/docs"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "keys app for alice") {
		t.Fatalf("site B after the key: %d %q", r.StatusCode, r.Body)
	}

	// That answer replayed in a new sign-in is refused and counted.
	c := on(g, siteB)
	expectRedirect(t, c.login("alice", testPassword, "/docs"), "/.mfa/challenge")
	ch = c.get("/.mfa/challenge")
	expectPage(t, post(c, "/.mfa/challenge", ch, in), http.StatusUnauthorized, "The security key's answer wasn't accepted.")
	if len(g.waitLog(`"event":"key_rejected"`)) == 0 {
		t.Fatal("no key_rejected event in the log")
	}

	// The gateway's own site, reached by address, cannot use the keys of
	// localhost; the page says so and offers the other ways.
	d := g.newBrowser()
	expectRedirect(t, d.login("alice", testPassword, "/docs"), "/.mfa/challenge")
	ch = d.get("/.mfa/challenge")
	expectPage(t, ch, http.StatusForbidden, "This site (127.0.0.1) may not use security keys registered for localhost.")
	if strings.Contains(ch.Body, "data-options") || !strings.Contains(ch.Body, "Use a recovery code") {
		t.Fatalf("the refused key page still asks for the key, or offers no other way:\n%s", ch.Body)
	}
}

// TestSecurityKeyNeedsAName: by default each site is its own relying
// party, which browsers accept only for a name, never an address.
func TestSecurityKeyNeedsAName(t *testing.T) {
	g := startGateway(t, gatewayOpts{})
	b := g.newBrowser()
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/setup")
	page := b.get("/.mfa/setup/key")
	expectPage(t, page, http.StatusForbidden, "Security keys work only on sites reached by a name (such as wiki.example.com), not by an address such as 127.0.0.1.")
	if strings.Contains(page.Body, "data-options") {
		t.Fatal("the page asks for a key it cannot use")
	}
	b.lang = "ja"
	page = b.get("/.mfa/setup/key")
	expectPage(t, page, http.StatusForbidden, "セキュリティキーは、127.0.0.1 のようなアドレスではなく")
}

// TestSecurityKeysShareRedis: two gateways on one Redis share the keys and
// the ceremonies under way: a registration begun on one finishes on the
// other, and the key then signs in on either.
func TestSecurityKeysShareRedis(t *testing.T) {
	global, _, _ := redisGlobal(t, redistest.Addr())
	p1, p2 := freePort(t), freePort(t)
	s1, s2 := fmt.Sprintf("http://localhost:%d", p1), fmt.Sprintf("http://localhost:%d", p2)
	global += fmt.Sprintf("\n\t\twebauthn {\n\t\t\trp_id localhost\n\t\t\torigins %s %s\n\t\t}", s1, s2)
	g1 := startGateway(t, gatewayOpts{global: global, extraSites: keyAppSite(p1)})
	g2 := startGateway(t, gatewayOpts{global: global, extraSites: keyAppSite(p2)})

	a := on(g1, s1)
	expectRedirect(t, a.login("alice", testPassword, "/docs"), "/.mfa/setup")
	page := a.get("/.mfa/setup/key")
	expectStatus(t, page, http.StatusOK)
	key := webauthntest.New(s1)
	answer, _, err := key.Create(keyOptions(t, page.Body))
	if err != nil {
		t.Fatal(err)
	}
	// The same browser (cookies are per host, not per port) finishes on g2.
	a2 := on(g2, s2)
	a2.client.Jar = a.client.Jar
	done := a2.follow(a2.post("/.mfa/setup/key", keyForm(t, page, answer, url.Values{"name": {"Shared key"}})))
	expectStatus(t, done, http.StatusOK)
	if n := len(codesRE.FindAllString(done.Body, -1)); n != 10 {
		t.Fatalf("registration finished on the second gateway: %d recovery codes, want 10:\n%s", n, tail(done.Body, 1500))
	}

	for _, site := range []struct {
		g    *gateway
		base string
	}{{g2, s2}, {g1, s1}} {
		b := on(site.g, site.base)
		expectRedirect(t, b.login("alice", testPassword, "/docs"), "/.mfa/challenge")
		ch := b.get("/.mfa/challenge")
		key.Origin = site.base
		signed, err := key.Get(keyOptions(t, ch.Body))
		if err != nil {
			t.Fatal(err)
		}
		res := b.post("/.mfa/challenge", keyForm(t, ch, signed, url.Values{"method": {"webauthn"}}))
		expectRedirect(t, res, "/docs")
	}
}
