package e2e

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

var appPasswordRE = regexp.MustCompile(`id="app-password">([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})<`)

// basic is an API client's request with HTTP Basic auth (no cookies).
func (g *gateway) basic(t *testing.T, user, password string) *response {
	t.Helper()
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	return g.newBrowser().get("/dav/file.txt", "Authorization", auth, "Accept", "*/*")
}

// TestAppPasswords: a user creates an app password on the security-info
// page; it works as Basic auth on a route with app_passwords, for that
// user only, and nowhere else; the real password never does; revoked, it
// stops; wrong ones are rate limited.
func TestAppPasswords(t *testing.T) {
	t.Parallel()
	global, _, _ := redisGlobal(t, redistest.Addr())
	limits := limitsBlock("app_password_per_user 3/1m")
	g := startGateway(t, gatewayOpts{global: global + "\n" + limits, route: "app_passwords"})
	// Another gateway on the same Redis, whose route does not allow them.
	plain := startGateway(t, gatewayOpts{global: global + "\n" + limits})

	b := g.newBrowser()
	b.firstSignIn("alice", "/")
	page := b.get("/.mfa/security")
	expectText(t, page, "App passwords", "Create app password")
	r := b.post("/.mfa/security/app-passwords", url.Values{"csrf": {csrfOf(t, page.Body)}, "name": {""}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	r = b.follow(b.post("/.mfa/security/app-passwords", url.Values{"csrf": {csrfOf(t, page.Body)}, "name": {"Mail on my laptop"}}))
	expectStatus(t, r, http.StatusOK)
	m := appPasswordRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no app password shown:\n%s", tail(r.Body, 2000))
	}
	pw := m[1]
	if len(g.waitLog("app_password_created", `"user":"alice"`)) == 0 {
		t.Error("creation not in the log")
	}

	// It works as Basic auth here, typed any way; the upstream gets the
	// identity, not the credentials.
	for _, typed := range []string{pw, strings.ToUpper(strings.ReplaceAll(pw, "-", ""))} {
		ok := g.basic(t, "alice", typed)
		expectStatus(t, ok, http.StatusOK)
		h, _ := g.Upstream.Last()
		if h.Get("Remote-User") != "alice" || h.Get("Authorization") != "" {
			t.Fatalf("upstream got Remote-User %q, Authorization %q", h.Get("Remote-User"), h.Get("Authorization"))
		}
	}
	expectText(t, b.get("/.mfa/security"), "Mail on my laptop", `last used <time datetime="20`)

	// Not on a route without app_passwords; not for another user; never the password.
	if r := plain.basic(t, "alice", pw); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("on a route without app_passwords: %d", r.StatusCode)
	}
	for _, c := range [][2]string{{"bob", pw}, {"alice", testPassword}, {"alice", "aaaa-bbbb-cccc-dddd"}} {
		r := g.basic(t, c[0], c[1])
		expectStatus(t, r, http.StatusUnauthorized)
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), `Basic realm="E2E Corp"`) {
			t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
		}
	}
	// Two wrong for alice so far; the limit lets three be checked, the
	// fourth is refused unchecked, and even the right one waits.
	expectStatus(t, g.basic(t, "alice", "eeee-ffff-gggg-hhhh"), http.StatusUnauthorized)
	expectStatus(t, g.basic(t, "alice", "eeee-ffff-gggg-hhhh"), http.StatusTooManyRequests)
	r = g.basic(t, "alice", pw)
	expectStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if out, err := g.cli("mfa", "unlock", "alice"); err != nil {
		t.Fatalf("unlock: %v %s", err, out)
	}
	expectStatus(t, g.basic(t, "alice", pw), http.StatusOK)

	// Revoked on the page, it stops working.
	page = b.get("/.mfa/security")
	id := regexp.MustCompile(`action="/.mfa/security/app-passwords/revoke">\s*<input type="hidden" name="csrf" value="[^"]+">\s*<input type="hidden" name="id" value="([0-9a-f]+)"`).FindStringSubmatch(page.Body)
	if id == nil {
		t.Fatalf("no revoke form:\n%s", tail(page.Body, 3000))
	}
	r = b.confirmed("/.mfa/security/app-passwords/revoke", url.Values{"csrf": {csrfOf(t, page.Body)}, "id": {id[1]}})
	expectStatus(t, r, http.StatusOK)
	expectNoText(t, r, "Mail on my laptop")
	expectStatus(t, g.basic(t, "alice", pw), http.StatusUnauthorized)
	if len(g.waitLog("app_password_revoked", `"user":"alice"`)) == 0 || len(g.waitLog("app_password_failed")) == 0 {
		t.Error("revocation or failures not in the log")
	}
}
