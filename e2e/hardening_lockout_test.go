package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// Smart lockout (issue 14, item 9): wrong passwords are counted per
// unfamiliar source, so that whoever knows a user name cannot lock out the
// user's right password in a browser the user signed in with before.

// browserFrom is a browser whose connections come from the loopback
// address ip (any of 127.0.0.0/8 on Linux), so that the gateway sees
// another client address.
func (g *gateway) browserFrom(ip string) *browser {
	b := g.newBrowser()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	b.client.Transport = &http.Transport{DialContext: d.DialContext}
	return b
}

// movedTo is the same browser (the same cookies) on another network.
func (b *browser) movedTo(ip string) *browser {
	m := b.g.browserFrom(ip)
	m.client.Jar = b.client.Jar
	return m
}

// guess sends n wrong passwords for user from b and returns the last answer.
func (b *browser) guess(user string, n int) *response {
	b.t.Helper()
	var last *response
	for i := range n {
		last = b.login(user, fmt.Sprintf("wrong guess %d", i), "/")
	}
	return last
}

// TestHardeningLockoutFamiliarBrowser: an attacker's 20 wrong passwords
// from another address lock the attacker's address out for alice, not
// alice in the browser she signed in with before (wherever it is now).
func TestHardeningLockoutFamiliarBrowser(t *testing.T) {
	g := startGateway(t, gatewayOpts{})
	f := g.browserFrom("127.0.0.1")
	e := f.firstSignIn("alice", "/")
	f.signOut()

	attacker := g.browserFrom("127.0.0.2")
	for i := range 5 {
		expectStatus(t, attacker.login("alice", fmt.Sprintf("wrong guess %d", i), "/"), http.StatusUnauthorized)
	}
	last := attacker.guess("alice", 15)
	expectStatus(t, last, http.StatusTooManyRequests)
	if last.Header.Get("Retry-After") == "" || !strings.Contains(last.Body, "Too many attempts") ||
		!strings.Contains(last.Body, "sign in from a browser where you have signed in before") {
		t.Fatalf("the attacker's lockout answer:\n%s", tail(last.Body, 1500))
	}
	// The right password from the attacker's address gets the same answer:
	// the lockout tells nothing about the password.
	right := g.browserFrom("127.0.0.2").login("alice", testPassword, "/")
	expectStatus(t, right, http.StatusTooManyRequests)

	// Alice, in her browser, with the right password: signed in.
	expectRedirect(t, f.secondSignIn("alice", e, "/", 1), "/")
	f.signedIn("alice", "/")
	f.signOut()
	// The same browser on another network is still familiar.
	expectRedirect(t, f.movedTo("127.0.0.4").login("alice", testPassword, "/"), "/.mfa/challenge")
	// A fresh browser at a third address is not locked: the attacker's
	// failures are counted against the attacker's address.
	expectRedirect(t, g.browserFrom("127.0.0.3").login("alice", testPassword, "/"), "/.mfa/challenge")
	// Other users are not affected even from the attacker's address.
	expectRedirect(t, g.browserFrom("127.0.0.2").login("bob", testPassword, "/"), "/.mfa/setup")
	// `caddy mfa unlock` lifts the lock of the attacker's address too.
	if out, err := g.cli("mfa", "unlock", "alice"); err != nil {
		t.Fatalf("caddy mfa unlock: %v %s", err, out)
	}
	expectRedirect(t, g.browserFrom("127.0.0.2").login("alice", testPassword, "/"), "/.mfa/challenge")
}

// TestHardeningLockoutUnfamiliarCap: past max_unfamiliar_failures wrong
// passwords from unfamiliar sources, every unfamiliar source is locked
// for the user (distributed guessing is bounded), while her familiar
// browser and the address she signed in from still work.
func TestHardeningLockoutUnfamiliarCap(t *testing.T) {
	// The per-user rate is raised so that the lockouts are what stop it.
	g := startGateway(t, gatewayOpts{global: limitsBlock("max_unfamiliar_failures 10", "login_per_user 1000/1m")})
	f := g.browserFrom("127.0.0.1")
	e := f.firstSignIn("alice", "/")
	f.signOut()

	// Two attackers, five wrong passwords each: each address is locked,
	// and together they reach the cap.
	for _, ip := range []string{"127.0.0.2", "127.0.0.3"} {
		a := g.browserFrom(ip)
		for i := range 5 {
			expectStatus(t, a.login("alice", fmt.Sprintf("wrong guess %d", i), "/"), http.StatusUnauthorized)
		}
		expectStatus(t, a.login("alice", testPassword, "/"), http.StatusTooManyRequests)
	}
	// A fresh browser at a fourth address, right password: locked.
	fresh := g.browserFrom("127.0.0.5").login("alice", testPassword, "/")
	expectStatus(t, fresh, http.StatusTooManyRequests)
	// The same answer as a wrong password there.
	expectStatus(t, g.browserFrom("127.0.0.5").login("alice", "wrong", "/"), http.StatusTooManyRequests)
	// The operator sees it.
	out, err := g.cli("mfa", "users")
	if err != nil || !lineHas(out, "alice", "unfamiliar") {
		t.Fatalf("caddy mfa users does not show the lock of unfamiliar sources: %v\n%s", err, out)
	}
	// Alice's browser still signs in, and so does a fresh browser at the
	// address she signed in from.
	expectRedirect(t, f.secondSignIn("alice", e, "/", 1), "/")
	f.signOut()
	expectRedirect(t, g.browserFrom("127.0.0.1").login("alice", testPassword, "/"), "/.mfa/challenge")
	// Bob was not touched.
	expectRedirect(t, g.browserFrom("127.0.0.5").login("bob", testPassword, "/"), "/.mfa/setup")

	if out, err := g.cli("mfa", "unlock", "alice"); err != nil {
		t.Fatalf("caddy mfa unlock: %v %s", err, out)
	}
	expectRedirect(t, g.browserFrom("127.0.0.5").login("alice", testPassword, "/"), "/.mfa/challenge")
	if out, _ := g.cli("mfa", "users"); lineHas(out, "alice", "unfamiliar") {
		t.Fatalf("still locked after unlock:\n%s", out)
	}
}

