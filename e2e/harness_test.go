// Package e2e drives a real Caddy, built from this repository, through real
// HTTP and a real browser: the gateway as operators and users meet it.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	ptotp "github.com/pquerna/otp/totp"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// caddyBin is the Caddy binary with the plugin, built once by TestMain.
var caddyBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "caddy-mfa-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	caddyBin = filepath.Join(dir, "caddy")
	args := []string{"build", "-o", caddyBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "github.com/caddy-mfa/caddy-mfa/cmd/caddy")
	cmd := exec.Command("go", args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building caddy:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testPassword is every test user's password.
const testPassword = "correct horse battery staple"

// passwordHash is made once: hashing is deliberately slow.
var passwordHash = sync.OnceValue(func() string {
	h, err := users.HashPassword(testPassword, users.DefaultArgon2)
	if err != nil {
		panic(err)
	}
	return h
})

// usersYAML is a users file with alice (staff), bob (no groups) and a
// disabled carol.
func usersYAML() string {
	return fmt.Sprintf(`users:
  alice:
    displayname: "Alice Example"
    password: %[1]q
    email: alice@example.com
    groups: [staff, admins]
  bob:
    displayname: "Bob Example"
    password: %[1]q
    email: bob@example.com
  carol:
    displayname: "Carol"
    password: %[1]q
    disabled: true
`, passwordHash())
}

// gateway is a running Caddy with the plugin in front of an upstream.
type gateway struct {
	t         *testing.T
	URL       string // the protected site, e.g. http://127.0.0.1:PORT
	Admin     string // the admin API address
	DataDir   string // the mfa data dir (accounts, storage key)
	UsersFile string
	Upstream  *upstream
	cmd       *exec.Cmd
	exited    chan struct{} // closed when the process ends
	log       *syncBuffer
	config    string // path of the config file
	adapter   string // "caddyfile", or "" for JSON
	dir       string
	moved     int // ports moved at start (movePorts)
}

// gatewayOpts shape the Caddyfile.
type gatewayOpts struct {
	// global is extra lines inside the global mfa block.
	global string
	// options is extra lines of Caddy's global options (outside mfa).
	options string
	// route is the body of the site's mfa block.
	route string
	// extraSites is appended to the Caddyfile; %s is replaced by nothing.
	extraSites string
}

// testStorageKey is the storage key of the harness's gateways.
const testStorageKey = "e2e-storage-key-0123456789abcdef-0123456789"

// startGateway writes a Caddyfile and starts Caddy with it.
func startGateway(t *testing.T, o gatewayOpts) *gateway {
	t.Helper()
	g := writeGateway(t, o, testStorageKey)
	g.start()
	return g
}

// writeGateway writes the users file and the Caddyfile for o, with storage
// key key (none if empty), without starting Caddy (see start).
func writeGateway(t *testing.T, o gatewayOpts, key string) *gateway {
	t.Helper()
	dir := t.TempDir()
	g := &gateway{t: t, dir: dir, DataDir: filepath.Join(dir, "mfa"), UsersFile: filepath.Join(dir, "users.yml"), Upstream: newUpstream(t)}
	if err := os.WriteFile(g.UsersFile, []byte(usersYAML()), 0o600); err != nil {
		t.Fatal(err)
	}
	port, admin := freePort(t), freePort(t)
	g.URL = fmt.Sprintf("http://127.0.0.1:%d", port)
	g.Admin = fmt.Sprintf("127.0.0.1:%d", admin)
	g.config, g.adapter = filepath.Join(dir, "Caddyfile"), "caddyfile"
	keyLine := ""
	if key != "" {
		keyLine = "storage_key " + strconv.Quote(key)
	}
	cf := fmt.Sprintf(`{
	admin 127.0.0.1:%d
	auto_https off
	persist_config off
	%s
	mfa {
		users_file %s
		data_dir %s
		%s
		organization "E2E Corp"
		%s
	}
}

http://127.0.0.1:%d {
	mfa {
		%s
	}
	reverse_proxy %s
}
%s
`, admin, o.options, g.UsersFile, g.DataDir, keyLine, o.global, port, o.route, strings.TrimPrefix(g.Upstream.URL, "http://"), o.extraSites)
	if err := os.WriteFile(g.config, []byte(cf), 0o600); err != nil {
		t.Fatal(err)
	}
	// Registered first, so that a Caddy that fails to start is still stopped.
	t.Cleanup(g.stop)
	return g
}

// launch runs Caddy with the gateway's config, its output in g.log.
func (g *gateway) launch() {
	g.t.Helper()
	g.log = &syncBuffer{}
	args := []string{"run", "--config", g.config}
	if g.adapter != "" {
		args = append(args, "--adapter", g.adapter)
	}
	g.cmd = exec.Command(caddyBin, args...)
	g.cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+filepath.Join(g.dir, "xdg-data"), "XDG_CONFIG_HOME="+filepath.Join(g.dir, "xdg-config"))
	g.cmd.Stdout, g.cmd.Stderr = g.log, g.log
	if err := g.cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	g.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(g.cmd, g.exited)
}

