package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// redisGlobal is the global mfa lines that put a gateway on Redis at addr
// under its own key prefix, removed when the test ends.
func redisGlobal(t *testing.T, addr string) (string, redis.UniversalClient, string) {
	rdb, prefix := redistest.Client(t)
	return "redis {\n url redis://" + addr + "/0\n key_prefix " + prefix + "\n timeout 500ms\n }", rdb, prefix
}

// TestTwoGatewaysShareRedis: two Caddy instances on different ports share
// one Redis: a session made on one works on the other, failures on both
// count toward one lockout, and signing out on one ends it on both.
func TestTwoGatewaysShareRedis(t *testing.T) {
	global, rdb, prefix := redisGlobal(t, redistest.Addr())
	g1 := startGateway(t, gatewayOpts{global: global})
	g2 := startGateway(t, gatewayOpts{global: global})

	// Sign in on the first; the same browser (cookies are per host, not
	// per port) is signed in on the second.
	b := g1.newBrowser()
	e := b.firstSignIn("alice", "/")
	b2 := g2.newBrowser()
	b2.client.Jar = b.client.Jar
	expectStatus(t, b2.get("/shared"), http.StatusOK)
	if h, _ := g2.Upstream.Last(); h.Get("Remote-User") != "alice" {
		t.Fatalf("second gateway's upstream got Remote-User %q", h.Get("Remote-User"))
	}
	// The account in Redis keeps the seed and recovery codes unreadable.
	stored, err := rdb.Get(context.Background(), prefix+"account:alice").Result()
	if err != nil {
		t.Fatalf("account not in Redis: %v", err)
	}
	if strings.Contains(stored, e.Secret) || strings.Contains(stored, e.Codes[0]) || !strings.Contains(stored, `"secret":`) {
		t.Fatalf("account record exposes secrets or lacks the sealed seed: %s", stored)
	}
	// The account registered on the first is known to the second.
	c := g2.newBrowser()
	expectRedirect(t, c.secondSignIn("alice", e, "/", 1), "/")

	// Sign out on the second: the session is gone on the first too.
	acct := b2.get("/.mfa/")
	expectRedirect(t, b2.post("/.mfa/logout", url.Values{"csrf": {csrfOf(t, acct.Body)}}), "/.mfa/signed-out?here=1")
	expectRedirect(t, b.get("/"), "/.mfa/login?rd=%2F")

	// Three wrong passwords on one gateway and two on the other lock bob
	// out on both; then even the right password gets the lockout page.
	for i, g := range []*gateway{g1, g1, g1, g2, g2} {
		r := g.newBrowser().login("bob", "wrong password", "/")
		expectStatus(t, r, http.StatusUnauthorized)
		_ = i
	}
	for _, g := range []*gateway{g1, g2} {
		r := g.newBrowser().login("bob", testPassword, "/")
		expectStatus(t, r, http.StatusTooManyRequests)
		if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Fatalf("no Retry-After on the lockout page")
		}
		if !strings.Contains(r.Body, "Try again in 5 min") {
			t.Fatalf("lockout page does not say when:\n%s", r.Body)
		}
	}

	// An administrator lifts it from the command line, through either gateway.
	out, err := g2.cli("mfa", "unlock", "bob")
	if err != nil {
		t.Fatalf("caddy mfa unlock: %v\n%s", err, out)
	}
	var res struct {
		User      string `json:"user"`
		WasLocked bool   `json:"was_locked"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.User != "bob" || !res.WasLocked {
		t.Fatalf("unlock answered %q (%v)", out, err)
	}
	expectRedirect(t, g1.newBrowser().login("bob", testPassword, "/"), "/.mfa/setup")

	// `caddy mfa sessions revoke` ends alice's sessions on both gateways.
	// (The next TOTP step was used above; sign in with a recovery code.)
	d := g1.newBrowser()
	expectRedirect(t, d.login("alice", testPassword, "/"), "/.mfa/challenge")
	rp := d.get("/.mfa/challenge?method=recovery")
	expectSignedInTo(t, d, d.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, rp.Body)}, "method": {"recovery"}, "code": {e.Codes[0]}}), "/")
	expectStatus(t, d.get("/"), http.StatusOK)
	out, err = g1.cli("mfa", "sessions", "revoke", "alice")
	if err != nil || !strings.Contains(out, `"sessions_ended":`) {
		t.Fatalf("caddy mfa sessions revoke: %v\n%s", err, out)
	}
	expectRedirect(t, d.get("/"), "/.mfa/login?rd=%2F")
	d2 := g2.newBrowser()
	d2.client.Jar = d.client.Jar
	expectRedirect(t, d2.get("/"), "/.mfa/login?rd=%2F")
}

// TestRedisOutageFailsClosed: with Redis stopped, nothing reaches the
// upstream and users see a 503 page; when Redis is back, the same session
// works again without a restart of Caddy.
func TestRedisOutageFailsClosed(t *testing.T) {
	srv := redistest.StartServer(t)
	g := startGateway(t, gatewayOpts{global: "redis {\n url redis://" + srv.Addr + "/0\n timeout 500ms\n }"})
	b := g.newBrowser()
	b.firstSignIn("alice", "/")
	expectStatus(t, b.get("/before"), http.StatusOK)
	_, hitsBefore := g.Upstream.Last()

	srv.Stop()
	failClosedWait()
	start := time.Now()
	r := b.get("/during")
	expectStatus(t, r, http.StatusServiceUnavailable)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the 503 took %v: requests hang on a dead Redis", took)
	}
	if !strings.Contains(r.Body, "try again in a few minutes") {
		t.Fatalf("503 page unclear:\n%s", r.Body)
	}
	api := b.get("/api", "Accept", "application/json")
	expectStatus(t, api, http.StatusServiceUnavailable)
	login := g.newBrowser().get("/.mfa/login")
	if login.StatusCode == http.StatusOK {
		// The login page itself needs no store; submitting it does.
		form := url.Values{"csrf": {csrfOf(t, login.Body)}, "username": {"bob"}, "password": {testPassword}}
		nb := g.newBrowser()
		nb.client.Jar.SetCookies(mustURL(t, g.URL), login.Cookies())
		expectStatus(t, nb.post("/.mfa/login", form), http.StatusServiceUnavailable)
	}
	if _, hits := g.Upstream.Last(); hits != hitsBefore {
		t.Fatal("a request reached the upstream while Redis was down")
	}
	if !strings.Contains(g.log.String(), "failing closed") {
		t.Fatal("the log does not say why requests failed")
	}

	srv.Start()
	b.waitServes("/after", 15*time.Second)
	if h, _ := g.Upstream.Last(); h.Get("Remote-User") != "alice" {
		t.Fatal("session lost across the outage")
	}
	// With Redis, a restart of Caddy loses neither sessions nor accounts.
	g.restart()
	expectStatus(t, b.get("/after-restart"), http.StatusOK)
	expectRedirect(t, g.newBrowser().login("alice", testPassword, "/"), "/.mfa/challenge")
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// waitServes waits up to d for path to answer 200 again, as it does once
// the store it needs answers again.
func (b *browser) waitServes(path string, d time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for {
		r := b.get(path)
		if r.StatusCode == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("service did not resume within %v after the store did: %s answers %d", d, path, r.StatusCode)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