// TestHardeningLockoutRedis: two gateways share Redis: the attacker's
// wrong passwords on both lock the attacker's address on both, and the
// familiar browser made on one is familiar on the other.
func TestHardeningLockoutRedis(t *testing.T) {
	global, _, _ := redisGlobal(t, redistest.Addr())
	global += "\n" + limitsBlock("max_unfamiliar_failures 8", "login_per_user 1000/1m")
	g1 := startGateway(t, gatewayOpts{global: global})
	g2 := startGateway(t, gatewayOpts{global: global})
	f := g1.browserFrom("127.0.0.1")
	f.firstSignIn("alice", "/")
	f.signOut()
	f2 := g2.browserFrom("127.0.0.4")
	f2.client.Jar = f.client.Jar // cookies are per host, not per port

	// Three wrong passwords on one gateway and two on the other lock the
	// address on both.
	for i, g := range []*gateway{g1, g1, g1, g2, g2} {
		expectStatus(t, g.browserFrom("127.0.0.2").login("alice", fmt.Sprintf("wrong guess %d", i), "/"), http.StatusUnauthorized)
	}
	for _, g := range []*gateway{g1, g2} {
		expectStatus(t, g.browserFrom("127.0.0.2").login("alice", testPassword, "/"), http.StatusTooManyRequests)
	}
	expectRedirect(t, f2.login("alice", testPassword, "/"), "/.mfa/challenge")
	f2.signOut()
	// Three more from another address reach the cap of 8.
	for i := range 3 {
		expectStatus(t, g2.browserFrom("127.0.0.3").login("alice", fmt.Sprintf("wrong guess %d", i), "/"), http.StatusUnauthorized)
	}
	expectStatus(t, g1.browserFrom("127.0.0.5").login("alice", testPassword, "/"), http.StatusTooManyRequests)
	expectRedirect(t, f.login("alice", testPassword, "/"), "/.mfa/challenge")
}

// lineHas reports whether a line of out has every one of words.
func lineHas(out string, words ...string) bool {
	for _, l := range strings.Split(out, "\n") {
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(l, w)
		}
		if ok {
			return true
		}
	}
	return false
}

// TestHardeningLockoutLockedSourceHashesNothing: a flood of wrong
// passwords sent with a familiar-browser cookie (a copyable token, not held
// to login_per_ip) is answered 429 without a password hash once that
// source is locked, so it cannot fill the bounded hash gate and have every
// other sign-in refused as busy.
func TestHardeningLockoutLockedSourceHashesNothing(t *testing.T) {
	g := startGateway(t, gatewayOpts{})
	f := g.browserFrom("127.0.0.1")
	f.firstSignIn("alice", "/")
	f.signOut()
	expectStatus(t, f.guess("alice", 6), http.StatusTooManyRequests) // 5 lock the familiar browsers' side

	form := url.Values{"csrf": {csrfOf(t, f.get("/.mfa/login").Body)}, "username": {"alice"},
		"password": {"wrong"}, "rd": {"/"}}.Encode()
	const n = 120
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodPost, g.URL+"/.mfa/login", strings.NewReader(form))
			if err != nil {
				statuses <- -1
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept", "text/html")
			resp, err := f.client.Do(req)
			if err != nil {
				statuses <- -1
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	if counts[http.StatusTooManyRequests] != n {
		t.Fatalf("%d wrong passwords at once from a locked familiar browser: statuses %v, want all %d answered 429 without a hash (503 means they filled the hash gate)", n, counts, n)
	}
	// Meanwhile nobody else was kept out.
	expectRedirect(t, g.browserFrom("127.0.0.3").login("bob", testPassword, "/"), "/.mfa/setup")
}
