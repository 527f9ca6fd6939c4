package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// slowRedis is one Redis deployment a gateway runs on, in a test's own
// redis-server processes: the gateway's redis block, and how to make the
// servers that hold the gateway's data stop answering for a while.
type slowRedis struct {
	name string
	// start starts the servers and returns the redis block's lines (without
	// timeout) and a function that stalls them for d, returning at once.
	start func(t *testing.T) (block string, stall func(d time.Duration))
}

// debugSleep runs DEBUG SLEEP on srv in the background: the whole server
// stops answering for d, as a server stuck on a slow disk or a huge
// command does.
func debugSleep(t *testing.T, srv *redistest.Server, d time.Duration) {
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, ReadTimeout: -1})
	started := make(chan struct{})
	go func() {
		defer rdb.Close()
		close(started)
		if err := rdb.Do(context.Background(), "DEBUG", "SLEEP", fmt.Sprintf("%.3f", d.Seconds())).Err(); err != nil {
			t.Errorf("DEBUG SLEEP on %s: %v", srv.Addr, err)
		}
	}()
	<-started
	time.Sleep(100 * time.Millisecond) // let the server take it
}

var slowRedisModes = []slowRedis{
	{name: "single", start: func(t *testing.T) (string, func(time.Duration)) {
		srv := redistest.StartServer(t)
		return "url redis://" + srv.Addr + "/0", func(d time.Duration) { debugSleep(t, srv, d) }
	}},
	{name: "sentinel", start: func(t *testing.T) (string, func(time.Duration)) {
		s := redistest.StartSentinel(t, redistest.SentinelOptions{Sentinels: 3})
		return "addresses " + strings.Join(s.Addrs, " ") + "\n master_name " + s.MasterName,
			func(d time.Duration) { debugSleep(t, s.Master, d) }
	}},
	{name: "cluster", start: func(t *testing.T) (string, func(time.Duration)) {
		c := redistest.StartCluster(t)
		// The gateway's keys lie on every node: pause them all. CLIENT
		// PAUSE stalls every client command as DEBUG SLEEP does, but leaves
		// the cluster bus alone, so no node is marked failed meanwhile.
		return "addresses " + strings.Join(c.Addrs, " ") + "\n cluster", func(d time.Duration) {
			for _, n := range c.Nodes {
				if err := n.Client().Do(context.Background(), "CLIENT", "PAUSE", d.Milliseconds(), "ALL").Err(); err != nil {
					t.Fatalf("CLIENT PAUSE on %s: %v", n.Addr, err)
				}
			}
		}
	}},
}

// timed is one request's outcome under a stalled Redis.
type timed struct {
	what   string
	status int
	body   string
	took   time.Duration
	err    error
}

