package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/ntfytest"
	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// Hardening of app passwords (issue 14, items 3 and 6): they stop while the
// account is blocked or locked and when the user revokes them with "sign
// out everywhere"; and concurrent guesses never get more checks than the
// limits allow.

// createAppPassword makes an app password on the security-info page of a
// browser signed in with a recent second factor, and returns it.
func createAppPassword(t *testing.T, b *browser, name string) string {
	t.Helper()
	page := b.get("/.mfa/security")
	expectStatus(t, page, http.StatusOK)
	r := b.follow(b.post("/.mfa/security/app-passwords", url.Values{"csrf": {csrfOf(t, page.Body)}, "name": {name}}))
	expectStatus(t, r, http.StatusOK)
	m := appPasswordRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no app password shown:\n%s", tail(r.Body, 2000))
	}
	return m[1]
}

// appPasswordUse is one Basic-auth request: its answer and whether it
// reached the upstream.
func (g *gateway) appPasswordUse(t *testing.T, user, pw string) (*response, bool) {
	t.Helper()
	_, before := g.Upstream.Last()
	r := g.basic(t, user, pw)
	_, after := g.Upstream.Last()
	return r, after != before
}

// expectAppPasswordWorks fails unless user's app password reaches the app.
func (g *gateway) expectAppPasswordWorks(t *testing.T, user, pw, when string) {
	t.Helper()
	r, reached := g.appPasswordUse(t, user, pw)
	if r.StatusCode != http.StatusOK || !reached {
		t.Fatalf("%s: %s's app password got %d (reached the app: %v), want 200:\n%s", when, user, r.StatusCode, reached, tail(r.Body, 500))
	}
	if h, _ := g.Upstream.Last(); h.Get("Remote-User") != user {
		t.Fatalf("%s: upstream got Remote-User %q", when, h.Get("Remote-User"))
	}
}

// expectAppPasswordRefused fails if user's app password reaches the app,
// and returns the answer.
func (g *gateway) expectAppPasswordRefused(t *testing.T, user, pw, when string) *response {
	t.Helper()
	r, reached := g.appPasswordUse(t, user, pw)
	if r.StatusCode == http.StatusOK || reached {
		t.Fatalf("%s: %s's app password got %d (reached the app: %v), want it refused", when, user, r.StatusCode, reached)
	}
	return r
}

// expectSameAnswer fails if a wrong app password is answered differently
// now than it was before: someone without the right app password must
// learn nothing about the account's state.
func expectSameAnswer(t *testing.T, when string, before, now *response) {
	t.Helper()
	for _, h := range []string{"WWW-Authenticate", "Content-Type", "Retry-After"} {
		if before.Header.Get(h) != now.Header.Get(h) {
			t.Errorf("%s: a wrong app password's %s is %q, was %q", when, h, now.Header.Get(h), before.Header.Get(h))
		}
	}
	if before.StatusCode != now.StatusCode || before.Body != now.Body {
		t.Fatalf("%s: a wrong app password now gets %d %q, before %d %q", when, now.StatusCode, now.Body, before.StatusCode, before.Body)
	}
}

// recoverySignIn signs user in with the password and a recovery code (a
// test cannot have more than one fresh authenticator-app code in 30 s).
func recoverySignIn(t *testing.T, b *browser, user, code string) {
	t.Helper()
	expectRedirect(t, b.login(user, testPassword, "/"), "/.mfa/challenge")
	ch := b.get("/.mfa/challenge?method=recovery")
	expectSignedInTo(t, b, b.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"recovery"}, "code": {code}}), "/")
}

