package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// Issue 14, items 7 and 18: the users file and the password checks behind it.

// clientFrom is a browser-like client (cookie jar, no redirects) whose
// connections come from the loopback address src, so that each looks like
// its own visitor to the gateway's per-address limits.
func clientFrom(src string, timeout time.Duration) *http.Client {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return &http.Client{
		Jar:           jar,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{DialContext: d.DialContext, DisableKeepAlives: false},
	}
}

// floodAttempt is one password attempt of the flood, its form already
// fetched (with its CSRF cookie) so that only the POST is timed.
type floodAttempt struct {
	c    *http.Client
	lang string
	form url.Values
	// results
	status  int
	retry   string
	body    string
	elapsed time.Duration
	err     error
}

// flood posts every attempt's form (changed by alter, if set) at once,
// each from its own address, and records the answers.
func flood(g *gateway, attempts []*floodAttempt, alter func(url.Values) url.Values) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, a := range attempts {
		form := a.form
		if alter != nil {
			form = alter(form)
		}
		req, _ := http.NewRequest(http.MethodPost, g.URL+"/.mfa/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "text/html")
		if a.lang != "" {
			req.Header.Set("Accept-Language", a.lang)
		}
		wg.Add(1)
		go func(a *floodAttempt, req *http.Request) {
			defer wg.Done()
			<-start
			t0 := time.Now()
			resp, err := a.c.Do(req)
			a.elapsed = time.Since(t0)
			a.status, a.retry, a.body, a.err = 0, "", "", err
			if err != nil {
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			a.status, a.retry, a.body = resp.StatusCode, resp.Header.Get("Retry-After"), string(body)
		}(a, req)
	}
	close(start)
	wg.Wait()
}

// Item 7: every password attempt, unknown names included, runs argon2id
// at 19 MiB. A flood of attempts from many addresses must not make the
// gateway hold a hash's memory per attempt: concurrent checks are bounded
// by the cores, a short queue waits, and the rest are refused at once with
// 503 and Retry-After on the portal's message page, in the visitor's
// language. A normal sign-in works afterwards.
func TestHardeningUsersHashFlood(t *testing.T) {
	g := startGateway(t, gatewayOpts{})
	pid := g.cmd.Process.Pid

	// Warm up: one real check, so the baseline already holds the runtime,
	// templates and one hash's memory, as any gateway that served a sign-in.
	warm := g.newBrowser()
	expectRedirect(t, warm.login("alice", testPassword, "/"), "/.mfa/setup")

	const n = 150
	attempts := make([]*floodAttempt, n)
	for i := range attempts {
		a := &floodAttempt{c: clientFrom(fmt.Sprintf("127.0.%d.%d", 1+i/200, 2+i%200), 120*time.Second)}
		if i%2 == 1 {
			a.lang = "ja"
		}
		req, _ := http.NewRequest(http.MethodGet, g.URL+"/.mfa/login", nil)
		req.Header.Set("Accept", "text/html")
		resp, err := a.c.Do(req)
		if err != nil {
			t.Fatalf("login page from %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// Unknown names, each its own: no per-user limit or lockout stops
		// them, and each costs the fake hash that keeps timing equal.
		a.form = url.Values{"csrf": {csrfOf(t, string(body))}, "username": {fmt.Sprintf("flood%03d", i)},
			"password": {"not the password"}, "rd": {"/"}}
		attempts[i] = a
	}

	// First the same 150 connections, all at once, with a form that fails
	// its CSRF check before any password is looked at: the baseline then
	// holds what 150 concurrent visitors cost without hashing (goroutines,
	// buffers), and the growth below is what the password checks add.
	flood(g, attempts, func(f url.Values) url.Values {
		bad := url.Values{}
		for k, v := range f {
			bad[k] = v
		}
		bad.Set("csrf", "not-the-token")
		return bad
	})
	for i, a := range attempts {
		if a.err != nil || a.status != http.StatusForbidden {
			t.Fatalf("warm-up attempt %d: status %d, %v; want 403 (CSRF)", i, a.status, a.err)
		}
	}

	before, err := readRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	sampler := sampleRSS(pid, 5*time.Millisecond, before)
	flood(g, attempts, nil)
	peakRSS := sampler.Stop(pid)

	// The bound: at most one check per core runs at once (runtime.NumCPU():
	// Caddy runs on this machine with GOMAXPROCS at its default), each
	// holding one argon2id block of 19 MiB; the garbage of finished checks
	// lives until the next GC cycle (GOGC=100: up to as much again); under
	// the race detector each byte has 4 bytes of shadow besides (Go's race
	// detector documentation: memory "may increase by 5-10x"), so a check
	// counts 5 × 19 MiB there. 64 MiB is margin. With 2 cores that is
	// 140 MiB (444 MiB under -race); unbounded, 150 checks took 150 × 19
	// MiB ≈ 2.8 GB (measured under -race before the gate: +8.5 GB).
	perHash := int64(19 << 20)
	if raceEnabled {
		perHash *= 5
	}
	bound := int64(runtime.NumCPU())*perHash*2 + 64<<20
	growth := peakRSS - before
	t.Logf("VmRSS before %d MiB, peak during %d MiB, growth %d MiB (bound %d MiB)", before>>20, peakRSS>>20, growth>>20, bound>>20)

	var failed, refused int
	var slowest time.Duration
	for i, a := range attempts {
		if a.err != nil {
			t.Errorf("attempt %d: %v (after %v)", i, a.err, a.elapsed)
			continue
		}
		slowest = max(slowest, a.elapsed)
		switch a.status {
		case http.StatusUnauthorized:
			failed++
		case http.StatusServiceUnavailable:
			refused++
			if secs, err := strconv.Atoi(a.retry); err != nil || secs < 1 || secs > 10 {
				t.Errorf("attempt %d: refused with Retry-After %q, want a few seconds", i, a.retry)
			}
			want := "Many people are signing in right now"
			if a.lang == "ja" {
				want = "サインインが集中しています"
			}
			if !strings.Contains(a.body, want) {
				t.Errorf("attempt %d (%q): refusal page does not say %q:\n%s", i, a.lang, want, tail(a.body, 1500))
			}
		default:
			t.Errorf("attempt %d: status %d, want 401 (checked) or 503 (refused, busy):\n%s", i, a.status, tail(a.body, 800))
		}
	}
	t.Logf("%d checked (401), %d refused (503), slowest answer %v", failed, refused, slowest)
	if growth > bound {
		t.Errorf("VmRSS grew by %d MiB during %d concurrent password attempts; bound %d MiB", growth>>20, n, bound>>20)
	}
	if refused == 0 {
		t.Errorf("none of %d concurrent attempts was refused: hash checks are not bounded", n)
	}
	// Never a hang: a refused attempt waited at most about a second in the
	// queue; a checked one at most that plus one hash.
	if slowest > 15*time.Second {
		t.Errorf("the slowest attempt took %v; want an answer within 15 s", slowest)
	}

	// The flood is over: a normal sign-in works.
	b := g.newBrowser()
	expectRedirect(t, b.login("bob", testPassword, "/"), "/.mfa/setup")
}

// usersYAMLWith is usersYAML with user removed (disable false) or marked
// disabled: true (disable true).
func usersYAMLWith(t *testing.T, user string, disable bool) string {
	t.Helper()
	lines := strings.SplitAfter(usersYAML(), "\n")
	var out []string
	found := false
	for i := 0; i < len(lines); i++ {
		if lines[i] != "  "+user+":\n" {
			out = append(out, lines[i])
			continue
		}
		found = true
		if disable {
			out = append(out, lines[i], "    disabled: true\n")
			continue
		}
		for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "    ") {
			i++
		}
	}
	if !found {
		t.Fatalf("no user %q in the users file", user)
	}
	return strings.Join(out, "")
}

// writeUsers replaces the gateway's users file (atomically, as tools do)
// and waits until the gateway has read it (its watcher looks every 2 s).
func (g *gateway) writeUsers(t *testing.T, content string) {
	t.Helper()
	before := len(g.logLines("users file reloaded"))
	tmp := g.UsersFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, g.UsersFile); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(g.logLines("users file reloaded")) == before {
		if time.Now().After(deadline) {
			t.Fatalf("the gateway did not reload the users file within 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recoverySignIn signs user in with the password and a recovery code,
// ticking "Don't ask again on this device" if remember.
func (b *browser) recoverySignIn(user, code string, remember bool) {
	b.t.Helper()
	t := b.t
	expectRedirect(t, b.login(user, testPassword, "/"), "/.mfa/challenge")
	ch := b.get("/.mfa/challenge?method=recovery")
	form := url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"recovery"}, "code": {code}}
	if remember {
		expectText(t, ch, "Don't ask again on this device for 14 days")
		form.Set("remember", "1")
	}
	expectSignedInTo(t, b, b.post("/.mfa/challenge", form), "/")
}

// heldAccess is everything a user holds on a gateway: a signed-in browser,
// a remembered browser (signed in too), and an app password.
type heldAccess struct {
	user        string
	e           enrolled
	signedIn    *browser
	remembered  *browser
	appPassword string
}

// holdAccess signs user in for the first time on g, creates an app
// password, remembers a second browser, and checks that all three work.
func holdAccess(t *testing.T, g *gateway, user string) heldAccess {
	t.Helper()
	h := heldAccess{user: user, signedIn: g.newBrowser(), remembered: g.newBrowser()}
	h.e = h.signedIn.firstSignIn(user, "/")
	h.signedIn.signedIn(user, "/")
	page := h.signedIn.get("/.mfa/security")
	r := h.signedIn.follow(h.signedIn.post("/.mfa/security/app-passwords", url.Values{"csrf": {csrfOf(t, page.Body)}, "name": {"Mail"}}))
	expectStatus(t, r, http.StatusOK)
	m := appPasswordRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no app password shown:\n%s", tail(r.Body, 2000))
	}
	h.appPassword = m[1]
	expectStatus(t, g.basic(t, user, h.appPassword), http.StatusOK)

	h.remembered.recoverySignIn(user, h.e.Codes[0], true)
	h.remembered.signOut()
	// Remembered: the password alone signs in.
	expectRedirect(t, h.remembered.login(user, testPassword, "/"), "/")
	h.remembered.signedIn(user, "/")
	return h
}

// expectEnded checks that nothing the user held on g still works: both
// cookies go to the login page, the app password gets 401, the remembered
// browser is asked for the second factor; and that the user, with password
// and a second factor (kept: recovery code number code), signs in again.
func (h heldAccess) expectEnded(t *testing.T, g *gateway, code int) {
	t.Helper()
	h.expectCookiesAndAppPasswordDead(t, g)
	if r := h.remembered.login(h.user, testPassword, "/"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/.mfa/challenge" {
		t.Errorf("%s: the remembered browser signed in with the password alone (%d, Location %q); want the second factor asked",
			g.URL, r.StatusCode, r.Header.Get("Location"))
	}
	fresh := g.newBrowser()
	fresh.recoverySignIn(h.user, h.e.Codes[code], false)
	fresh.signedIn(h.user, "/")
}

// expectCookiesAndAppPasswordDead checks, without signing in, that both
// browsers' old cookies go to the login page and the app password gets 401.
func (h heldAccess) expectCookiesAndAppPasswordDead(t *testing.T, g *gateway) {
	t.Helper()
	for name, b := range map[string]*browser{"signed-in": h.signedIn, "remembered": h.remembered} {
		b.g = g
		r := b.get("/")
		if r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), "/.mfa/login") {
			t.Errorf("%s: the %s browser's old cookie got %d (Location %q), want the login page", g.URL, name, r.StatusCode, r.Header.Get("Location"))
		}
	}
	if r := g.basic(t, h.user, h.appPassword); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("%s: the old app password got %d, want 401", g.URL, r.StatusCode)
	}
}