// TestHardeningRedisSlowFailsClosed (issue 14, item 14): with `timeout 2s`,
// a Redis that stops answering for 8 s (DEBUG SLEEP, or CLIENT PAUSE on
// every cluster node) under 32 concurrent requests to a protected page and
// to the login page (GET and POST) makes every one of them end within
// 2×timeout + 1 s = 5 s with the 503 page, for a single server, a Sentinel
// group and a Cluster; and the same session works again when Redis does.
func TestHardeningRedisSlowFailsClosed(t *testing.T) {
	const timeout = 2 * time.Second
	const bound = 2*timeout + time.Second
	const stall = 8 * time.Second
	for _, mode := range slowRedisModes {
		t.Run(mode.name, func(t *testing.T) {
			block, stallRedis := mode.start(t)
			g := startGateway(t, gatewayOpts{global: "redis {\n " + block + "\n timeout " + timeout.String() + "\n }"})
			b := g.newBrowser()
			b.firstSignIn("alice", "/")
			expectStatus(t, b.get("/before"), http.StatusOK)
			// A second browser with the login form open, to submit it
			// while Redis is stalled.
			lb := g.newBrowser()
			form := lb.get("/.mfa/login")
			expectStatus(t, form, http.StatusOK)
			loginForm := url.Values{"csrf": {csrfOf(t, form.Body)}, "username": {"bob"}, "password": {testPassword}, "rd": {"/"}}
			_, hitsBefore := g.Upstream.Last()

			stallRedis(stall)
			stalledAt := time.Now()
			failClosedWait()
			results := make(chan timed, 32)
			var wg sync.WaitGroup
			for i := range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var req *http.Request
					var what string
					client := b.client
					switch i % 4 {
					case 0, 1:
						what = "GET /app"
						req, _ = http.NewRequest(http.MethodGet, fmt.Sprintf("%s/app/%d", g.URL, i), nil)
					case 2:
						what = "GET /.mfa/login"
						req, _ = http.NewRequest(http.MethodGet, g.URL+"/.mfa/login", nil)
					case 3:
						what = "POST /.mfa/login"
						client = lb.client
						req, _ = http.NewRequest(http.MethodPost, g.URL+"/.mfa/login", strings.NewReader(loginForm.Encode()))
						req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					}
					req.Header.Set("Accept", "text/html")
					start := time.Now()
					resp, err := client.Do(req)
					res := timed{what: what, err: err}
					if err == nil {
						body, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						res.status, res.body = resp.StatusCode, string(body)
					}
					res.took = time.Since(start)
					results <- res
				}()
			}
			wg.Wait()
			close(results)
			var slowest time.Duration
			for r := range results {
				slowest = max(slowest, r.took)
				switch {
				case r.err != nil:
					t.Errorf("%s: %v after %v", r.what, r.err, r.took)
				case r.took > bound:
					t.Errorf("%s took %v (status %d), more than 2×timeout+1s = %v", r.what, r.took.Round(time.Millisecond), r.status, bound)
				case r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "try again in a few minutes"):
					t.Errorf("%s: status %d after %v, want the 503 page; body:\n%s", r.what, r.status, r.took, tail(r.body, 300))
				}
			}
			t.Logf("%s: slowest of 32 requests with Redis stalled: %v (bound %v)", mode.name, slowest.Round(time.Millisecond), bound)
			if _, hits := g.Upstream.Last(); hits != hitsBefore {
				t.Fatal("a request reached the upstream while Redis was stalled")
			}

			// Service resumes by itself when Redis answers again.
			time.Sleep(time.Until(stalledAt.Add(stall)))
			b.waitServes("/after", 15*time.Second)
			if h, _ := g.Upstream.Last(); h.Get("Remote-User") != "alice" {
				t.Fatal("session lost across the stall")
			}
		})
	}
}

// keyedGateway writes the harness's Caddyfile with storage key key (none
// if empty), without starting Caddy: call start, or startFails.
func keyedGateway(t *testing.T, o gatewayOpts, key string) *gateway {
	t.Helper()
	return writeGateway(t, o, key)
}

// startFails runs Caddy, expects it to exit within 30 s without serving,
// and returns its log.
func (g *gateway) startFails() string {
	g.t.Helper()
	g.launch()
	select {
	case <-g.exited:
		g.cmd = nil
		return g.log.String()
	case <-time.After(30 * time.Second):
		g.t.Fatalf("caddy started, but should have refused to; log:\n%s", tail(g.log.String(), 3000))
		return ""
	}
}

const (
	storageKey1 = "hardening-storage-key-one-0123456789abcdef"
	storageKey2 = "hardening-storage-key-two-0123456789abcdef"
)

