package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The verify endpoint in front of other proxies: one Caddy serves the
// portal at login.test.localhost and the verify endpoints under it, and an
// app at app.test.localhost behind its own forward_auth; a real nginx
// serves another app with auth_request to the same endpoint. The session
// cookie is for test.localhost, so one sign-in covers all three hosts.
// The browser dials 127.0.0.1 for every name, from 127.0.0.2, an address
// that is no trusted proxy (Caddy and nginx come from 127.0.0.1).

// verifySites is the Caddyfile's sites: %[1]d the port, %[2]s the upstream.
const verifySites = `
http://login.test.localhost:%[1]d, http://127.0.0.1:%[1]d {
	handle /api/verify/forward {
		mfa {
			verify forward_auth
			allow_groups staff
		}
	}
	handle /api/verify/nginx {
		mfa {
			verify auth_request
			allow_groups staff
		}
	}
	handle {
		mfa
		reverse_proxy %[2]s
	}
}

http://app.test.localhost:%[1]d {
	forward_auth 127.0.0.1:%[1]d {
		uri /api/verify/forward
		header_up Host login.test.localhost
		copy_headers Remote-User Remote-Groups Remote-Name Remote-Email
	}
	reverse_proxy %[2]s {
		# The gateway's session cookie is no business of the app's.
		header_up Cookie "(^|;\s*)caddy_mfa=[^;]*" ""
	}
}
`

// startVerifyGateway starts the Caddy of these tests and returns it with
// its URL set to the portal's host.
func startVerifyGateway(t *testing.T) (*gateway, int) {
	t.Helper()
	up := newUpstream(t)
	port, admin := freePort(t), freePort(t)
	dir := t.TempDir()
	g := &gateway{t: t, dir: dir, DataDir: filepath.Join(dir, "mfa"), UsersFile: filepath.Join(dir, "users.yml"), Upstream: up}
	if err := os.WriteFile(g.UsersFile, []byte(usersYAML()), 0o600); err != nil {
		t.Fatal(err)
	}
	g.URL = fmt.Sprintf("http://127.0.0.1:%d", port)
	g.Admin = fmt.Sprintf("127.0.0.1:%d", admin)
	g.config, g.adapter = filepath.Join(dir, "Caddyfile"), "caddyfile"
	cf := fmt.Sprintf(`{
	admin 127.0.0.1:%d
	auto_https off
	persist_config off
	servers {
		trusted_proxies static 127.0.0.1/32
	}
	mfa {
		users_file %s
		data_dir %s
		storage_key %q
		organization "E2E Corp"
		public_url http://login.test.localhost:%d
		session {
			cookie_domain test.localhost
		}
	}
}
`, admin, g.UsersFile, g.DataDir, testStorageKey, port) + fmt.Sprintf(verifySites, port, strings.TrimPrefix(up.URL, "http://"))
	if err := os.WriteFile(g.config, []byte(cf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.stop)
	g.start()
	g.URL = fmt.Sprintf("http://login.test.localhost:%d", port)
	return g, port
}

// startNginx runs nginx on a free port with auth_request to the gateway's
// verify endpoint in front of upstream, and returns its port.
func startNginx(t *testing.T, gatewayPort int, upstream string) int {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	for _, d := range []string{"tmp", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // the workers must reach the temporary directories, which only root may
	}
	conf := fmt.Sprintf(`%[1]s
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/logs/error.log info;
events { worker_connections 64; }
http {
	access_log %[2]s/logs/access.log;
	client_body_temp_path %[2]s/tmp/body;
	proxy_temp_path %[2]s/tmp/proxy;
	fastcgi_temp_path %[2]s/tmp/fastcgi;
	uwsgi_temp_path %[2]s/tmp/uwsgi;
	scgi_temp_path %[2]s/tmp/scgi;
	# The gateway's session cookie is no business of the app's.
	map $http_cookie $cookie_without_mfa {
		default $http_cookie;
		"~^(?<before>.*?)(^|;\s*)caddy_mfa=[^;]*(?<after>.*)$" "$before$after";
	}
	server {
		listen 127.0.0.1:%[3]d;
		location = /internal/verify {
			internal;
			proxy_pass http://127.0.0.1:%[4]d/api/verify/nginx;
			proxy_pass_request_body off;
			proxy_set_header Content-Length "";
			proxy_set_header Host login.test.localhost;
			proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
			proxy_set_header X-Original-Method $request_method;
			proxy_set_header X-Forwarded-For $remote_addr;
		}
		location @login {
			return 302 $login;
		}
		location / {
			auth_request /internal/verify;
			auth_request_set $user $upstream_http_remote_user;
			auth_request_set $groups $upstream_http_remote_groups;
			auth_request_set $login $upstream_http_location;
			proxy_set_header Remote-User $user;
			proxy_set_header Remote-Groups $groups;
			proxy_set_header Cookie $cookie_without_mfa;
			error_page 401 = @login;
			proxy_pass %[5]s;
		}
	}
}
`, user, dir, port, gatewayPort, upstream)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/sbin/nginx", "-p", dir, "-c", confPath, "-g", "daemon off;")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			logs, _ := os.ReadFile(filepath.Join(dir, "logs", "error.log"))
			t.Logf("nginx output:\n%s\nerror log:\n%s", out.String(), tail(string(logs), 4000))
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			return port
		}
		select {
		case <-exited:
			t.Fatalf("nginx exited at start:\n%s", out.String())
		default:
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nginx did not start:\n%s", out.String())
	return 0
}

// hostsBrowser is a browser whose client dials 127.0.0.1 (at the port
// asked for) for every host name, from 127.0.0.2.
func hostsBrowser(g *gateway) *browser {
	b := g.newBrowser()
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	b.client.Transport = &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		return d.DialContext(ctx, network, "127.0.0.1:"+port)
	}}
	return b
}