// start runs Caddy and waits until the site answers.
func (g *gateway) start() {
	g.t.Helper()
	g.launch()
	deadline := time.Now().Add(30 * time.Second)
	probe := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		resp, err := probe.Get(g.URL + "/.mfa/static/style.css")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				g.waitRedisChecks()
				return
			}
		}
		select {
		case <-g.exited:
			if g.movePorts() {
				g.launch()
				continue
			}
			g.t.Fatalf("caddy exited at start; log:\n%s", g.log.String())
		default:
		}
		time.Sleep(100 * time.Millisecond)
	}
	g.t.Fatalf("caddy did not start; log:\n%s", g.log.String())
}

// movePorts, after Caddy exited at start because another process took
// the site's or the admin port between freePort and Caddy's bind (a
// process outside this run), moves that port to a new free one in the
// config and the gateway's addresses, at most three times, and reports
// whether it did.
func (g *gateway) movePorts() bool {
	g.t.Helper()
	m := portInUseRE.FindStringSubmatch(g.log.String())
	if m == nil || g.moved >= 3 {
		return false
	}
	old := m[1]
	if !strings.HasSuffix(g.URL, ":"+old) && !strings.HasSuffix(g.Admin, ":"+old) {
		return false
	}
	cf, err := os.ReadFile(g.config)
	if err != nil {
		g.t.Fatal(err)
	}
	now := strconv.Itoa(freePort(g.t))
	g.moved++
	g.t.Logf("port %s was taken by another process; moving to %s", old, now)
	cf = regexp.MustCompile(`:`+old+`\b`).ReplaceAll(cf, []byte(":"+now))
	if err := os.WriteFile(g.config, cf, 0o600); err != nil {
		g.t.Fatal(err)
	}
	for _, a := range []*string{&g.URL, &g.Admin} {
		if strings.HasSuffix(*a, ":"+old) {
			*a = strings.TrimSuffix(*a, old) + now
		}
	}
	return true
}

// portInUseRE finds the port Caddy could not bind in its log.
var portInUseRE = regexp.MustCompile(`listen tcp [^ ]*:(\d+): bind: address already in use`)

// waitRedisChecks waits, for a gateway on Redis, until its start-up checks
// on Redis have run: Caddy may start the HTTP server before the mfa app,
// and until the checks pass every page but the static assets answers 503.
// It returns early when the log says Redis could not be reached at start
// (a test of an outage expects the 503s then), and after 10 s at most.
func (g *gateway) waitRedisChecks() {
	g.t.Helper()
	cf, err := os.ReadFile(g.config)
	if err != nil || !strings.Contains(string(cf), "redis {") && !strings.Contains(string(cf), `"redis":`) {
		return
	}
	// The log says when they have run (a request refused meanwhile would
	// be logged as an error, which some tests count).
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		l := g.log.String()
		if strings.Contains(l, "redis start-up checks passed") || strings.Contains(l, "redis is not reachable at start") {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// stop ends Caddy and waits for it.
func (g *gateway) stop() {
	if g.cmd == nil || g.cmd.Process == nil {
		return
	}
	_ = g.cmd.Process.Signal(os.Interrupt)
	select {
	case <-g.exited:
	case <-time.After(10 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.exited
	}
	if g.t.Failed() {
		g.t.Logf("caddy log:\n%s", tail(g.log.String(), 6000))
	}
	g.cmd = nil
}

// restart stops and starts the same Caddy (same data dir).
func (g *gateway) restart() {
	g.stop()
	g.start()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		// Caddy listens with SO_REUSEPORT, so two gateways of parallel tests
		// given the same free port would both bind it and share its
		// connections. Never hand a port out twice in one run.
		if _, taken := handedOut.LoadOrStore(port, true); !taken {
			return port
		}
	}
}

// handedOut holds every port freePort returned in this test run.
var handedOut sync.Map

// upstream is the protected app: it records the headers of each request.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	last http.Header
	hits int
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.last = r.Header.Clone()
		u.hits++
		u.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "upstream says hello to %q at %s", r.Header.Get("Remote-User"), r.URL.RequestURI())
	}))
	t.Cleanup(u.Close)
	return u
}