// usersRoute is a route with app passwords, on a gateway that remembers
// devices for 14 days and ends the access of a user removed or disabled
// in the users file after 1 s of grace (default 1m), so tests stay fast.
var usersRoute = gatewayOpts{global: "remember_device 14d\nusers_end_after 1s\n" + limitsBlock("login_per_user 100/1m"), route: "app_passwords"}

// waitEnded waits until g has ended user's access (its user_disabled
// event): past the grace period and the next watch tick, within 15 s.
func (g *gateway) waitEnded(t *testing.T, user string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for len(g.logLines(`"event":"user_disabled"`, `"user":"`+user+`"`)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not end %s's access within 15 s", g.URL, user)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Item 18: a user removed from the users file, then put back, gets none of
// the access they held before back: not the session cookies, not the app
// password, not the remembered device. One security event says so.
func TestHardeningUsersRemovedThenRestored(t *testing.T) {
	t.Parallel()
	g := startGateway(t, usersRoute)
	h := holdAccess(t, g, "alice")

	g.writeUsers(t, usersYAMLWith(t, "alice", false))
	h.signedIn.notSignedIn("/")
	expectStatus(t, g.basic(t, "alice", h.appPassword), http.StatusUnauthorized)
	g.waitEnded(t, "alice")
	g.writeUsers(t, usersYAML())

	h.expectEnded(t, g, 1)
	if ev := g.waitLog(`"event":"user_disabled"`, `"user":"alice"`); len(ev) != 1 || !strings.Contains(ev[0], `"reason":"removed"`) {
		t.Errorf("security events for alice's removal: %q; want one user_disabled, reason removed", ev)
	}
}

// The same for a user marked disabled: true, then enabled again.
func TestHardeningUsersDisabledThenEnabled(t *testing.T) {
	t.Parallel()
	g := startGateway(t, usersRoute)
	h := holdAccess(t, g, "bob")

	g.writeUsers(t, usersYAMLWith(t, "bob", true))
	h.signedIn.notSignedIn("/")
	g.waitEnded(t, "bob")
	g.writeUsers(t, usersYAML())

	h.expectEnded(t, g, 1)
	if ev := g.waitLog(`"event":"user_disabled"`, `"user":"bob"`); len(ev) != 1 || !strings.Contains(ev[0], `"reason":"disabled"`) {
		t.Errorf("security events for bob's disabling: %q; want one user_disabled, reason disabled", ev)
	}
}

// A user removed while the gateway was stopped: at start it finds, in its
// record of the users it has seen, a user the file no longer has and ends
// that user's access after the grace period, so that putting them back
// later revives nothing.
func TestHardeningUsersRemovedWhileStopped(t *testing.T) {
	t.Parallel()
	g := startGateway(t, usersRoute)
	h := holdAccess(t, g, "alice")

	g.stop()
	if err := os.WriteFile(g.UsersFile, []byte(usersYAMLWith(t, "alice", false)), 0o600); err != nil {
		t.Fatal(err)
	}
	g.start()
	g.waitEnded(t, "alice")
	if ev := g.waitLog(`"event":"user_disabled"`, `"user":"alice"`); len(ev) != 1 || !strings.Contains(ev[0], `"reason":"removed"`) {
		t.Errorf("security events at start for alice, removed while stopped: %q; want one user_disabled", ev)
	}
	g.writeUsers(t, usersYAML())
	h.expectEnded(t, g, 1)
}

// Two gateways on one Redis both see alice removed and both end her
// access (the second finds nothing left to end, and that is no error);
// restored on both, nothing of hers works on either.
func TestHardeningUsersRemovedOnTwoGatewaysRedis(t *testing.T) {
	t.Parallel()
	global, _, _ := redisGlobal(t, redistest.Addr())
	opts := usersRoute
	opts.global = global + "\n" + opts.global
	g1, g2 := startGateway(t, opts), startGateway(t, opts)
	h := holdAccess(t, g1, "alice")
	// Cookies are per host, not per port: the same browsers hold the
	// session and the device on the second gateway too.
	h.signedIn.g = g2
	h.signedIn.signedIn("alice", "/")
	expectStatus(t, g2.basic(t, "alice", h.appPassword), http.StatusOK)

	without := usersYAMLWith(t, "alice", false)
	g1.writeUsers(t, without)
	g2.writeUsers(t, without)
	g1.waitEnded(t, "alice")
	g2.waitEnded(t, "alice")
	g1.writeUsers(t, usersYAML())
	g2.writeUsers(t, usersYAML())

	h.expectCookiesAndAppPasswordDead(t, g1)
	h.expectEnded(t, g2, 1)
	for _, g := range []*gateway{g1, g2} {
		if ev := g.waitLog(`"event":"user_disabled"`, `"user":"alice"`); len(ev) != 1 {
			t.Errorf("%s: %d user_disabled events for alice, want 1", g.URL, len(ev))
		}
		if errs := g.logLines(`"level":"error"`); len(errs) != 0 {
			t.Errorf("%s logged errors: %q", g.URL, errs)
		}
	}
}

// A user who never registered a second factor has no account, only a
// password session (enough on a one_factor route). Removed while the only
// gateway on Redis was stopped and put back after it started, that
// session does not come back either: the gateway's record of users seen
// names bob, and ending him ends his sessions by their index.
func TestHardeningUsersSessionOnlyRemovedWhileStoppedRedis(t *testing.T) {
	t.Parallel()
	global, _, _ := redisGlobal(t, redistest.Addr())
	g := startGateway(t, gatewayOpts{global: global + "\nusers_end_after 1s", route: "policy one_factor"})
	b := g.newBrowser()
	page := b.get("/.mfa/login?rd=%2F&level=1")
	expectStatus(t, page, http.StatusOK)
	expectRedirect(t, b.post("/.mfa/login", url.Values{"csrf": {csrfOf(t, page.Body)}, "username": {"bob"},
		"password": {testPassword}, "rd": {"/"}, "level": {"1"}}), "/")
	b.signedIn("bob", "/")

	g.stop()
	if err := os.WriteFile(g.UsersFile, []byte(usersYAMLWith(t, "bob", false)), 0o600); err != nil {
		t.Fatal(err)
	}
	g.start()
	g.waitEnded(t, "bob")
	if ev := g.waitLog(`"event":"user_disabled"`, `"user":"bob"`); len(ev) != 1 || !strings.Contains(ev[0], `"sessions":1`) {
		t.Errorf("security events at start for bob, removed while stopped: %q; want one user_disabled ending 1 session", ev)
	}
	g.writeUsers(t, usersYAML())
	r := b.get("/")
	if r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), "/.mfa/login") {
		t.Errorf("bob's old cookie got %d (Location %q), want the login page", r.StatusCode, r.Header.Get("Location"))
	}
}
