package e2e

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/ntfytest"
)

// gatewayCookieNames is every cookie name the gateway owns, with and
// without the __Host- prefix; none of them may reach the upstream.
var gatewayCookieNames = []string{
	"caddy_mfa", "__Host-caddy_mfa",
	"caddy_mfa_device", "__Host-caddy_mfa_device",
	"caddy_mfa_pre", "__Host-caddy_mfa_pre",
	"caddy_mfa_push", "__Host-caddy_mfa_push",
	"caddy_mfa_familiar", "__Host-caddy_mfa_familiar",
}

// randomToken is a well-formed device token (base64url of 32 bytes) that
// the gateway never made: what an attacker plants.
func randomToken(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// plant puts cookies in b's jar, as a sibling subdomain, a plain-http hop
// or a shared computer can.
func (b *browser) plant(cookies ...*http.Cookie) {
	u, _ := url.Parse(b.g.URL)
	b.client.Jar.SetCookies(u, cookies)
}

// TestHardeningCookiesDeviceFixation: an attacker who plants a device
// token in the victim's browser (under both the plain and the __Host- name)
// and knows the victim's password must still be asked for the second
// factor after the victim ticks "Don't ask again on this device"; the
// victim's own browser is remembered.
func TestHardeningCookiesDeviceFixation(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gatewayOpts{global: "remember_device 1d\n" + limitsBlock("login_per_user 100/1m")})
	e := g.newBrowser().firstSignIn("alice", "/")

	planted := randomToken(t)
	victim := g.newBrowser()
	victim.plant(&http.Cookie{Name: "caddy_mfa_device", Value: planted, Path: "/"},
		&http.Cookie{Name: "__Host-caddy_mfa_device", Value: planted, Path: "/"})
	victim.signInRemembering("alice", e.Codes[0], true)
	victim.signOut()
	// The victim's browser is remembered: the password alone.
	expectRedirect(t, victim.login("alice", testPassword, "/app"), "/app")

	// The attacker's own client, with the password and the planted token.
	for _, name := range []string{"caddy_mfa_device", "__Host-caddy_mfa_device"} {
		attacker := g.newBrowser()
		attacker.plant(&http.Cookie{Name: name, Value: planted, Path: "/"})
		expectRedirect(t, attacker.login("alice", testPassword, "/app"), "/.mfa/challenge")
		if r := attacker.get("/app"); r.StatusCode == http.StatusOK {
			t.Fatalf("attacker with planted %s reached the app", name)
		}
	}
	// The device cookie the gateway set (plain HTTP: the plain name) leads
	// with a token it minted, not the planted one.
	u, _ := url.Parse(g.URL)
	for _, c := range victim.client.Jar.Cookies(u) {
		if first, _, _ := strings.Cut(c.Value, "."); c.Name == "caddy_mfa_device" && first == planted {
			t.Errorf("the gateway set the planted token as the device token: %s=%s", c.Name, c.Value)
		}
	}
}

// TestHardeningCookiesDeviceTwoUsers: two users of one browser who both
// ticked "Don't ask again" each stay remembered there.
func TestHardeningCookiesDeviceTwoUsers(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gatewayOpts{global: "remember_device 1d\n" + limitsBlock("login_per_user 100/1m")})
	ea := g.newBrowser().firstSignIn("alice", "/")
	eb := g.newBrowser().firstSignIn("bob", "/")
	shared := g.newBrowser()
	shared.signInRemembering("alice", ea.Codes[0], true)
	shared.signOut()
	shared.signInRemembering("bob", eb.Codes[0], true)
	shared.signOut()
	expectRedirect(t, shared.login("alice", testPassword, "/app"), "/app")
	shared.signOut()
	expectRedirect(t, shared.login("bob", testPassword, "/app"), "/app")
}

// cookieNamesIn lists the cookie names in the Cookie headers of h.
func cookieNamesIn(h http.Header) []string {
	var names []string
	for _, v := range h.Values("Cookie") {
		for part := range strings.SplitSeq(v, ";") {
			name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			if name != "" {
				names = append(names, name)
			}
		}
	}
	return names
}

// expectOnlyAppCookies fails unless the upstream's last request carried
// the app's cookie and none of the gateway's.
func expectOnlyAppCookies(t *testing.T, g *gateway, how string) {
	t.Helper()
	h, _ := g.Upstream.Last()
	var leaked []string
	for _, n := range cookieNamesIn(h) {
		if slices.Contains(gatewayCookieNames, n) {
			leaked = append(leaked, n)
		}
	}
	if len(leaked) > 0 {
		t.Errorf("%s: the gateway's cookies %v reached the upstream (Cookie: %q)", how, leaked, h.Values("Cookie"))
	}
	if !strings.Contains(strings.Join(h.Values("Cookie"), "; "), "app_session=1") {
		t.Errorf("%s: the app's own cookie did not reach the upstream (Cookie: %q)", how, h.Values("Cookie"))
	}
}

