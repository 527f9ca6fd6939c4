package e2e

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// TestWrongPasswordAndUnknownUserLookAlike: same status, same words, and
// similar timing for a wrong password, an unknown user and a disabled user.
func TestWrongPasswordAndUnknownUserLookAlike(t *testing.T) {
	// Lockouts are tested elsewhere; here they would cut the sample short.
	g := startGateway(t, gatewayOpts{global: "limits {\n max_failures 100\n login_per_user 100/1m\n login_per_ip 1000/1m\n }"})
	b := g.newBrowser()

	bodies := map[string]string{}
	timings := map[string]time.Duration{}
	cases := []struct{ name, user, pw string }{
		{"wrong password", "alice", "not the password"},
		{"unknown user", "nobody-here", "not the password"},
		{"disabled user", "carol", testPassword},
	}
	// Interleaved, so that warm-up and background load fall on every case alike.
	const n = 6
	for range n {
		for _, c := range cases {
			page := b.get("/.mfa/login")
			start := time.Now()
			r := b.post("/.mfa/login", url.Values{"csrf": {csrfOf(t, page.Body)}, "username": {c.user}, "password": {c.pw}})
			timings[c.name] += time.Since(start) / n
			expectStatus(t, r, http.StatusUnauthorized)
			bodies[c.name] = csrfRE.ReplaceAllString(strings.ReplaceAll(r.Body, c.user, "USER"), "")
			if b.sessionCookie() != "" {
				t.Fatalf("%s: a session cookie was set", c.name)
			}
		}
	}
	if bodies["wrong password"] != bodies["unknown user"] || bodies["wrong password"] != bodies["disabled user"] {
		t.Errorf("answers differ:\nwrong password:\n%s\nunknown user:\n%s", bodies["wrong password"], bodies["unknown user"])
	}
	if !strings.Contains(bodies["wrong password"], "user name or password is incorrect") {
		t.Errorf("no clear error:\n%s", bodies["wrong password"])
	}
	// Both paths hash a password; without the equalising hash an unknown
	// user answers ~20x faster. Allow generous noise on a loaded machine.
	w, u := timings["wrong password"], timings["unknown user"]
	if ratio := float64(u) / float64(w); ratio < 0.5 || ratio > 2 {
		t.Errorf("unknown user takes %v, wrong password %v (ratio %.2f): timing tells them apart", u, w, ratio)
	}
	t.Logf("mean time: wrong password %v, unknown user %v, disabled %v", w, u, timings["disabled user"])
}

// TestReplayedCodeAndUsedRecoveryCode: a TOTP code works once; a recovery
// code works once.
func TestReplayedCodeAndUsedRecoveryCode(t *testing.T) {
	g := startGateway(t, gatewayOpts{})
	e := g.newBrowser().firstSignIn("alice", "/")

	// The enrolment code's time step is used: the same code again fails.
	b := g.newBrowser()
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/challenge")
	ch := b.get("/.mfa/challenge")
	replay := b.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"totp"}, "code": {code(t, e.Secret, time.Now())}})
	expectStatus(t, replay, http.StatusUnauthorized)
	if !strings.Contains(replay.Body, "didn&#39;t work") {
		t.Errorf("replay error not shown:\n%s", replay.Body)
	}
	// A code of the next step works once, then is a replay too.
	next := code(t, e.Secret, time.Now().Add(30*time.Second))
	ok := b.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, replay.Body)}, "method": {"totp"}, "code": {next}})
	expectRedirect(t, ok, "/")
	b2 := g.newBrowser()
	b2.login("alice", testPassword, "/")
	ch = b2.get("/.mfa/challenge")
	again := b2.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"totp"}, "code": {next}})
	expectStatus(t, again, http.StatusUnauthorized)

	// A recovery code, typed in capitals with spaces, works once.
	rc := strings.ToUpper(strings.ReplaceAll(e.Codes[3], "-", " "))
	rp := b2.get("/.mfa/challenge?method=recovery")
	expectStatus(t, rp, http.StatusOK)
	used := b2.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, rp.Body)}, "method": {"recovery"}, "code": {rc}})
	expectSignedInTo(t, b2, used, "/")
	b3 := g.newBrowser()
	b3.login("alice", testPassword, "/")
	rp = b3.get("/.mfa/challenge?method=recovery")
	reused := b3.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, rp.Body)}, "method": {"recovery"}, "code": {e.Codes[3]}})
	expectStatus(t, reused, http.StatusUnauthorized)
	if !strings.Contains(reused.Body, "recovery code didn&#39;t work") {
		t.Errorf("used recovery code error not shown:\n%s", reused.Body)
	}
	// Another, unused code still works.
	other := b3.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, reused.Body)}, "method": {"recovery"}, "code": {e.Codes[4]}})
	expectSignedInTo(t, b3, other, "/")
}