// Last returns the headers of the last request the upstream saw and how many it saw.
func (u *upstream) Last() (http.Header, int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last, u.hits
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see each step; and it sends browser headers.
type browser struct {
	t      *testing.T
	g      *gateway
	client *http.Client
	lang   string
	// header is sent with every request (e.g. X-Forwarded-For).
	header http.Header
}

func (g *gateway) newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: g.t, g: g, client: &http.Client{
		Jar:           jar,
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	*http.Response
	Body string
	// b is the browser that made the request (to follow a redirect).
	b *browser
}

func (b *browser) do(req *http.Request) *response {
	b.t.Helper()
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
	}
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	for k, v := range b.header {
		req.Header[k] = v
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return &response{Response: resp, Body: string(body), b: b}
}

func (b *browser) get(path string, header ...string) *response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.g.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) *response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.g.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// sessionCookie returns the current session cookie value ("" if none).
func (b *browser) sessionCookie() string {
	u, _ := url.Parse(b.g.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "caddy_mfa" {
			return c.Value
		}
	}
	return ""
}

var (
	csrfRE   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	secretRE = regexp.MustCompile(`<code class="secret">([A-Z2-7 ]+)</code>`)
	codesRE  = regexp.MustCompile(`<li><code>([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})</code></li>`)
)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in page:\n%s", tail(body, 2000))
	}
	return m[1]
}

func expectStatus(t *testing.T, r *response, code int) {
	t.Helper()
	if r.StatusCode != code {
		t.Fatalf("%s %s: status %d, want %d; body:\n%s", r.Request.Method, r.Request.URL, r.StatusCode, code, tail(r.Body, 1500))
	}
}

func expectRedirect(t *testing.T, r *response, to string) {
	t.Helper()
	if r.StatusCode != http.StatusFound && r.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s %s: status %d, want a redirect to %s; body:\n%s", r.Request.Method, r.Request.URL, r.StatusCode, to, tail(r.Body, 1500))
	}
	if loc := r.Header.Get("Location"); loc != to {
		t.Fatalf("%s %s: redirect to %q, want %q", r.Request.Method, r.Request.URL, loc, to)
	}
}

// code computes the TOTP code of secret at t.
func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := ptotp.GenerateCodeCustom(strings.ReplaceAll(secret, " ", ""), at, ptotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// login submits the password form for user, from the login page.
func (b *browser) login(user, password, rd string) *response {
	b.t.Helper()
	page := b.get("/.mfa/login?rd=" + url.QueryEscape(rd))
	expectStatus(b.t, page, http.StatusOK)
	return b.post("/.mfa/login", url.Values{"csrf": {csrfOf(b.t, page.Body)}, "username": {user}, "password": {password}, "rd": {rd}})
}

// enrolled is what a first sign-in leaves the test: the seed and the codes.
type enrolled struct {
	Secret string
	Codes  []string
}

// firstSignIn walks password, enrolment and first code for user, ending on
// the recovery-codes page, and returns the seed and codes.
func (b *browser) firstSignIn(user, rd string) enrolled {
	b.t.Helper()
	t := b.t
	expectRedirect(t, b.login(user, testPassword, rd), "/.mfa/setup")
	setup := b.get("/.mfa/setup")
	expectStatus(t, setup, http.StatusOK)
	if !strings.Contains(setup.Body, `href="/.mfa/setup/totp"`) {
		t.Fatalf("setup page offers no authenticator app:\n%s", setup.Body)
	}
	page := b.get("/.mfa/setup/totp")
	expectStatus(t, page, http.StatusOK)
	m := secretRE.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no secret on enrolment page:\n%s", page.Body)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	res := b.follow(b.post("/.mfa/setup/totp", url.Values{"csrf": {csrfOf(t, page.Body)}, "code": {code(t, secret, time.Now())}}))
	expectStatus(t, res, http.StatusOK)
	var codes []string
	for _, c := range codesRE.FindAllStringSubmatch(res.Body, -1) {
		codes = append(codes, c[1])
	}
	if len(codes) != 10 {
		t.Fatalf("recovery page shows %d codes, want 10:\n%s", len(codes), res.Body)
	}
	return enrolled{Secret: secret, Codes: codes}
}

// secondSignIn walks password and code, with a code of the next time step
// (the current one was used at enrolment and is refused as a replay).
func (b *browser) secondSignIn(user string, e enrolled, rd string, step int) *response {
	b.t.Helper()
	t := b.t
	expectRedirect(t, b.login(user, testPassword, rd), "/.mfa/challenge")
	ch := b.get("/.mfa/challenge")
	expectStatus(t, ch, http.StatusOK)
	return b.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"totp"},
		"code": {code(t, e.Secret, time.Now().Add(time.Duration(step)*30*time.Second))}})
}

var _ = context.Background

// cli runs a `caddy` command against this gateway's admin API and returns
// its output.
func (g *gateway) cli(args ...string) (string, error) {
	g.t.Helper()
	cmd := exec.Command(caddyBin, append(args, "--address", g.Admin)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// cliWithConfig runs a `caddy` command that finds the gateway from the same
// configuration file the server runs with, as an operator would.
func (g *gateway) cliWithConfig(args ...string) (string, error) {
	g.t.Helper()
	cmd := exec.Command(caddyBin, append(args, "--config", g.config, "--adapter", g.adapter)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