// TestHardeningCookiesNotForwarded: after a sign-in with "Don't ask again
// on this device", the upstream sees none of the gateway's cookies but
// still the app's own; the same with app-password Basic auth.
func TestHardeningCookiesNotForwarded(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gatewayOpts{global: "remember_device 1d\n" + limitsBlock("login_per_user 100/1m"), route: "app_passwords"})
	e := g.newBrowser().firstSignIn("alice", "/")
	b := g.newBrowser()
	b.plant(&http.Cookie{Name: "app_session", Value: "1", Path: "/"})
	b.signInRemembering("alice", e.Codes[0], true)
	u, _ := url.Parse(g.URL)
	var have []string
	for _, c := range b.client.Jar.Cookies(u) {
		have = append(have, c.Name)
	}
	if !strings.Contains(strings.Join(have, " "), "caddy_mfa_device") {
		t.Fatalf("no device cookie after remembering; the browser has %v", have)
	}
	// Cookies the gateway sets on other pages (push claim, familiar
	// browser), as a browser would still hold them.
	b.plant(&http.Cookie{Name: "caddy_mfa_push", Value: randomToken(t), Path: "/"},
		&http.Cookie{Name: "caddy_mfa_familiar", Value: "x", Path: "/"},
		&http.Cookie{Name: "caddy_mfa_pre", Value: "x", Path: "/"})
	expectStatus(t, b.get("/app"), http.StatusOK)
	expectOnlyAppCookies(t, g, "signed-in browser")

	// One Cookie header per cookie, and every name the gateway owns.
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/app/2", nil)
	for _, c := range b.client.Jar.Cookies(u) {
		req.Header.Add("Cookie", c.Name+"="+c.Value)
	}
	for _, n := range gatewayCookieNames {
		req.Header.Add("Cookie", n+"=spoof")
	}
	expectStatus(t, (&browser{t: t, g: g, client: &http.Client{Timeout: 20 * time.Second}}).do(req), http.StatusOK)
	expectOnlyAppCookies(t, g, "separate Cookie headers")

	// App-password Basic auth, with the browser's cookies along.
	page := b.get("/.mfa/security")
	r := b.follow(b.post("/.mfa/security/app-passwords", url.Values{"csrf": {csrfOf(t, page.Body)}, "name": {"DAV"}}))
	expectStatus(t, r, http.StatusOK)
	m := appPasswordRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no app password shown:\n%s", tail(r.Body, 2000))
	}
	var cookie []string
	for _, c := range b.client.Jar.Cookies(u) {
		cookie = append(cookie, c.Name+"="+c.Value)
	}
	for _, n := range gatewayCookieNames {
		cookie = append(cookie, n+"=spoof")
	}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+m[1]))
	ok := g.newBrowser().get("/dav/file.txt", "Authorization", auth, "Accept", "*/*", "Cookie", strings.Join(cookie, "; "))
	expectStatus(t, ok, http.StatusOK)
	if h, _ := g.Upstream.Last(); h.Get("Remote-User") != "alice" {
		t.Fatalf("app password: upstream got Remote-User %q", h.Get("Remote-User"))
	}
	expectOnlyAppCookies(t, g, "app password")
}

// trailerUpstream records the headers and trailers of each request after
// reading its whole body.
type trailerUpstream struct {
	*httptest.Server
	mu              sync.Mutex
	header, trailer http.Header
	body            string
}

func newTrailerUpstream(t *testing.T) *trailerUpstream {
	u := &trailerUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.header, u.trailer, u.body = r.Header.Clone(), r.Trailer.Clone(), string(body)
		u.mu.Unlock()
		_ = json.NewEncoder(w).Encode(r.Trailer)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *trailerUpstream) last() (http.Header, http.Header, string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.header, u.trailer, u.body
}