// TestCSRF: every state-changing POST needs the token of its session.
func TestCSRF(t *testing.T) {
	g := startGateway(t, gatewayOpts{})
	b := g.newBrowser()
	b.get("/.mfa/login") // sets the pre-session cookie
	for name, form := range map[string]url.Values{
		"missing": {"username": {"alice"}, "password": {testPassword}},
		"wrong":   {"username": {"alice"}, "password": {testPassword}, "csrf": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
	} {
		r := b.post("/.mfa/login", form)
		expectStatus(t, r, http.StatusForbidden)
		if b.sessionCookie() != "" {
			t.Fatalf("%s token: signed in anyway", name)
		}
		if !strings.Contains(r.Body, "nothing was sent") {
			t.Errorf("%s token: no clear message:\n%s", name, r.Body)
		}
	}
	// A token from another browser does not work either.
	other := g.newBrowser()
	foreign := csrfOf(t, other.get("/.mfa/login").Body)
	r := b.post("/.mfa/login", url.Values{"username": {"alice"}, "password": {testPassword}, "csrf": {foreign}})
	expectStatus(t, r, http.StatusForbidden)

	// Sign-out without a token does not end the session.
	g.newBrowser() // (unused)
	e := b.firstSignIn("alice", "/")
	_ = e
	r = b.post("/.mfa/logout", url.Values{})
	expectStatus(t, r, http.StatusForbidden)
	expectStatus(t, b.get("/"), http.StatusOK)
	// The enrolment POST needs it too (a fresh user).
	c := g.newBrowser()
	expectRedirect(t, c.login("bob", testPassword, "/"), "/.mfa/setup")
	page := c.get("/.mfa/setup/totp")
	secret := strings.ReplaceAll(secretRE.FindStringSubmatch(page.Body)[1], " ", "")
	r = c.post("/.mfa/setup/totp", url.Values{"code": {code(t, secret, time.Now())}})
	expectStatus(t, r, http.StatusForbidden)
}

// TestOpenRedirectRefused: only same-origin paths are returned to.
func TestOpenRedirectRefused(t *testing.T) {
	g := startGateway(t, gatewayOpts{})
	b := g.newBrowser()
	b.firstSignIn("alice", "/")
	for _, rd := range []string{
		"https://evil.example/", "//evil.example/x", "/\\evil.example", "\\\\evil.example",
		"javascript:alert(1)", "http:/evil.example", "/\r\nLocation: http://evil.example", "/\t/evil.example", "/.mfa/logout",
	} {
		r := b.get("/.mfa/login?rd=" + url.QueryEscape(rd))
		expectRedirect(t, r, "/")
	}
	// A same-origin path is kept.
	expectRedirect(t, b.get("/.mfa/login?rd="+url.QueryEscape("/ok?x=1")), "/ok?x=1")
}

// TestNonBrowserGets401: API clients get 401, never the login page or the app.
func TestNonBrowserGets401(t *testing.T) {
	g := startGateway(t, gatewayOpts{})
	b := g.newBrowser()
	for _, c := range []struct{ method, accept string }{
		{http.MethodGet, "application/json"}, {http.MethodPost, "text/html"}, {http.MethodDelete, "*/*"},
	} {
		req, _ := http.NewRequest(c.method, g.URL+"/api/items", strings.NewReader("{}"))
		req.Header.Set("Accept", c.accept)
		r := b.do(req)
		expectStatus(t, r, http.StatusUnauthorized)
		if strings.Contains(r.Body, "<form") {
			t.Errorf("%s with Accept %s got a page body", c.method, c.accept)
		}
	}
	if _, hits := g.Upstream.Last(); hits != 0 {
		t.Fatal("upstream reached without sign-in")
	}
}

// TestSpoofedIdentityHeadersWithoutSession: spoofed headers alone get nothing.
func TestSpoofedIdentityHeadersWithoutSession(t *testing.T) {
	g := startGateway(t, gatewayOpts{})
	b := g.newBrowser()
	r := b.get("/", "Remote-User", "alice", "Remote-Groups", "admins", "Accept", "application/json")
	expectStatus(t, r, http.StatusUnauthorized)
	if _, hits := g.Upstream.Last(); hits != 0 {
		t.Fatal("upstream reached with spoofed headers")
	}
}

// TestSessionIDChangesAtEachLevel: the cookie after the password differs
// from the one after the second factor, and the old ones are dead.
func TestSessionIDChangesAtEachLevel(t *testing.T) {
	g := startGateway(t, gatewayOpts{})
	e := g.newBrowser().firstSignIn("alice", "/")
	b := g.newBrowser()
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/challenge")
	oneFactor := b.sessionCookie()
	if oneFactor == "" {
		t.Fatal("no session after password")
	}
	// Opening another page of the app before the code makes that page the
	// one to return to: the challenge carries it (a GET changes no session).
	expectRedirect(t, b.get("/reports/7"), "/.mfa/login?rd=%2Freports%2F7")
	expectRedirect(t, b.get("/.mfa/login?rd=%2Freports%2F7"), "/.mfa/challenge?rd=%2Freports%2F7")
	ch := b.get("/.mfa/challenge?rd=%2Freports%2F7")
	expectText(t, ch, `<input type="hidden" name="rd" value="/reports/7">`)
	expectRedirect(t, b.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"totp"}, "rd": {"/reports/7"},
		"code": {code(t, e.Secret, time.Now().Add(30*time.Second))}}), "/reports/7")
	twoFactor := b.sessionCookie()
	if twoFactor == oneFactor || twoFactor == "" {
		t.Fatal("session id not changed by the second factor")
	}
	// An attacker holding the one-factor cookie has nothing.
	thief := g.newBrowser()
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/.mfa/challenge", nil)
	req.AddCookie(&http.Cookie{Name: "caddy_mfa", Value: oneFactor})
	expectRedirect(t, thief.do(req), "/.mfa/login")
	// The cookie is HttpOnly and SameSite=Lax.
	r := g.newBrowser().login("alice", testPassword, "/")
	sc := r.Header.Get("Set-Cookie")
	if !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") {
		t.Fatalf("session cookie attributes: %s", sc)
	}
}

