package e2e

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	ptotp "github.com/pquerna/otp/totp"
	bolt "go.etcd.io/bbolt"
)

// totpCode is code without a *testing.T, for goroutines.
func totpCode(secret string, at time.Time) (string, error) {
	return ptotp.GenerateCodeCustom(secret, at, ptotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// persistUsersYAML is a users file with alice, bob and carol (all enabled)
// and the load users u00 .. u(n-1).
func persistUsersYAML(n int) string {
	var b strings.Builder
	b.WriteString("users:\n")
	for _, u := range []string{"alice", "bob", "carol"} {
		fmt.Fprintf(&b, "  %s:\n    displayname: %q\n    password: %q\n    email: %s@example.com\n", u, u, passwordHash(), u)
	}
	for i := range n {
		fmt.Fprintf(&b, "  u%02d:\n    displayname: \"Load %02d\"\n    password: %q\n", i, i, passwordHash())
	}
	return b.String()
}

// startPersistGateway is a gateway on the embedded stores with the users
// of persistUsersYAML(n).
func startPersistGateway(t *testing.T, n int, global string) *gateway {
	t.Helper()
	g := startGateway(t, gatewayOpts{global: global})
	if err := os.WriteFile(g.UsersFile, []byte(persistUsersYAML(n)), 0o600); err != nil {
		t.Fatal(err)
	}
	g.restart()
	return g
}

// kill9 ends Caddy as a crash would (SIGKILL: no shutdown, no flush) and
// starts it again on the same data.
func (g *gateway) kill9AndStart() {
	g.t.Helper()
	if err := g.cmd.Process.Kill(); err != nil {
		g.t.Fatal(err)
	}
	<-g.exited
	g.cmd = nil
	g.start()
}

// TestHardeningPersistRestart: without Redis, a restart of the gateway (a
// clean one, as an upgrade does, and a crash: kill -9) keeps every session
// and every lockout. Alice stays signed in, bob stays locked out after his
// wrong passwords, carol's run of wrong codes goes on counting, and a TOTP
// code used just before the restart is still refused after it.
func TestHardeningPersistRestart(t *testing.T) {
	for _, tc := range []struct {
		name    string
		restart func(*gateway)
	}{
		{"clean restart", (*gateway).restart},
		{"kill -9", (*gateway).kill9AndStart},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The per-minute code limit is raised so that the lockout is what
			// stops carol, as in TestSecondFactorFailuresLockOut.
			g := startPersistGateway(t, 0, "limits {\n code_per_user 100/1m\n }")

			// Alice: enrolled and signed in, in two browsers; the second
			// sign-in uses the code of the next time step.
			alice := g.newBrowser()
			ae := alice.firstSignIn("alice", "/")
			expectStatus(t, alice.get("/before"), http.StatusOK)
			alice2 := g.newBrowser()
			used := time.Now().Add(30 * time.Second)
			usedCode := code(t, ae.Secret, used)
			expectRedirect(t, alice2.login("alice", testPassword, "/"), "/.mfa/challenge")
			ch := alice2.get("/.mfa/challenge")
			expectRedirect(t, alice2.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"totp"}, "code": {usedCode}}), "/")

			// Bob: five wrong passwords lock him out.
			for range 5 {
				expectStatus(t, g.newBrowser().login("bob", "wrong", "/"), http.StatusUnauthorized)
			}
			expectStatus(t, g.newBrowser().login("bob", testPassword, "/"), http.StatusTooManyRequests)

			// Carol: nine wrong codes, one short of the lockout (10).
			g.newBrowser().firstSignIn("carol", "/")
			carol := g.newBrowser()
			expectRedirect(t, carol.login("carol", testPassword, "/"), "/.mfa/challenge")
			page := carol.get("/.mfa/challenge")
			for range 9 {
				page = carol.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, page.Body)}, "method": {"totp"}, "code": {"000000"}})
				expectStatus(t, page, http.StatusUnauthorized)
			}

			tc.restart(g)

			// Checked to the end, so that one run shows every loss.
			// Alice's cookies still reach the app, in both browsers.
			for i, b := range []*browser{alice, alice2} {
				r := b.get(fmt.Sprintf("/after-restart-%d", i))
				if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `hello to "alice"`) {
					t.Errorf("alice's browser %d was signed out by the restart: status %d (Location %q)", i, r.StatusCode, r.Header.Get("Location"))
				}
			}
			// Bob is still locked out: the right password gets the lockout page.
			if r := g.newBrowser().login("bob", testPassword, "/"); r.StatusCode != http.StatusTooManyRequests {
				t.Errorf("bob's lockout was lifted by the restart: the right password got status %d (Location %q)", r.StatusCode, r.Header.Get("Location"))
			}
			// Carol's tenth wrong code in the run locks her: the attempt
			// after it is refused.
			carol2 := g.newBrowser()
			expectRedirect(t, carol2.login("carol", testPassword, "/"), "/.mfa/challenge")
			page = carol2.get("/.mfa/challenge")
			var r *response
			for i := range 2 {
				r = carol2.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, page.Body)}, "method": {"totp"}, "code": {"000000"}})
				if i == 0 {
					expectStatus(t, r, http.StatusUnauthorized)
					page = r
				}
			}
			if r.StatusCode != http.StatusTooManyRequests {
				t.Errorf("carol's run of 9 wrong codes was forgotten by the restart: after the 10th, status %d, want 429", r.StatusCode)
			}
			// The code alice used before the restart is refused after it,
			// while it would still be inside the accepted window (skew 1).
			replay := g.newBrowser()
			expectRedirect(t, replay.login("alice", testPassword, "/"), "/.mfa/challenge")
			ch = replay.get("/.mfa/challenge")
			if time.Since(used) > 25*time.Second {
				t.Fatalf("the restart took too long to check the replay: the code of %s is out of the window", used.Format(time.TimeOnly))
			}
			r = replay.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"totp"}, "code": {usedCode}})
			if r.StatusCode != http.StatusUnauthorized || replay.get("/app").StatusCode == http.StatusOK {
				t.Errorf("a TOTP code used before the restart was accepted again after it: status %d", r.StatusCode)
			}
		})
	}
}