// getURL is get for an absolute URL.
func (b *browser) getURL(raw string, header ...string) *response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, raw, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

func TestVerifyEndpointForCaddyAndNginx(t *testing.T) {
	g, port := startVerifyGateway(t)
	nginxPort := startNginx(t, port, g.Upstream.URL)
	appURL := fmt.Sprintf("http://app.test.localhost:%d/page?x=1", port)
	nginxURL := fmt.Sprintf("http://wiki.test.localhost:%d/doc?y=2", nginxPort)
	login := g.URL + "/.mfa/login"

	// Not signed in: Caddy's forward_auth and nginx both send the browser
	// to the portal, with the page as the way back.
	alice := hostsBrowser(g)
	expectRedirect(t, alice.getURL(appURL), login+"?rd="+url.QueryEscape(appURL))
	expectRedirect(t, alice.getURL(nginxURL), login+"?rd="+url.QueryEscape(nginxURL))
	if _, hits := g.Upstream.Last(); hits != 0 {
		t.Fatalf("the upstream saw %d requests before sign-in", hits)
	}

	// Signed in: the app behind forward_auth answers, with the identity.
	e := alice.firstSignIn("alice", appURL)
	r := alice.getURL(appURL, "Remote-User", "mallory")
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(r.Body, `hello to "alice" at /page?x=1`) {
		t.Fatalf("forward_auth app: %s", r.Body)
	}
	if h, _ := g.Upstream.Last(); h.Get("Remote-Groups") != "admins,staff" || h.Get("Remote-Email") != "alice@example.com" {
		t.Fatalf("forward_auth app got identity %v", h)
	}
	noGatewayCookie := func(via string) {
		t.Helper()
		h, _ := g.Upstream.Last()
		if c := h.Get("Cookie"); strings.Contains(c, "caddy_mfa") || !strings.Contains(c, "app_session=keep") {
			t.Errorf("the app behind %s got the cookies %q: want its own, not the gateway's", via, c)
		}
	}
	expectStatus(t, alice.getURL(appURL, "Cookie", "app_session=keep"), http.StatusOK)
	noGatewayCookie("forward_auth")
	// Signed in, the portal sends a browser straight back to the app.
	expectRedirect(t, alice.get("/.mfa/login?rd="+url.QueryEscape(appURL)), appURL)
	r = alice.getURL(nginxURL, "Remote-User", "mallory")
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(r.Body, `hello to "alice" at /doc?y=2`) {
		t.Fatalf("nginx app: %s", r.Body)
	}
	expectStatus(t, alice.getURL(nginxURL, "Cookie", "app_session=keep"), http.StatusOK)
	noGatewayCookie("nginx auth_request")

	// Another browser signs in from nginx's redirect and lands back there.
	alice2 := hostsBrowser(g)
	expectRedirect(t, alice2.secondSignIn("alice", e, nginxURL, 1), nginxURL)
	expectStatus(t, alice2.getURL(nginxURL), http.StatusOK)

	// Bob is outside allow_groups: 403 on both; and a return URL to a host
	// outside the cookie domain and the allowed hosts is refused: he lands
	// on the portal's default page.
	bob := hostsBrowser(g)
	eb := bob.firstSignIn("bob", "")
	bob2 := hostsBrowser(g)
	for _, evil := range []string{fmt.Sprintf("http://evil.localhost:%d/x", port), "https://evil.example.com/", "//evil.example.com/"} {
		if r := bob2.get("/.mfa/login?rd=" + url.QueryEscape(evil)); strings.Contains(r.Body, "evil") {
			t.Fatalf("login page carries the return URL %q:\n%s", evil, tail(r.Body, 1500))
		}
	}
	expectRedirect(t, bob2.secondSignIn("bob", eb, fmt.Sprintf("http://evil.localhost:%d/x", port), 1), "/")
	for _, evil := range []string{"https://evil.example.com/", fmt.Sprintf("http://app.test.localhost.evil.localhost:%d/", port)} {
		expectRedirect(t, bob2.get("/.mfa/login?rd="+url.QueryEscape(evil)), "/")
	}
	r = bob2.getURL(appURL)
	expectStatus(t, r, http.StatusForbidden)
	if strings.Contains(r.Body, "hello") {
		t.Fatalf("403 with the app's page: %s", r.Body)
	}
	expectStatus(t, bob2.getURL(nginxURL), http.StatusForbidden)

	// Forwarded headers straight from a client (127.0.0.2 is no trusted
	// proxy) are ignored: no return URL is taken from them.
	stranger := hostsBrowser(g)
	r = stranger.get("/api/verify/forward", "X-Forwarded-Method", "GET", "X-Forwarded-Proto", "http",
		"X-Forwarded-Host", fmt.Sprintf("app.test.localhost:%d", port), "X-Forwarded-Uri", "/spoofed")
	expectRedirect(t, r, login)
	r = stranger.get("/api/verify/nginx", "X-Original-URL", fmt.Sprintf("http://app.test.localhost:%d/spoofed", port))
	expectStatus(t, r, http.StatusUnauthorized)
	if loc := r.Header.Get("Location"); loc != login {
		t.Fatalf("untrusted X-Original-URL: Location %q, want %q", loc, login)
	}
	// A signed-in user asking directly gets only their own identity.
	r = bob2.get("/api/verify/forward", "X-Forwarded-Host", "evil.example.com")
	expectStatus(t, r, http.StatusForbidden)
}