// rawChunked sends a chunked POST over a plain connection, with the
// trailer fields given (declared or not), and returns the status.
func rawChunked(t *testing.T, base, path string, header []string, declared string, trailer []string) int {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\nConnection: close\r\n", path, u.Host)
	if declared != "" {
		fmt.Fprintf(&b, "Trailer: %s\r\n", declared)
	}
	for _, h := range header {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n5\r\nhello\r\n0\r\n")
	for _, f := range trailer {
		b.WriteString(f + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestHardeningCookiesIdentityTrailers: identity names sent as request
// trailers (declared or not, in any case, with underscores) never reach the
// upstream, on a session or with an app password; the upstream still gets
// the body, the client's other trailers and the signed-in user in
// Remote-User.
func TestHardeningCookiesIdentityTrailers(t *testing.T) {
	t.Parallel()
	up := newTrailerUpstream(t)
	port := freePort(t)
	site := fmt.Sprintf("http://127.0.0.1:%d", port)
	g := startGateway(t, gatewayOpts{extraSites: fmt.Sprintf("%s {\n\tmfa {\n\t\tapp_passwords\n\t}\n\treverse_proxy %s\n}\n",
		site, strings.TrimPrefix(up.URL, "http://"))})
	b := g.newBrowser()
	b.firstSignIn("alice", "/")
	// Sessions are per host, not per port: the browser is signed in on the
	// second site too.
	u, _ := url.Parse(g.URL)
	var cookie []string
	for _, c := range b.client.Jar.Cookies(u) {
		cookie = append(cookie, c.Name+"="+c.Value)
	}
	page := b.get("/.mfa/security")
	r := b.follow(b.post("/.mfa/security/app-passwords", url.Values{"csrf": {csrfOf(t, page.Body)}, "name": {"DAV"}}))
	expectStatus(t, r, http.StatusOK)
	m := appPasswordRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no app password shown:\n%s", tail(r.Body, 2000))
	}
	auth := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+m[1]))

	spoofed := []string{"Remote-User: bob", "REMOTE-GROUPS: admins", "Remote_User: bob", "remote_email: bob@example.com", "Remote-Name: Bob"}
	for _, tc := range []struct {
		name, declared string
		header         []string
	}{
		{"session, declared", "Remote-User, REMOTE-GROUPS, Remote_User, remote_email, Remote-Name, X-Checksum", []string{"Cookie: " + strings.Join(cookie, "; ")}},
		{"session, undeclared", "X-Checksum", []string{"Cookie: " + strings.Join(cookie, "; ")}},
		{"app password, declared", "Remote-User, REMOTE-GROUPS, Remote_User, remote_email, Remote-Name, X-Checksum", []string{auth}},
		{"session, nothing declared", "", []string{"Cookie: " + strings.Join(cookie, "; ")}},
	} {
		status := rawChunked(t, site, "/upload", tc.header, tc.declared, append([]string{"X-Checksum: abc"}, spoofed...))
		if status != http.StatusOK {
			t.Fatalf("%s: status %d, want 200", tc.name, status)
		}
		h, tr, body := up.last()
		if body != "hello" {
			t.Errorf("%s: upstream read body %q", tc.name, body)
		}
		if h.Get("Remote-User") != "alice" {
			t.Errorf("%s: Remote-User header %q, want alice", tc.name, h.Get("Remote-User"))
		}
		for k, v := range tr {
			lk := strings.ToLower(strings.ReplaceAll(k, "_", "-"))
			if strings.HasPrefix(lk, "remote-") {
				t.Errorf("%s: the client's trailer %s: %q reached the upstream", tc.name, k, v)
			}
		}
		if tc.declared != "" && tr.Get("X-Checksum") != "abc" {
			t.Errorf("%s: the client's own trailer X-Checksum did not reach the upstream: %v", tc.name, tr)
		}
	}
}

// TestHardeningCookiesPushClaimFixation: a push claim planted in the
// user's phone browser (under both names) does not become the claim of a
// prompt that phone opens, so whoever planted it and reads the link (from
// the topic or a log) cannot approve with the number their own sign-in
// page shows. The phone itself still answers, also after reopening.
func TestHardeningCookiesPushClaimFixation(t *testing.T) {
	t.Parallel()
	f := ntfytest.New(t, ntfyToken)
	g, public := startPhoneGateway(t, ntfyBlock(f))
	topic, _ := g.newBrowser().enrolPush(f, "bob")
	planted := randomToken(t)
	pu, _ := url.Parse(public)
	plantClaim := func(p *phone) {
		p.client.Jar.SetCookies(pu, []*http.Cookie{{Name: "caddy_mfa_push", Value: planted, Path: "/"},
			{Name: "__Host-caddy_mfa_push", Value: planted, Path: "/"}})
	}

	attacker := g.newBrowser()
	number := attacker.sendPush("bob")
	msg := f.WaitMessage(t, topic, sendTimeout)
	u, _ := url.Parse(msg.Click)
	token := strings.TrimPrefix(u.Fragment, "t=")
	victim := newPhone(t)
	plantClaim(victim)
	expectText(t, victim.open(msg.Click), "Approve")
	thief := newPhone(t)
	plantClaim(thief)
	r := thief.post(msg.Click, url.Values{"t": {token}, "answer": {"approve"}, "number": {number}})
	if r.StatusCode != http.StatusConflict {
		t.Fatalf("approve with the planted claim: status %d, want 409; body:\n%s", r.StatusCode, tail(pageText(r), 600))
	}
	// The user's phone, reopening the link, still answers; the prompt
	// ends denied, not approved.
	expectText(t, victim.answer(msg.Click, "deny", ""), "Denied")
	if st := statusOf(t, attacker.get("/.mfa/push/status?purpose=sign-in", "Accept", "application/json")); st != "denied" {
		t.Fatalf("prompt status %q, want denied", st)
	}
}