// signInOnce signs user (enrolled with secret) in on a fresh client with
// password and the code of the next time step, returning the client once
// the final redirect with the session cookie has arrived. Unlike the
// browser helpers it returns errors, since Caddy is killed under it.
func signInOnce(g *gateway, user, secret string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, form url.Values) (*http.Response, string, error) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, g.URL+path, body)
		if err != nil {
			return nil, "", err
		}
		req.Header.Set("Accept", "text/html")
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, string(b), err
	}
	csrf := func(body string) string {
		if m := csrfRE.FindStringSubmatch(body); m != nil {
			return m[1]
		}
		return ""
	}
	_, page, err := do(http.MethodGet, "/.mfa/login", nil)
	if err != nil {
		return nil, err
	}
	resp, _, err := do(http.MethodPost, "/.mfa/login", url.Values{"csrf": {csrf(page)}, "username": {user}, "password": {testPassword}, "rd": {"/"}})
	if err != nil {
		return nil, err
	}
	if loc := resp.Header.Get("Location"); loc != "/.mfa/challenge" {
		return nil, fmt.Errorf("password of %s: status %d, location %q", user, resp.StatusCode, loc)
	}
	_, page, err = do(http.MethodGet, "/.mfa/challenge", nil)
	if err != nil {
		return nil, err
	}
	c2, err := totpCode(secret, time.Now().Add(30*time.Second))
	if err != nil {
		return nil, err
	}
	resp, _, err = do(http.MethodPost, "/.mfa/challenge", url.Values{"csrf": {csrf(page)}, "method": {"totp"}, "code": {c2}})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		return nil, fmt.Errorf("code of %s: status %d, location %q", user, resp.StatusCode, resp.Header.Get("Location"))
	}
	set := false
	for _, ck := range resp.Cookies() {
		set = set || (ck.Name == "caddy_mfa" && ck.Value != "")
	}
	if !set {
		return nil, errors.New("final redirect without a session cookie")
	}
	return c, nil
}

// TestHardeningPersistKillUnderLoad: goroutines complete sign-ins
// (password and TOTP) in a loop; Caddy is killed with SIGKILL in the
// middle; after the restart, every sign-in that had received its final
// redirect with the session cookie still reaches the app.
func TestHardeningPersistKillUnderLoad(t *testing.T) {
	const workers, perWorker = 4, 6
	const users = workers * perWorker
	g := startPersistGateway(t, users, "limits {\n login_per_ip 1000/1m\n }")
	secrets := make([]string, users)
	for i := range users {
		secrets[i] = g.newBrowser().firstSignIn(fmt.Sprintf("u%02d", i), "/").Secret
	}

	type done struct {
		user   string
		client *http.Client
	}
	var (
		mu        sync.Mutex
		completed []done
		failed    atomic.Int32
		wg        sync.WaitGroup
	)
	deadline := time.Now().Add(90 * time.Second)
	for w := range workers {
		wg.Go(func() {
			for j := range perWorker {
				if time.Now().After(deadline) {
					return
				}
				i := w*perWorker + j
				user := fmt.Sprintf("u%02d", i)
				c, err := signInOnce(g, user, secrets[i])
				if err != nil {
					// Killed under it: this sign-in never completed.
					failed.Add(1)
					return
				}
				mu.Lock()
				completed = append(completed, done{user, c})
				mu.Unlock()
			}
		})
	}
	// Kill once a third have completed, while the others are in flight.
	for {
		mu.Lock()
		n := len(completed)
		mu.Unlock()
		if n >= users/3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := g.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-g.exited
	wg.Wait()
	g.cmd = nil
	g.start()

	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d sign-ins completed before the kill, %d cut off by it", len(completed), failed.Load())
	if len(completed) < users/3 {
		t.Fatalf("only %d sign-ins completed in time", len(completed))
	}
	for _, d := range completed {
		resp, err := d.client.Get(g.URL + "/app")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), fmt.Sprintf("hello to %q", d.user)) {
			t.Errorf("%s's completed sign-in was lost in the crash: status %d, %s", d.user, resp.StatusCode, tail(string(body), 200))
		}
	}
}