// TestHardeningRedisStorageKey (issue 14, item 15): on Redis a gateway
// without storage_key does not start (caddy validate says so too); a
// gateway whose storage_key differs from the one the gateways on that
// Redis use refuses to start with a message that says so, and Redis
// holds only a fingerprint of the key, never the key.
func TestHardeningRedisStorageKey(t *testing.T) {
	srv := redistest.StartServer(t)
	block := "redis {\n url redis://" + srv.Addr + "/0\n key_prefix keytest:\n timeout 2s\n }"

	out, err := validate(t, fmt.Sprintf("{\n\tadmin off\n\tmfa {\n\t\tusers_file %s\n\t\t%s\n\t}\n}\n", writeUsers(t), block))
	if err == nil || !strings.Contains(out, "storage_key") || !strings.Contains(out, "redis") {
		t.Fatalf("caddy validate of redis without storage_key: %v\n%s", err, out)
	}
	if log := keyedGateway(t, gatewayOpts{global: block}, "").startFails(); !strings.Contains(log, "storage_key is required with redis") {
		t.Fatalf("gateway on redis without storage_key: log does not say why it stopped:\n%s", tail(log, 3000))
	}

	a := keyedGateway(t, gatewayOpts{global: block}, storageKey1)
	a.start()
	a.newBrowser().firstSignIn("alice", "/")
	b := keyedGateway(t, gatewayOpts{global: block}, storageKey2)
	log := b.startFails()
	if !strings.Contains(log, "storage_key differs from the one the gateways on this Redis use") {
		t.Fatalf("gateway with another key: log does not say why it stopped:\n%s", tail(log, 3000))
	}
	// The same key again starts, as a second gateway or after a restart.
	a2 := keyedGateway(t, gatewayOpts{global: block}, storageKey1)
	a2.start()
	expectRedirect(t, a2.newBrowser().login("alice", testPassword, "/"), "/.mfa/challenge")

	// Redis holds a fingerprint under the prefix, and nothing of the key.
	ctx := context.Background()
	rdb := srv.Client()
	fp, err := rdb.Get(ctx, "keytest:storage-key-fingerprint").Result()
	if err != nil || fp == "" {
		t.Fatalf("no key fingerprint in Redis: %q, %v", fp, err)
	}
	keys, _ := rdb.Keys(ctx, "*").Result()
	for _, k := range keys {
		if !strings.HasPrefix(k, "keytest:") && !strings.HasPrefix(k, "rate:keytest:") {
			t.Errorf("key %q lies outside the prefix", k)
		}
		if v, _ := rdb.Dump(ctx, k).Result(); strings.Contains(v, storageKey1) || strings.Contains(k, storageKey1) {
			t.Errorf("key %q holds the storage key", k)
		}
	}
}

// TestHardeningRedisSealUnreadable (issue 14, item 15): an account sealed
// under one storage key and read under another (a gateway whose key was
// swapped while the fingerprint was lost) gets a clear error page, in
// English and Japanese, never an empty 500, and the log names the user and
// the likely cause.
func TestHardeningRedisSealUnreadable(t *testing.T) {
	srv := redistest.StartServer(t)
	block := "redis {\n url redis://" + srv.Addr + "/0\n key_prefix sealtest:\n timeout 2s\n }"
	a := keyedGateway(t, gatewayOpts{global: block}, storageKey1)
	a.start()
	e := a.newBrowser().firstSignIn("alice", "/")
	a.stop()
	// The fingerprint is gone (deleted by hand, or Redis restored from a
	// backup of before it), so a gateway with another key starts.
	srv.Client().Del(context.Background(), "sealtest:storage-key-fingerprint")
	g := keyedGateway(t, gatewayOpts{global: block}, storageKey2)
	g.start()

	for i, lang := range []string{"en", "ja"} {
		br := g.newBrowser()
		br.lang = lang
		r := br.secondSignIn("alice", e, "/", i+1)
		if r.StatusCode == http.StatusOK || r.StatusCode == http.StatusSeeOther || r.StatusCode < 400 {
			t.Fatalf("%s: a seed sealed under another key was accepted: %d", lang, r.StatusCode)
		}
		want := map[string]string{"en": "can&#39;t read the sign-in methods", "ja": "サインイン方法を読み取れません"}[lang]
		if !strings.Contains(r.Body, want) || !strings.Contains(r.Body, "<html") {
			t.Fatalf("%s: status %d, no clear page (want %q); body:\n%s", lang, r.StatusCode, want, tail(r.Body, 1500))
		}
	}
	log := g.log.String()
	if !strings.Contains(log, `"user":"alice"`) || !strings.Contains(log, "storage_key differs from the one that sealed this account?") {
		t.Fatalf("the log does not name the user and the likely cause:\n%s", tail(log, 3000))
	}
}

