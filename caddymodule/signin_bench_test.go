package caddymodule

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// The cost of a sign-in and of a first enrolment, in-process through the
// handler and the portal on the embedded stores (the accounts file on
// disk, as a single gateway runs): every page a browser loads, in order.
// Each reports cpu-ns/op, the process's CPU time (user and system, every
// goroutine) per sign-in, beside ns/op, which also counts the waits for
// the disk.

// signInRun is a gateway for the sign-in benchmarks, with a clock of its
// own for the second factor.
type signInRun struct {
	h *Handler
	// now is the engine's clock, in Unix seconds; each sign-in moves it
	// on one TOTP step, since a code is accepted once.
	now atomic.Int64
}

// newSignInRun provisions a gateway with user alice (password "pw", the
// default argon2id parameters) on the embedded stores, with limits high
// enough for a benchmark's rate of sign-ins (the limiters still run), and
// registration from the test requests' network (192.0.2.1).
func newSignInRun(b *testing.B) *signInRun {
	b.Helper()
	dir := b.TempDir()
	hash, err := users.HashPassword("pw", users.DefaultArgon2)
	if err != nil {
		b.Fatal(err)
	}
	uf := filepath.Join(dir, "users.yml")
	yml := "users:\n  alice:\n    displayname: Alice\n    email: a@example.com\n    groups: [staff]\n    password: \"" + hash + "\"\n"
	if err := os.WriteFile(uf, []byte(yml), 0o600); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	b.Cleanup(cancel)
	many := "1000000000/1m"
	app := &App{UsersFile: uf, DataDir: dir, StorageKey: "bench-storage-key-0123456789abcdef0123",
		Limits:       LimitsConfig{LoginPerIP: many, LoginPerUser: many, CodePerUser: many},
		Registration: &RegistrationConfig{Require: []string{requireTrustedNetworks}, Networks: []string{"192.0.2.0/24"}}}
	if err := app.Provision(ctx); err != nil {
		b.Fatal(err)
	}
	app.logger = zap.NewNop()
	b.Cleanup(func() { _ = app.Cleanup() })
	if err := app.Validate(); err != nil {
		b.Fatal(err)
	}
	if err := app.startEmbedded(); err != nil {
		b.Fatal(err)
	}
	// The security events are encoded as Caddy's JSON log would, then
	// dropped.
	app.events = events.New(zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zapcore.InfoLevel)))
	run := &signInRun{h: &Handler{logger: zap.NewNop()}}
	if err := run.h.setup(app); err != nil {
		b.Fatal(err)
	}
	run.now.Store(time.Now().Unix())
	app.engine.Now = func() time.Time { return time.Unix(run.now.Load(), 0) }
	return run
}

// browser is one browser's cookies and the pages it loads.
type browser struct {
	b   *testing.B
	h   *Handler
	jar *cookiejar.Jar
}

var benchSite = &url.URL{Scheme: "http", Host: "example.com", Path: "/"}

func (run *signInRun) browser(b *testing.B) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	return &browser{b: b, h: run.h, jar: jar}
}

// forgetSession drops the session cookie (signed out, or the session
// ended), keeping the others (the familiar-browser cookie).
func (br *browser) forgetSession() {
	br.jar.SetCookies(benchSite, []*http.Cookie{{Name: "caddy_mfa", Value: "", MaxAge: -1}})
}

// do serves one request of the browser and checks its status; it returns
// the body, or for a redirect where it leads.
func (br *browser) do(method, path string, form url.Values, want int) string {
	br.b.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	req.Header.Set("Accept", "text/html")
	req.Header.Set("User-Agent", "Mozilla/5.0 (bench)")
	for _, c := range br.jar.Cookies(benchSite) {
		req.AddCookie(c)
	}
	req = req.WithContext(context.WithValue(req.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
	rec := httptest.NewRecorder()
	passed := false
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		passed = true
		return nil
	})
	if err := br.h.ServeHTTP(rec, req, next); err != nil {
		br.b.Fatalf("%s %s: %v", method, path, err)
	}
	if rec.Code != want {
		br.b.Fatalf("%s %s: status %d, want %d\n%s", method, path, rec.Code, want, rec.Body)
	}
	if !strings.HasPrefix(path, "/.mfa/") && !passed {
		br.b.Fatalf("%s %s: not passed to the app", method, path)
	}
	br.jar.SetCookies(benchSite, rec.Result().Cookies())
	if loc := rec.Header().Get("Location"); loc != "" {
		return loc
	}
	return rec.Body.String()
}

var (
	benchCSRF   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	benchSecret = regexp.MustCompile(`<code class="secret">([A-Z2-7 ]+)</code>`)
)

func (br *browser) find(re *regexp.Regexp, page, what string) string {
	br.b.Helper()
	m := re.FindStringSubmatch(page)
	if m == nil {
		br.b.Fatalf("no %s in\n%s", what, page)
	}
	return m[1]
}