// TestHardeningPersistAnonymousFloodBounded: anonymous visitors cost no
// state on disk. No anonymous session is stored (the login form's CSRF
// token is bound to a random cookie, not to server state), so 3000
// anonymous requests (login pages, protected pages with and without forged
// cookies, password posts for made-up names) grow the accounts file by at
// most 64 KiB, and leave in it only the rate-limit entries of the password
// attempts the per-address limit let through: two per attempt (its user's
// counters) plus the address's own, at most 2 * (30 + elapsed/2s) + 5 for
// the default login_per_ip of 30/1m.
func TestHardeningPersistAnonymousFloodBounded(t *testing.T) {
	const requests = 3000
	const maxGrowth = 64 << 10
	g := startGateway(t, gatewayOpts{})
	db := filepath.Join(g.DataDir, "accounts.db")
	before := fileSize(t, db)

	client := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	b := g.newBrowser()
	login := b.get("/.mfa/login")
	csrf := csrfOf(t, login.Body)
	var pre *http.Cookie
	u, _ := url.Parse(g.URL + "/.mfa/login")
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "caddy_mfa_pre" {
			pre = c
		}
	}
	if pre == nil {
		t.Fatal("no pre-session cookie on the login page")
	}
	start := time.Now()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < requests; i += 4 {
				var req *http.Request
				switch i % 4 {
				case 0:
					req, _ = http.NewRequest(http.MethodGet, g.URL+"/.mfa/login?rd=%2Fp"+fmt.Sprint(i), nil)
				case 1:
					req, _ = http.NewRequest(http.MethodGet, g.URL+"/protected/"+fmt.Sprint(i), nil)
				case 2:
					req, _ = http.NewRequest(http.MethodGet, g.URL+"/protected/"+fmt.Sprint(i), nil)
					req.AddCookie(&http.Cookie{Name: "caddy_mfa", Value: fmt.Sprintf("forged-%d-%s", i, strings.Repeat("x", 60))})
				case 3:
					form := url.Values{"csrf": {csrf}, "username": {fmt.Sprintf("nobody-%d", i)}, "password": {"guess"}, "rd": {"/"}}
					req, _ = http.NewRequest(http.MethodPost, g.URL+"/.mfa/login", strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.AddCookie(pre)
				}
				req.Header.Set("Accept", "text/html")
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	t.Logf("%d anonymous requests in %v", requests, time.Since(start).Round(time.Millisecond))
	elapsed := time.Since(start)
	g.stop() // a clean stop writes everything kept in memory
	after := fileSize(t, db)
	t.Logf("accounts file: %d bytes before, %d after", before, after)
	if after-before > maxGrowth {
		t.Errorf("accounts file grew by %d bytes over %d anonymous requests; bound %d", after-before, requests, maxGrowth)
	}
	// Each wrong password that login_per_ip (30/1m: a burst of 30, then one
	// every 2 s) lets through to the check leaves at most 3 entries, all
	// for the name typed and expiring within minutes: its per-user rate,
	// its address's failure count and its unfamiliar-sources count (smart
	// lockout); +5 for the address's own rate and the like.
	maxEntries := 3*(30+int(elapsed.Seconds()/2)+1) + 5
	n := countStateEntries(t, db)
	t.Logf("short-lived state entries on disk: %d (bound %d)", n, maxEntries)
	if n > maxEntries {
		t.Errorf("%d entries of short-lived state on disk after %d anonymous requests; bound %d", n, requests, maxEntries)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// countStateEntries counts the entries of every bucket but the accounts.
func countStateEntries(t *testing.T, path string) int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	if err := db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if string(name) != "accounts" {
				n += b.Stats().KeyN
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return n
}