// TestHardeningRedisACL (issue 14, item 16): on a Redis whose gateway user
// may touch only ~mfa:*, the gateway refuses to start and names the key
// pattern its rate limits need (~rate:mfa:*), instead of failing every
// sign-in with 503; with ~mfa:* ~rate:mfa:* it starts and sign-in works;
// a user that may not run GETDEL is refused at start, naming +getdel; a
// user that may not run ACL DRYRUN still starts, and a warning says the check
// was skipped and what to grant (+acl|dryrun); and the least ACL README
// documents is enough for sign-in, lockout and sign-out everywhere.
func TestHardeningRedisACL(t *testing.T) {
	users := []string{
		"--user", "gwprefix", "on", ">prefix-pass", "~mfa:*", "+@all",
		"--user", "gwfull", "on", ">full-pass", "~mfa:*", "~rate:mfa:*", "+@all",
		"--user", "gwnodryrun", "on", ">nodryrun-pass", "~mfa:*", "~rate:mfa:*", "+@all", "-acl",
	}
	// The least README documents: the key patterns and the commands; and
	// the same without GETDEL (codes and passes are taken with it).
	least := append([]string{"--user", "gwleast", "on", ">least-pass", "~mfa:*", "~rate:mfa:*", "-@all"}, strings.Fields(readmeACLCommands)...)
	noGetdel := []string{"--user", "gwnogetdel", "on", ">nogetdel-pass", "~mfa:*", "~rate:mfa:*", "-@all"}
	for _, c := range strings.Fields(readmeACLCommands) {
		if c != "+getdel" {
			noGetdel = append(noGetdel, c)
		}
	}
	srv := redistest.StartServer(t, append(append(users, least...), noGetdel...)...)
	block := func(user, pass string) string {
		return "redis {\n url redis://" + srv.Addr + "/0\n username " + user + "\n password " + pass + "\n key_prefix mfa:\n timeout 2s\n }"
	}

	log := keyedGateway(t, gatewayOpts{global: block("gwprefix", "prefix-pass")}, storageKey1).startFails()
	if !strings.Contains(log, "~rate:mfa:*") || !strings.Contains(log, `redis user \"gwprefix\"`) {
		t.Fatalf("gateway whose Redis user lacks the rate-limit keys: log does not name the pattern:\n%s", tail(log, 3000))
	}

	g := startGateway(t, gatewayOpts{global: block("gwfull", "full-pass")})
	b := g.newBrowser()
	b.firstSignIn("alice", "/")
	expectStatus(t, b.get("/app"), http.StatusOK)
	// Wrong passwords go through the rate limits and lockout on Redis.
	for range 2 {
		expectStatus(t, g.newBrowser().login("bob", "wrong password", "/"), http.StatusUnauthorized)
	}

	log = keyedGateway(t, gatewayOpts{global: block("gwnogetdel", "nogetdel-pass")}, storageKey1).startFails()
	if !strings.Contains(log, `redis user \"gwnogetdel\" may not run GETDEL`) || !strings.Contains(log, "grant it +getdel") {
		t.Fatalf("gateway whose Redis user may not GETDEL: log does not name the command:\n%s", tail(log, 3000))
	}

	g2 := startGateway(t, gatewayOpts{global: block("gwnodryrun", "nodryrun-pass")})
	expectRedirect(t, g2.newBrowser().login("alice", testPassword, "/"), "/.mfa/challenge")
	// The skipped check is a warning that says what to grant.
	skipped := false
	for _, line := range strings.Split(g2.log.String(), "\n") {
		if strings.Contains(line, `"level":"warn"`) && strings.Contains(line, "ACL check skipped") &&
			strings.Contains(line, `may not run ACL DRYRUN`) && strings.Contains(line, "+acl|dryrun") {
			skipped = true
		}
	}
	if !skipped {
		t.Fatalf("no warning that the ACL check was skipped, naming +acl|dryrun:\n%s", tail(g2.log.String(), 3000))
	}

	g3 := startGateway(t, gatewayOpts{global: block("gwleast", "least-pass")})
	c := g3.newBrowser()
	e := c.firstSignIn("bob", "/")
	expectStatus(t, c.get("/app"), http.StatusOK)
	expectRedirect(t, g3.newBrowser().secondSignIn("bob", e, "/", 1), "/")
	expectStatus(t, g3.newBrowser().login("alice", "wrong password", "/"), http.StatusUnauthorized)
	// Sign out everywhere, revoking app passwords (the user's session
	// index and devices: SMEMBERS, SREM, DEL).
	sec := c.get("/.mfa/security")
	expectStatus(t, sec, http.StatusOK)
	expectRedirect(t, c.post("/.mfa/security/signout", url.Values{"csrf": {csrfOf(t, sec.Body)}, "app_passwords": {"revoke"}, "confirm": {"1"}}), "/.mfa/signed-out?app_passwords=revoked")
	expectRedirect(t, c.get("/app"), "/.mfa/login?rd=%2Fapp")
	// Work in the background (the app-password index, the users watch)
	// would show NOPERM within a round of 2 s: give it one.
	time.Sleep(2500 * time.Millisecond)
	if strings.Contains(g3.log.String(), "NOPERM") {
		t.Fatalf("the documented commands are not enough:\n%s", tail(g3.log.String(), 3000))
	}
}