// unlockByAPI lifts user's lockout through the admin API.
func (g *gateway) unlockByAPI(t *testing.T, user string) {
	t.Helper()
	resp, err := http.Post("http://"+g.Admin+"/mfa/unlock/"+user, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"was_locked":true`) {
		t.Fatalf("POST /mfa/unlock/%s: %d %s", user, resp.StatusCode, body)
	}
}

// TestHardeningAppPasswordFollowsAccount: an app password stops while its
// user is blocked by a fraud report or locked out by wrong second-factor
// codes, until `caddy mfa unlock`; a wrong one is answered the same way
// whatever the account's state. "Sign out everywhere" keeps app passwords;
// with "and revoke app passwords" ticked, they stop too.
func TestHardeningAppPasswordFollowsAccount(t *testing.T) {
	t.Parallel()
	f := ntfytest.New(t, ntfyToken)
	public := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	g := startGateway(t, gatewayOpts{
		global:     "public_url " + public + "\n" + ntfyBlock(f) + limitsBlock("max_code_failures 3", "code_per_user 100/1m"),
		route:      "app_passwords",
		extraSites: public + " {\n\tmfa\n\trespond \"not the app\" 404\n}\n",
	})
	const wrong = "aaaa-bbbb-cccc-dddd"

	// alice signs in with app notifications and makes an app password.
	a := g.newBrowser()
	topic, _ := a.enrolPush(f, "alice")
	alicePW := createAppPassword(t, a, "Mail")
	g.expectAppPasswordWorks(t, "alice", alicePW, "new")
	wrongBefore := g.basic(t, "alice", wrong)
	expectStatus(t, wrongBefore, http.StatusUnauthorized)

	// Someone with her password sends a prompt; she reports fraud.
	attacker := g.newBrowser()
	attacker.sendPush("alice")
	msg := f.WaitMessage(t, topic, sendTimeout)
	expectStatus(t, newPhone(t).answer(msg.Click, "fraud", ""), http.StatusOK)
	if len(g.waitLog("fraud_reported", `"user":"alice"`)) == 0 {
		t.Fatal("fraud report not logged")
	}
	r := g.expectAppPasswordRefused(t, "alice", alicePW, "blocked by a fraud report")
	expectStatus(t, r, http.StatusForbidden)
	expectSameAnswer(t, "blocked by a fraud report", wrongBefore, g.basic(t, "alice", wrong))
	if lines := g.waitLog("app_password_refused", `"user":"alice"`, `"reason":"blocked"`); len(lines) == 0 {
		t.Error("the refused app password is not logged with reason blocked")
	}
	if out, err := g.cli("mfa", "unlock", "alice"); err != nil || !strings.Contains(out, `"was_locked":true`) {
		t.Fatalf("caddy mfa unlock alice: %v %s", err, out)
	}
	g.expectAppPasswordWorks(t, "alice", alicePW, "unlocked")

	// bob uses the authenticator app; someone with his password guesses
	// codes until the account locks.
	b := g.newBrowser()
	e := b.firstSignIn("bob", "/")
	bobPW := createAppPassword(t, b, "Calendar")
	g.expectAppPasswordWorks(t, "bob", bobPW, "new")
	wrongBefore = g.basic(t, "bob", wrong)
	x := g.newBrowser()
	expectRedirect(t, x.login("bob", testPassword, "/"), "/.mfa/challenge")
	page := x.get("/.mfa/challenge")
	for range 3 { // max_code_failures 3: the third locks
		page = x.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, page.Body)}, "method": {"totp"}, "code": {"000000"}})
		expectStatus(t, page, http.StatusUnauthorized)
	}
	expectStatus(t, x.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, page.Body)}, "method": {"totp"}, "code": {"000000"}}), http.StatusTooManyRequests)
	g.expectAppPasswordRefused(t, "bob", bobPW, "locked out by wrong codes")
	expectSameAnswer(t, "locked out by wrong codes", wrongBefore, g.basic(t, "bob", wrong))
	if lines := g.waitLog("app_password_refused", `"user":"bob"`, `"reason":"locked"`); len(lines) == 0 {
		t.Error("the refused app password is not logged with reason locked")
	}
	g.unlockByAPI(t, "bob")
	g.expectAppPasswordWorks(t, "bob", bobPW, "unlocked")

	// Sign out everywhere: browsers are signed out, app passwords go on.
	b = g.newBrowser()
	expectRedirect(t, b.secondSignIn("bob", e, "/", 1), "/")
	page = b.get("/.mfa/security")
	expectText(t, page, "App passwords keep working", "and revoke app passwords")
	r = b.post("/.mfa/security/signout", url.Values{"csrf": {csrfOf(t, page.Body)}, "confirm": {"1"}})
	expectRedirect(t, r, "/.mfa/signed-out")
	done := b.get("/.mfa/signed-out")
	expectStatus(t, done, http.StatusOK)
	expectText(t, done, "You are signed out on every device and browser.", "Your app passwords still work")
	b.notSignedIn("/")
	g.expectAppPasswordWorks(t, "bob", bobPW, "after signing out everywhere")

	// With the box ticked, app passwords are revoked too.
	b = g.newBrowser()
	recoverySignIn(t, b, "bob", e.Codes[0])
	page = b.get("/.mfa/security")
	r = b.post("/.mfa/security/signout", url.Values{"csrf": {csrfOf(t, page.Body)}, "app_passwords": {"revoke"}, "confirm": {"1"}})
	expectRedirect(t, r, "/.mfa/signed-out?app_passwords=revoked")
	done = b.get("/.mfa/signed-out?app_passwords=revoked")
	expectText(t, done, "You are signed out on every device and browser.", "app passwords are revoked")
	b.notSignedIn("/")
	r = g.expectAppPasswordRefused(t, "bob", bobPW, "after signing out everywhere and revoking")
	expectStatus(t, r, http.StatusUnauthorized)
	if lines := g.waitLog("app_passwords_revoked", `"user":"bob"`, `"app_passwords":1`); len(lines) == 0 {
		t.Error("revoking every app password is not logged with their number")
	}
	g.expectAppPasswordWorks(t, "alice", alicePW, "after bob revoked his")

	// The same in Japanese.
	j := g.newBrowser()
	j.lang = "ja"
	recoverySignIn(t, j, "bob", e.Codes[1])
	expectText(t, j.get("/.mfa/security"), "アプリパスワードも取り消す")
	// A browser still signed in is not told it is signed out.
	expectRedirect(t, j.get("/.mfa/signed-out"), "/.mfa/")
	k := g.newBrowser()
	k.lang = "ja"
	expectText(t, k.get("/.mfa/signed-out?app_passwords=revoked"), "アプリパスワードは取り消されました")
	expectText(t, k.get("/.mfa/signed-out"), "アプリパスワードは引き続き使えます")

	// An administrator's `caddy mfa sessions revoke` keeps app passwords,
	// unless told --app-passwords.
	if out, err := g.cli("mfa", "sessions", "revoke", "alice"); err != nil || strings.Contains(out, "app_passwords_revoked") {
		t.Fatalf("caddy mfa sessions revoke alice: %v %s", err, out)
	}
	g.expectAppPasswordWorks(t, "alice", alicePW, "after an administrator ended her sessions")
	if out, err := g.cli("mfa", "sessions", "revoke", "--app-passwords", "alice"); err != nil || !strings.Contains(out, `"app_passwords_revoked":1`) {
		t.Fatalf("caddy mfa sessions revoke --app-passwords alice: %v %s", err, out)
	}
	expectStatus(t, g.expectAppPasswordRefused(t, "alice", alicePW, "after an administrator revoked them"), http.StatusUnauthorized)
	if len(g.waitLog("app_passwords_revoked", `"user":"alice"`, `"by":"admin"`)) == 0 {
		t.Error("the administrator's revocation is not logged")
	}
}

// wrongAppPassword is the i-th of many well-formed app passwords that are
// nobody's.
func wrongAppPassword(i int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	s := []byte("wxyz-wxyz-wxyz-")
	for k := range 4 {
		s = append(s, alphabet[(i>>(5*k))&31])
	}
	return string(s)
}

// guessBurst sends n Basic-auth requests at once (released together), user
// and password of the i-th from guess, and counts the answers by status.
// Each request may take up to 60 s; a request that fails counts as -1.
func (g *gateway) guessBurst(n int, guess func(i int) (string, string)) map[int]int {
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	defer client.CloseIdleConnections()
	start := make(chan struct{})
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			user, pw := guess(i)
			req, _ := http.NewRequest(http.MethodGet, g.URL+"/dav/file.txt", nil)
			req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pw)))
			<-start
			status := -1
			if resp, err := client.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				status = resp.StatusCode
			}
			mu.Lock()
			counts[status]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return counts
}

// settledCount is how many log lines have all of parts, once the count has
// not moved for half a second (the log is copied from Caddy's stderr).
func (g *gateway) settledCount(parts ...string) int {
	n, since := len(g.logLines(parts...)), time.Now()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := len(g.logLines(parts...)); m != n {
			n, since = m, time.Now()
		} else if time.Since(since) > 500*time.Millisecond {
			break
		}
	}
	return n
}

// refilled is how many events a limit of rate per minute lets through in
// d beyond its burst.
func refilled(rate int, d time.Duration) int {
	return int(d*time.Duration(rate)/time.Minute) + 1
}

// TestHardeningAppPasswordGuessRace: 300 wrong app passwords sent at once,
// on the embedded stores and on Redis, are checked no more often than the
// limits allow (app_password_per_user 10/1m, app_password_per_ip 20/1m,
// each a burst of its rate): at most the burst plus what the limit refills
// while the burst is served, plus one; the rest get 429 before any check.
// A right app password used often (a client that polls) is never limited.
func TestHardeningAppPasswordGuessRace(t *testing.T) {
	for _, kind := range []string{"embedded", "redis"} {
		t.Run(kind, func(t *testing.T) {
			global := limitsBlock("app_password_per_ip 20/1m", "app_password_per_user 10/1m")
			if kind == "redis" {
				rg, rdb, prefix := redisGlobal(t, redistest.Addr())
				global = rg + "\n" + global
				t.Cleanup(func() { redistest.DeletePrefix(context.Background(), rdb, "rate:"+prefix) })
			}
			g := startGateway(t, gatewayOpts{global: global, route: "app_passwords"})
			b := g.newBrowser()
			b.firstSignIn("alice", "/")
			pw := createAppPassword(t, b, "Sync")
			for i := range 40 {
				g.expectAppPasswordWorks(t, "alice", pw, fmt.Sprintf("right use %d of 40", i+1))
			}

			const n = 300
			begin := time.Now()
			counts := g.guessBurst(n, func(i int) (string, string) { return "alice", wrongAppPassword(i) })
			took := time.Since(begin)
			checked := g.settledCount(`"event":"app_password_failed"`)
			bound := 10 + refilled(10, took)
			t.Logf("%s: %d wrong guesses for alice at once in %v: %d checked (bound %d), answers %v", kind, n, took.Round(time.Millisecond), checked, bound, counts)
			if checked > bound {
				t.Errorf("%d of %d concurrent wrong guesses for one user were checked, want at most %d", checked, n, bound)
			}
			if counts[http.StatusUnauthorized] != checked || counts[http.StatusTooManyRequests] != n-checked {
				t.Errorf("answers %v: want %d × 401 (checked) and the rest 429", counts, checked)
			}
			// Past the limit even the right one waits (as documented), until
			// an administrator unlocks.
			r := g.expectAppPasswordRefused(t, "alice", pw, "after the burst")
			expectStatus(t, r, http.StatusTooManyRequests)
			if r.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			if out, err := g.cli("mfa", "unlock", "alice"); err != nil {
				t.Fatalf("caddy mfa unlock alice: %v %s", err, out)
			}
			g.expectAppPasswordWorks(t, "alice", pw, "unlocked")

			// Many names from one address: the address's limit holds.
			counts = g.guessBurst(n, func(i int) (string, string) { return fmt.Sprintf("nobody%d", i), wrongAppPassword(i) })
			took = time.Since(begin)
			checked = g.settledCount(`"event":"app_password_failed"`)
			bound = 20 + refilled(20, took)
			t.Logf("%s: then %d wrong guesses for %d names from one address: %d checked in all (bound %d), answers %v", kind, n, n, checked, bound, counts)
			if checked > bound {
				t.Errorf("%d wrong guesses from one address were checked in all, want at most %d", checked, bound)
			}
		})
	}
}

// TestHardeningAppPasswordGuesserCannotKeepTheClientOut: whoever knows a
// user name and guesses app passwords from elsewhere uses up the user's
// limit for unfamiliar addresses only: the user's mail client, at the
// address where its right app password was used, goes on working.
func TestHardeningAppPasswordGuesserCannotKeepTheClientOut(t *testing.T) {
	g := startGateway(t, gatewayOpts{global: limitsBlock("app_password_per_user 3/1m"), route: "app_passwords"})
	b := g.newBrowser()
	b.firstSignIn("alice", "/")
	pw := createAppPassword(t, b, "Mail")
	g.expectAppPasswordWorks(t, "alice", pw, "the client's first use")

	guesser := g.browserFrom("127.0.0.2")
	var last *response
	for i := range 10 {
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+wrongAppPassword(i)))
		last = guesser.get("/dav/file.txt", "Authorization", auth, "Accept", "*/*")
	}
	expectStatus(t, last, http.StatusTooManyRequests)
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+pw))
	expectStatus(t, guesser.get("/dav/file.txt", "Authorization", auth, "Accept", "*/*"), http.StatusTooManyRequests)
	g.expectAppPasswordWorks(t, "alice", pw, "after a guesser elsewhere used up the limit")
}