// code is the authenticator app's code for secret at the run's clock,
// which it first moves on one step.
func (run *signInRun) code(b *testing.B, secret string) string {
	t := time.Unix(run.now.Add(30), 0)
	c, err := totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// enrol walks a first registration of an authenticator app: the login
// page, the password, the choice of method, the app's page and its QR
// code, the first code, and the page of recovery codes. It returns the
// app's secret.
func (run *signInRun) enrol(br *browser) string {
	page := br.do("GET", "/.mfa/login?rd=%2Fapp%2F", nil, http.StatusOK)
	csrf := br.find(benchCSRF, page, "CSRF token on the login page")
	br.wantAt(br.do("POST", "/.mfa/login", url.Values{"csrf": {csrf}, "username": {"alice"}, "password": {"pw"}, "rd": {"/app/"}}, http.StatusSeeOther), "/.mfa/setup")
	br.do("GET", "/.mfa/setup", nil, http.StatusOK)
	page = br.do("GET", "/.mfa/setup/totp", nil, http.StatusOK)
	secret := strings.ReplaceAll(br.find(benchSecret, page, "key on the app's page"), " ", "")
	csrf = br.find(benchCSRF, page, "CSRF token on the app's page")
	br.do("GET", "/.mfa/setup/totp/qr.png", nil, http.StatusOK)
	codes := br.do("POST", "/.mfa/setup/totp", url.Values{"csrf": {csrf}, "code": {run.code(br.b, secret)}}, http.StatusSeeOther)
	page = br.do("GET", codes, nil, http.StatusOK)
	if !strings.Contains(page, `class="codes"`) {
		br.b.Fatalf("no recovery codes after registration:\n%s", page)
	}
	br.do("GET", "/app/", nil, http.StatusOK)
	return secret
}

// wantAt checks that a redirect leads to path.
func (br *browser) wantAt(loc, path string) {
	br.b.Helper()
	if loc != path {
		br.b.Fatalf("redirected to %q, want %q", loc, path)
	}
}

// signIn walks a sign-in of alice with her app: the login page, the
// password, the second-factor page, the code, then the app.
func (run *signInRun) signIn(br *browser, secret string) {
	page := br.do("GET", "/.mfa/login?rd=%2Fapp%2F", nil, http.StatusOK)
	csrf := br.find(benchCSRF, page, "CSRF token on the login page")
	br.wantAt(br.do("POST", "/.mfa/login", url.Values{"csrf": {csrf}, "username": {"alice"}, "password": {"pw"}, "rd": {"/app/"}}, http.StatusSeeOther), "/.mfa/challenge")
	page = br.do("GET", "/.mfa/challenge", nil, http.StatusOK)
	csrf = br.find(benchCSRF, page, "CSRF token on the second-factor page")
	br.wantAt(br.do("POST", "/.mfa/challenge", url.Values{"csrf": {csrf}, "method": {"totp"}, "code": {run.code(br.b, secret)}}, http.StatusSeeOther), "/app/")
	br.do("GET", "/app/", nil, http.StatusOK)
}

// processCPU is the CPU time (user and system) of the whole process.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSignIn is one sign-in of a user with an authenticator app, from
// a browser they signed in with before (its familiar-browser cookie kept,
// its session gone): five requests, and the first one to the app.
func BenchmarkSignIn(b *testing.B) {
	run := newSignInRun(b)
	br := run.browser(b)
	secret := run.enrol(br)
	br.forgetSession()
	run.signIn(br, secret) // warm
	b.ReportAllocs()
	cpu := processCPU(b)
	for b.Loop() {
		br.forgetSession()
		run.signIn(br, secret)
	}
	b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkEnrol is one first sign-in: the password, then the registration
// of an authenticator app with its first code, in a new browser. Between
// runs the account is removed (not counted).
func BenchmarkEnrol(b *testing.B) {
	run := newSignInRun(b)
	run.enrol(run.browser(b)) // warm
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		if _, err := run.h.app.engine.Reset(context.Background(), "alice"); err != nil {
			b.Fatal(err)
		}
		br := run.browser(b)
		c0 := processCPU(b)
		b.StartTimer()
		run.enrol(br)
		cpu += processCPU(b) - c0
	}
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkSignInPasswordCheck is the part of BenchmarkSignIn that is the
// first factor alone: one check of a password against its hash at the
// default argon2id parameters, measured the same way.
func BenchmarkSignInPasswordCheck(b *testing.B) {
	hash, err := users.HashPassword("pw", users.DefaultArgon2)
	if err != nil {
		b.Fatal(err)
	}
	h, err := users.ParseHash(hash)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := processCPU(b)
	for b.Loop() {
		if !h.Matches("pw") {
			b.Fatal("no match")
		}
	}
	b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
}