// readmeACLCommands are the commands README's Redis ACL example grants,
// the session cache's last (docs/redis-session-cache.md).
const readmeACLCommands = "+get +set +del +getdel +incr +pexpire +sadd +smembers +srem +watch +unwatch +multi +exec +eval +evalsha +time +ping +hello +acl|dryrun +client|id +client|tracking +client|setname +subscribe &__redis__:invalidate"

// unavailablePage is the text of the 503 page a request that fails closed
// gets.
const unavailablePage = "try again in a few minutes"

// expectHeld checks that every kind of request the gateway serves (a
// protected page, an API call, an app password, the portal's pages and a
// sign-in POST) gets the 503 page and reaches no upstream.
func expectHeld(t *testing.T, g *gateway, when string) {
	t.Helper()
	_, hitsBefore := g.Upstream.Last()
	b := g.newBrowser()
	reqs := []struct {
		what string
		r    func() *response
	}{
		{"GET /app", func() *response { return b.get("/app") }},
		{"GET /api (JSON)", func() *response { return b.get("/api", "Accept", "application/json") }},
		{"GET /app with an app password", func() *response { return b.get("/app", "Authorization", "Basic YWxpY2U6cGFzc3dvcmQ=") }},
		{"GET /.mfa/login", func() *response { return b.get("/.mfa/login") }},
		{"GET /.mfa/setup", func() *response { return b.get("/.mfa/setup") }},
		{"POST /.mfa/login", func() *response {
			return b.post("/.mfa/login", url.Values{"csrf": {"x"}, "username": {"alice"}, "password": {testPassword}, "rd": {"/"}})
		}},
	}
	for _, q := range reqs {
		r := q.r()
		if r.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: %s: status %d, want 503; body:\n%s", when, q.what, r.StatusCode, tail(r.Body, 600))
			continue
		}
		if strings.Contains(r.Header.Get("Content-Type"), "text/html") && !strings.Contains(r.Body, unavailablePage) {
			t.Errorf("%s: %s: 503 without the clear page:\n%s", when, q.what, tail(r.Body, 600))
		}
	}
	if _, hits := g.Upstream.Last(); hits != hitsBefore {
		t.Errorf("%s: a request reached the upstream", when)
	}
}