// TestIdleAndAbsoluteExpiry: a session ends when idle too long, and at its
// lifetime however active it is.
func TestIdleAndAbsoluteExpiry(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		g := startGateway(t, gatewayOpts{global: "session {\n idle_timeout 2s\n lifetime 1h\n}"})
		b := g.newBrowser()
		b.firstSignIn("alice", "/")
		expectStatus(t, b.get("/"), http.StatusOK)
		time.Sleep(3 * time.Second)
		expectRedirect(t, b.get("/"), "/.mfa/login?rd=%2F")
	})
	t.Run("absolute", func(t *testing.T) {
		g := startGateway(t, gatewayOpts{global: "session {\n idle_timeout 1h\n lifetime 4s\n}"})
		b := g.newBrowser()
		b.firstSignIn("alice", "/")
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			expectStatus(t, b.get("/"), http.StatusOK)
			time.Sleep(500 * time.Millisecond)
		}
		time.Sleep(2 * time.Second)
		expectRedirect(t, b.get("/"), "/.mfa/login?rd=%2F")
	})
}

// TestAllowUsersAndGroups: a signed-in user outside the route's lists gets 403.
func TestAllowUsersAndGroups(t *testing.T) {
	g := startGateway(t, gatewayOpts{route: "allow_groups admins\n allow_users dave"})
	// bob is not asked to register a method for a route that refuses him:
	// after the password he is told, by name, that he has no access.
	b := g.newBrowser()
	expectRedirect(t, b.login("bob", testPassword, "/"), "/.mfa/setup")
	r := b.get("/.mfa/setup")
	expectStatus(t, r, http.StatusForbidden)
	if !strings.Contains(r.Body, "doesn&#39;t have access") || !strings.Contains(r.Body, "Bob Example") {
		t.Errorf("403 page unclear:\n%s", r.Body)
	}
	expectStatus(t, b.get("/"), http.StatusFound) // the password alone reaches nothing
	a := g.newBrowser()
	a.firstSignIn("alice", "/")
	expectStatus(t, a.get("/"), http.StatusOK)
}

// TestAccountsSurviveRestartAndUsersFileReloads: the registered app is
// still there after a restart; a changed users file takes effect without one.
func TestAccountsSurviveRestartAndUsersFileReloads(t *testing.T) {
	g := startGateway(t, gatewayOpts{})
	e := g.newBrowser().firstSignIn("alice", "/")
	g.restart()
	b := g.newBrowser()
	r := b.secondSignIn("alice", e, "/", 1)
	expectRedirect(t, r, "/")

	// Disable alice in the users file: her session stops working.
	data, err := os.ReadFile(g.UsersFile)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(data), "    email: alice@example.com\n", "    email: alice@example.com\n    disabled: true\n", 1)
	if err := os.WriteFile(g.UsersFile, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if r := b.get("/"); r.StatusCode == http.StatusFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("users file change not picked up within 10s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Her browser gets the login form, not a redirect back to the app (a loop).
	expectStatus(t, b.get("/.mfa/login?rd=%2F"), http.StatusOK)
	// A broken users file is logged, and the users before stay in force.
	if err := os.WriteFile(g.UsersFile, []byte("users: [broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(g.log.String(), "users file not reloaded") {
		if time.Now().After(deadline) {
			t.Fatal("broken users file not reported")
		}
		time.Sleep(200 * time.Millisecond)
	}
	expectRedirect(t, g.newBrowser().login("bob", testPassword, "/"), "/.mfa/setup")
}
