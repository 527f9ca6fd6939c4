package e2e

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// withProxyAndLog rewrites the gateway's Caddyfile before it starts: the
// site's reverse_proxy copies the {http.auth.user.*} placeholders into
// X-User headers, and the site writes its access log as JSON to a file,
// whose path it returns.
func withProxyAndLog(t *testing.T, g *gateway) string {
	t.Helper()
	accessLog := filepath.Join(g.dir, "access.log")
	cf, err := os.ReadFile(g.config)
	if err != nil {
		t.Fatal(err)
	}
	up := strings.TrimPrefix(g.Upstream.URL, "http://")
	old := "\treverse_proxy " + up + "\n"
	if !strings.Contains(string(cf), old) {
		t.Fatalf("no %q in the Caddyfile:\n%s", old, cf)
	}
	repl := fmt.Sprintf(`	reverse_proxy %s {
		header_up X-User {http.auth.user.id}
		header_up X-User-Name {http.auth.user.name}
		header_up X-User-Email {http.auth.user.email}
		header_up X-User-Groups {http.auth.user.groups}
		header_up X-User-Method {http.auth.user.method}
	}
	log {
		output file %s
		format json
	}
`, up, accessLog)
	if err := os.WriteFile(g.config, []byte(strings.Replace(string(cf), old, repl, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return accessLog
}

// accessEntry is the part of an access log line the tests read.
type accessEntry struct {
	Request struct {
		URI string `json:"uri"`
	} `json:"request"`
	UserID string `json:"user_id"`
	Status int    `json:"status"`
}

// accessLogOf waits for the access log line of uri answered with status
// (Caddy writes it when the response is done) and returns it.
func accessLogOf(t *testing.T, path, uri string, status int) accessEntry {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if f, err := os.Open(path); err == nil {
			s := bufio.NewScanner(f)
			s.Buffer(make([]byte, 0, 64<<10), 1<<20)
			for s.Scan() {
				var e accessEntry
				if json.Unmarshal(s.Bytes(), &e) == nil && e.Request.URI == uri && e.Status == status {
					f.Close()
					return e
				}
			}
			f.Close()
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(path)
			t.Fatalf("no access log line for %s (%d) in %s:\n%s", uri, status, path, tail(string(b), 3000))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestPlaceholdersAccessLogAndHeaderUp: a request that passes the mfa
// handler sets Caddy's {http.auth.user.*} placeholders, so that the access
// log's user_id names the user and reverse_proxy's header_up can send
// them, for a signed-in browser and for an app password; a request that
// does not pass leaves user_id empty.
func TestPlaceholdersAccessLogAndHeaderUp(t *testing.T) {
	t.Parallel()
	g := writeGateway(t, gatewayOpts{route: "app_passwords"}, testStorageKey)
	accessLog := withProxyAndLog(t, g)
	g.start()

	anon := g.newBrowser()
	expectRedirect(t, anon.get("/anonymous"), "/.mfa/login?rd=%2Fanonymous")
	if e := accessLogOf(t, accessLog, "/anonymous", http.StatusFound); e.UserID != "" {
		t.Errorf("a request that did not pass: access log user_id %q", e.UserID)
	}

	b := g.newBrowser()
	b.firstSignIn("alice", "/")
	expectStatus(t, b.get("/app/page?x=1", "X-User", "mallory"), http.StatusOK)
	h, _ := g.Upstream.Last()
	want := map[string]string{"X-User": "alice", "X-User-Name": "Alice Example", "X-User-Email": "alice@example.com",
		"X-User-Groups": "admins,staff", "Remote-Groups": "admins,staff", "X-User-Method": "two_factor", "Remote-User": "alice"}
	for k, v := range want {
		if vs := h.Values(k); len(vs) != 1 || vs[0] != v {
			t.Errorf("browser: upstream got %s %q, want %q", k, vs, v)
		}
	}
	if e := accessLogOf(t, accessLog, "/app/page?x=1", http.StatusOK); e.UserID != "alice" {
		t.Errorf("browser: access log user_id %q, want alice", e.UserID)
	}

	page := b.get("/.mfa/security")
	r := b.follow(b.post("/.mfa/security/app-passwords", url.Values{"csrf": {csrfOf(t, page.Body)}, "name": {"DAV"}}))
	expectStatus(t, r, http.StatusOK)
	m := appPasswordRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no app password shown:\n%s", tail(r.Body, 2000))
	}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+m[1]))
	expectStatus(t, g.newBrowser().get("/dav/file.txt", "Authorization", auth, "Accept", "*/*"), http.StatusOK)
	h, _ = g.Upstream.Last()
	if h.Get("X-User") != "alice" || h.Get("X-User-Method") != "app_password" || h.Get("Authorization") != "" {
		t.Errorf("app password: upstream got X-User %q, X-User-Method %q, Authorization %q", h.Get("X-User"), h.Get("X-User-Method"), h.Get("Authorization"))
	}
	if e := accessLogOf(t, accessLog, "/dav/file.txt", http.StatusOK); e.UserID != "alice" {
		t.Errorf("app password: access log user_id %q, want alice", e.UserID)
	}
}

// TestPlaceholdersPasswordOnlyRoute: on a one_factor route the
// placeholders say the session proved the password only.
func TestPlaceholdersPasswordOnlyRoute(t *testing.T) {
	t.Parallel()
	g := writeGateway(t, gatewayOpts{route: "policy one_factor"}, testStorageKey)
	accessLog := withProxyAndLog(t, g)
	g.start()
	b := g.newBrowser()
	r := b.get("/wiki")
	expectRedirect(t, b.loginAt(r.Header.Get("Location"), "bob"), "/wiki")
	expectStatus(t, b.get("/wiki"), http.StatusOK)
	h, _ := g.Upstream.Last()
	if h.Get("X-User") != "bob" || h.Get("X-User-Method") != "password" {
		t.Errorf("upstream got X-User %q, X-User-Method %q; want bob, password", h.Get("X-User"), h.Get("X-User-Method"))
	}
	if e := accessLogOf(t, accessLog, "/wiki", http.StatusOK); e.UserID != "bob" {
		t.Errorf("access log user_id %q, want bob", e.UserID)
	}
}

// grafanaHeaders is a headers block with the names Grafana's auth proxy
// (and Gitea's reverse-proxy auth) read.
const grafanaHeaders = `headers {
			user   X-WEBAUTH-USER
			groups X-WEBAUTH-GROUPS
			name   X-WEBAUTH-NAME
			email  X-WEBAUTH-EMAIL
		}`

// TestPlaceholdersRenamedHeaders: with headers { ... } the upstream gets
// the identity under the configured names (Grafana-style X-WEBAUTH-USER)
// and no Remote-* headers; a client's X-WEBAUTH-USER or Remote-User, in any
// spelling, never reaches it, signed in or not, as a header or a trailer.
func TestPlaceholdersRenamedHeaders(t *testing.T) {
	t.Parallel()
	up := newTrailerUpstream(t)
	port := freePort(t)
	site := fmt.Sprintf("http://127.0.0.1:%d", port)
	g := startGateway(t, gatewayOpts{route: grafanaHeaders,
		extraSites: fmt.Sprintf("%s {\n\tmfa {\n\t\t%s\n\t}\n\treverse_proxy %s\n}\n", site, grafanaHeaders, strings.TrimPrefix(up.URL, "http://"))})

	spoof := []string{"X-WEBAUTH-USER", "bob", "x-webauth-user", "bob", "X_WEBAUTH_USER", "bob", "X-Webauth-Groups", "admins",
		"Remote-User", "bob", "REMOTE-GROUPS", "admins", "Remote_User", "bob", "X-Webauth-Role", "Editor"}
	// Not signed in: the spoofed name does not get the request through.
	anon := g.newBrowser()
	r := anon.get("/d/dashboard", spoof...)
	expectRedirect(t, r, "/.mfa/login?rd=%2Fd%2Fdashboard")
	if _, n := g.Upstream.Last(); n != 0 {
		t.Fatalf("a request with X-WEBAUTH-USER and no session reached the upstream")
	}
	api := anon.get("/api/dashboards", append([]string{"Accept", "application/json"}, spoof...)...)
	expectStatus(t, api, http.StatusUnauthorized)

	b := g.newBrowser()
	b.firstSignIn("alice", "/")
	expectStatus(t, b.get("/d/dashboard", spoof...), http.StatusOK)
	h, _ := g.Upstream.Last()
	want := map[string]string{"X-Webauth-User": "alice", "X-Webauth-Groups": "admins,staff", "X-Webauth-Name": "Alice Example",
		"X-Webauth-Email": "alice@example.com", "X-Webauth-Role": "Editor"}
	for k, v := range want {
		if vs := h.Values(k); len(vs) != 1 || vs[0] != v {
			t.Errorf("upstream got %s %q, want %q", k, vs, v)
		}
	}
	for k, vs := range h {
		lk := strings.ToLower(strings.ReplaceAll(k, "_", "-"))
		if strings.HasPrefix(lk, "remote-") {
			t.Errorf("upstream got %s %q with renamed headers", k, vs)
		}
		if lk == "x-webauth-user" && k != "X-Webauth-User" {
			t.Errorf("upstream got the client's %s %q", k, vs)
		}
	}

	// As trailers of a chunked body, on the second site (the session is
	// per host, so the browser is signed in there too).
	u, _ := url.Parse(g.URL)
	var cookie []string
	for _, c := range b.client.Jar.Cookies(u) {
		cookie = append(cookie, c.Name+"="+c.Value)
	}
	trailers := []string{"X-WEBAUTH-USER: bob", "x_webauth_user: bob", "Remote-User: bob", "X-Checksum: abc"}
	for _, declared := range []string{"X-WEBAUTH-USER, Remote-User, X-Checksum", "X-Checksum"} {
		if status := rawChunked(t, site, "/upload", []string{"Cookie: " + strings.Join(cookie, "; ")}, declared, trailers); status != http.StatusOK {
			t.Fatalf("declared %q: status %d, want 200", declared, status)
		}
		hh, tr, body := up.last()
		if body != "hello" || hh.Get("X-Webauth-User") != "alice" {
			t.Errorf("declared %q: upstream read body %q, X-Webauth-User %q", declared, body, hh.Get("X-Webauth-User"))
		}
		for k, v := range tr {
			lk := strings.ToLower(strings.ReplaceAll(k, "_", "-"))
			if lk == "x-webauth-user" || strings.HasPrefix(lk, "remote-") {
				t.Errorf("declared %q: the client's trailer %s: %q reached the upstream", declared, k, v)
			}
		}
		if tr.Get("X-Checksum") != "abc" {
			t.Errorf("declared %q: the client's own trailer X-Checksum did not reach the upstream: %v", declared, tr)
		}
	}
}

// TestPlaceholdersBadHeaderNames: caddy refuses to start with an identity
// header name that HTTP needs, and says which.
func TestPlaceholdersBadHeaderNames(t *testing.T) {
	t.Parallel()
	g := writeGateway(t, gatewayOpts{route: "headers {\n\t\t\tuser Authorization\n\t\t}"}, testStorageKey)
	out, err := g.cliWithConfig("validate")
	if err == nil || !strings.Contains(out, `headers: user \"Authorization\" is a header HTTP or the proxy needs for itself`) {
		t.Fatalf("caddy validate: %v\n%s", err, out)
	}
}