// waitServing polls the login page until it answers 200 and returns how
// long that took; it fails the test after within.
func waitServing(t *testing.T, g *gateway, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		resp, err := http.Get(g.URL + "/.mfa/login")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start)
			}
		}
		if time.Since(start) > within {
			t.Fatalf("the gateway did not serve within %v of Redis coming back; log:\n%s", within, tail(g.log.String(), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitLog waits up to within for the gateway's log to contain want.
func waitLog(t *testing.T, g *gateway, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(g.log.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the log does not say %q within %v:\n%s", want, within, tail(g.log.String(), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// onlyFingerprint checks that Redis holds nothing under prefix but the
// storage key's fingerprint: no session, account or limiter key was
// written.
func onlyFingerprint(t *testing.T, srv *redistest.Server, prefix string) {
	t.Helper()
	keys, err := srv.Client().Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k != prefix+"storage-key-fingerprint" && (strings.HasPrefix(k, prefix) || strings.HasPrefix(k, "rate:"+prefix)) {
			t.Errorf("the gateway wrote %q while it should serve nothing", k)
		}
	}
}

// serveWithin is how soon after Redis comes back a gateway that could not
// check it at start serves (the checks are retried every second).
const serveWithin = 2500 * time.Millisecond

// TestHardeningRedisChecksWhenRedisReturns (issue 14, item 15): a gateway
// started while its Redis is down still starts, but serves nothing (every
// protected page and portal page gets the 503 page) until its start-up
// checks on Redis pass. When Redis comes back holding another key's
// fingerprint, or refusing the rate-limit keys to the gateway's user, it
// keeps serving nothing, for good (the admin API included), writes
// nothing, and every refusal's log line says why; with no fingerprint or the same key's, it serves within
// 2.5 s of Redis coming back, and what it sealed reads back.
func TestHardeningRedisChecksWhenRedisReturns(t *testing.T) {
	block := func(srv *redistest.Server, extra string) string {
		return "redis {\n url redis://" + srv.Addr + "/0\n key_prefix downtest:\n timeout 500ms\n" + extra + " }"
	}
	t.Run("another key", func(t *testing.T) {
		srv := redistest.StartServer(t)
		if err := srv.Client().Set(context.Background(), "downtest:storage-key-fingerprint", "v1:fingerprint-of-another-key", 0).Err(); err != nil {
			t.Fatal(err)
		}
		srv.Stop()
		g := keyedGateway(t, gatewayOpts{global: block(srv, "")}, storageKey1)
		g.start()
		// Caddy may answer (the static files) before it starts the mfa app.
		waitLog(t, g, "redis is not reachable at start", 5*time.Second)
		expectHeld(t, g, "redis down")
		srv.Start()
		waitLog(t, g, "storage_key differs from the one the gateways on this Redis use", 5*time.Second)
		expectHeld(t, g, "redis back with another key's fingerprint")
		time.Sleep(1500 * time.Millisecond) // a retry later: still held, for good
		expectHeld(t, g, "1.5 s later")
		// The admin API (caddy mfa ...) refuses too, saying why.
		if out, err := g.cli("mfa", "bypass", "alice", "30m"); err == nil || !strings.Contains(out, "storage_key differs") {
			t.Errorf("caddy mfa bypass on a wrong-key gateway: %v\n%s", err, out)
		}
		onlyFingerprint(t, srv, "downtest:")
		if log := g.log.String(); !strings.Contains(log, `this gateway's storage_key differs from the one the gateways on this Redis use; fix the configuration and reload","path":"/.mfa/login"`) ||
			!strings.Contains(log, `"path":"/app"`) {
			t.Fatalf("the refusals' log lines do not say why:\n%s", tail(log, 3000))
		}
	})
	t.Run("rate keys refused", func(t *testing.T) {
		srv := redistest.StartServer(t, "--user", "gwprefix", "on", ">prefix-pass", "~downtest:*", "+@all")
		srv.Stop()
		g := keyedGateway(t, gatewayOpts{global: block(srv, " username gwprefix\n password prefix-pass\n")}, storageKey1)
		g.start()
		srv.Start()
		waitLog(t, g, "~rate:downtest:*", 5*time.Second)
		expectHeld(t, g, "redis back refusing the rate-limit keys")
		onlyFingerprint(t, srv, "downtest:")
		if !strings.Contains(g.log.String(), `this gateway's Redis user may not run what it needs; fix the ACL and reload","path":"/app"`) {
			t.Fatalf("the refusals' log lines do not say why:\n%s", tail(g.log.String(), 3000))
		}
	})
	t.Run("no key, then the same key", func(t *testing.T) {
		srv := redistest.StartServer(t)
		srv.Stop()
		g := keyedGateway(t, gatewayOpts{global: block(srv, "")}, storageKey1)
		g.start()
		expectHeld(t, g, "redis down")
		srv.Start()
		took := waitServing(t, g, serveWithin)
		t.Logf("served %v after Redis came back with no fingerprint (bound %v)", took.Round(time.Millisecond), serveWithin)
		b := g.newBrowser()
		e := b.firstSignIn("alice", "/")
		expectStatus(t, b.get("/app"), http.StatusOK)
		g.stop()

		srv.Stop()
		g2 := keyedGateway(t, gatewayOpts{global: block(srv, "")}, storageKey1)
		g2.start()
		expectHeld(t, g2, "redis down")
		srv.Start()
		took = waitServing(t, g2, serveWithin)
		t.Logf("served %v after Redis came back with the same key's fingerprint (bound %v)", took.Round(time.Millisecond), serveWithin)
		// The seed sealed by the first gateway opens under the same key.
		expectRedirect(t, g2.newBrowser().secondSignIn("alice", e, "/", 1), "/")
	})
}

// TestHardeningRedisACLCluster (issue 14, item 16): in Cluster mode every
// master keeps its own ACL, so the start-up check asks every one: a
// gateway whose Redis user may not run GETDEL on one master only (each of
// the three in turn) refuses to start, naming that node and the command;
// the least ACL
// README documents, with the Cluster commands (+cluster|slots +command),
// is enough for sign-in and lockout on every node.
func TestHardeningRedisACLCluster(t *testing.T) {
	var args []string
	for _, u := range []string{"gwc", "gwone"} {
		args = append(args, append([]string{"--user", u, "on", ">" + u + "-pass", "~mfa:*", "~rate:mfa:*", "-@all"}, strings.Fields(readmeACLCommands+" "+readmeACLClusterCommands)...)...)
	}
	c := redistest.StartCluster(t, args...)
	block := func(user string) string {
		return "redis {\n addresses " + strings.Join(c.Addrs, " ") + "\n cluster\n username " + user + "\n password " + user + "-pass\n key_prefix mfa:\n timeout 2s\n }"
	}
	// On one master at a time, gwone may not run GETDEL (the client sends
	// each keyless command, ACL DRYRUN too, to the next master in turn, so
	// a check of each command on one node would miss the others).
	ctx := context.Background()
	for i, odd := range c.Nodes {
		if i > 0 {
			if err := c.Nodes[i-1].Client().Do(ctx, "ACL", "SETUSER", "gwone", "+getdel").Err(); err != nil {
				t.Fatal(err)
			}
		}
		if err := odd.Client().Do(ctx, "ACL", "SETUSER", "gwone", "-getdel").Err(); err != nil {
			t.Fatal(err)
		}
		log := keyedGateway(t, gatewayOpts{global: block("gwone")}, storageKey1).startFails()
		if !strings.Contains(log, "grant it +getdel") || !strings.Contains(log, "on the cluster node "+odd.Addr) {
			t.Fatalf("gateway whose Redis user may not run GETDEL on %s: log does not name the node and command:\n%s", odd.Addr, tail(log, 3000))
		}
	}

	g := startGateway(t, gatewayOpts{global: block("gwc")})
	b := g.newBrowser()
	e := b.firstSignIn("alice", "/")
	expectStatus(t, b.get("/app"), http.StatusOK)
	expectRedirect(t, g.newBrowser().secondSignIn("alice", e, "/", 1), "/")
	// Wrong passwords of many users: their limiter keys spread over the
	// nodes.
	for _, u := range []string{"bob", "carol", "dave", "erin", "frank"} {
		expectStatus(t, g.newBrowser().login(u, "wrong password", "/"), http.StatusUnauthorized)
	}
	if l := g.log.String(); strings.Contains(l, "NOPERM") || strings.Contains(l, "no permissions") || strings.Contains(l, "getting command info") {
		t.Fatalf("the documented commands are not enough in Cluster mode:\n%s", tail(l, 3000))
	}
}

// readmeACLClusterCommands are what README's ACL adds in Cluster mode.
const readmeACLClusterCommands = "+cluster|slots +command"
