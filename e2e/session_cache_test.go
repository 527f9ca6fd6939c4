package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// redisGets is how many GETs rdb's server has run.
func redisGets(t *testing.T, rdb *redis.Client) int {
	t.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_get:calls="); ok {
			n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			return n
		}
	}
	return 0
}

// signedInStatus is the status of a GET of / on g with cookies (no
// redirect followed): 200 when signed in.
func signedInStatus(c *http.Client, g *gateway, cookies []*http.Cookie) (int, error) {
	req, err := http.NewRequest(http.MethodGet, g.URL+"/", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "text/html")
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// killTracking kills every tracking connection on rdb's server and
// returns how many it killed.
func killTracking(t *testing.T, rdb *redis.Client) int {
	t.Helper()
	list, err := rdb.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.SplitSeq(list, "\n") {
		if strings.Contains(line, " name=caddy-mfa-tracking ") {
			id := strings.TrimPrefix(strings.Fields(line)[0], "id=")
			if err := rdb.Do(context.Background(), "CLIENT", "KILL", "ID", id).Err(); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return n
}

// TestSessionCacheTwoGateways: two gateways on one Redis, each with its
// session cache. A session made on A passes on B, which then serves it
// from memory (no GET in Redis); "Sign out everywhere" on A is refused on
// B by the very next request, and under load within 100ms of the
// revocation; with the tracking connections killed, B goes on answering
// right.
func TestSessionCacheTwoGateways(t *testing.T) {
	srv := redistest.StartServer(t, "--appendonly", "no")
	rdb := srv.Client()
	global := "redis {\n url redis://" + srv.Addr + "/0\n key_prefix cache:\n timeout 500ms\n }"
	gA := startGateway(t, gatewayOpts{global: global})
	gB := startGateway(t, gatewayOpts{global: global})
	for _, g := range []*gateway{gA, gB} {
		if len(g.waitLog("session cache on")) == 0 {
			t.Fatalf("no session cache on %s:\n%s", g.URL, g.log.String())
		}
	}

	a := gA.newBrowser()
	e := a.firstSignIn("alice", "/")
	b := gB.newBrowser()
	b.client.Jar = a.client.Jar
	expectStatus(t, b.get("/shared"), http.StatusOK)
	// Served from B's memory: no GET for 20 more requests (up to 2 where
	// a loaded machine answered a PING more than 100ms late, when B reads
	// Redis instead).
	before := redisGets(t, rdb)
	for range 20 {
		expectStatus(t, b.get("/shared"), http.StatusOK)
	}
	if d := redisGets(t, rdb) - before; d > 2 {
		t.Fatalf("20 signed-in requests on B made %d GETs in Redis; want none", d)
	} else {
		t.Logf("20 signed-in requests on B made %d GETs in Redis", d)
	}

	// Sign out everywhere on A: the very next request on B is refused.
	page := a.get("/.mfa/security")
	expectRedirect(t, a.post("/.mfa/security/signout", url.Values{"csrf": {csrfOf(t, page.Body)}, "confirm": {"1"}}), "/.mfa/signed-out")
	b.notSignedIn("/")

	// Under load: a client hammers B with a new session's cookie; after
	// the revocation on A returns, every request B answers that was sent
	// 100ms or more later is refused.
	recoverySignIn(t, a, "alice", e.Codes[0])
	u, _ := url.Parse(gB.URL)
	cookies := a.client.Jar.Cookies(u)
	hc := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if st, err := signedInStatus(hc, gB, cookies); err != nil || st != http.StatusOK {
		t.Fatalf("new session on B: %d %v", st, err)
	}
	var revokedAt atomic.Int64 // UnixNano when the revocation returned; 0 before
	var revoking atomic.Bool   // the revocation was sent
	var stop atomic.Bool
	type late struct {
		sentAfter time.Duration
		status    int
	}
	var mu sync.Mutex
	var passedLate []late
	var firstRefused time.Duration
	var served, refusedN int
	var wg sync.WaitGroup
	wg.Go(func() {
		for !stop.Load() {
			sent := time.Now()
			st, err := signedInStatus(hc, gB, cookies)
			if err != nil {
				t.Errorf("hammer: %v", err)
				return
			}
			r, rev := revokedAt.Load(), revoking.Load()
			mu.Lock()
			switch {
			case st == http.StatusOK:
				served++
				if r != 0 && sent.UnixNano()-r >= int64(100*time.Millisecond) {
					passedLate = append(passedLate, late{time.Duration(sent.UnixNano() - r), st})
				}
			case r == 0 && rev:
				// refused while the revocation was under way
			case r != 0:
				if refusedN == 0 {
					firstRefused = time.Duration(time.Now().UnixNano() - r)
				}
				refusedN++
			default:
				t.Errorf("refused (%d) before the revocation", st)
			}
			mu.Unlock()
		}
	})
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	servedWarm := served
	mu.Unlock()
	gets := redisGets(t, rdb)
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	servedBefore := served
	mu.Unlock()
	getsWarm := redisGets(t, rdb) - gets
	page = a.get("/.mfa/security")
	revoking.Store(true)
	expectRedirect(t, a.post("/.mfa/security/signout", url.Values{"csrf": {csrfOf(t, page.Body)}, "confirm": {"1"}}), "/.mfa/signed-out")
	revokedAt.Store(time.Now().UnixNano())
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	mu.Lock()
	t.Logf("hammer: %d served before the revocation; %d GETs in Redis for the last %d of them; %d refused after it; first refusal %v after it returned",
		servedBefore, getsWarm, servedBefore-servedWarm, refusedN, firstRefused)
	if getsWarm > 5 {
		t.Errorf("%d GETs in Redis for %d requests served from B's cache", getsWarm, servedBefore-servedWarm)
	}
	if len(passedLate) > 0 {
		t.Errorf("B let through %d requests sent 100ms or more after the revocation: %v", len(passedLate), passedLate)
	}
	if refusedN == 0 || firstRefused > 100*time.Millisecond {
		t.Errorf("the first refusal on B came %v after the revocation (%d refused)", firstRefused, refusedN)
	}
	if servedBefore < 10 {
		t.Errorf("the hammer got only %d requests through before the revocation", servedBefore)
	}
	mu.Unlock()

	// Kill the tracking connections: B still answers right, a revocation
	// made before they are back is seen, and the cache comes back.
	recoverySignIn(t, a, "alice", e.Codes[1])
	cookies = a.client.Jar.Cookies(u)
	if st, err := signedInStatus(hc, gB, cookies); err != nil || st != http.StatusOK {
		t.Fatalf("new session on B: %d %v", st, err)
	}
	if n := killTracking(t, rdb); n != 2 {
		t.Fatalf("killed %d tracking connections; want 2", n)
	}
	for range 5 {
		if st, err := signedInStatus(hc, gB, cookies); err != nil || st != http.StatusOK {
			t.Fatalf("B with its tracking connection killed: %d %v", st, err)
		}
	}
	page = a.get("/.mfa/security")
	expectRedirect(t, a.post("/.mfa/security/signout", url.Values{"csrf": {csrfOf(t, page.Body)}, "confirm": {"1"}}), "/.mfa/signed-out")
	if st, err := signedInStatus(hc, gB, cookies); err != nil || st == http.StatusOK {
		t.Fatalf("B after the revocation, tracking killed: %d %v", st, err)
	}
	if len(gB.waitLog("session cache flushed")) == 0 {
		t.Fatal("B did not log the loss of its tracking connection")
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(gB.logLines("session cache on")) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("B's tracking did not come back:\n%s", gB.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	recoverySignIn(t, a, "alice", e.Codes[2])
	cookies = a.client.Jar.Cookies(u)
	for range 2 {
		if st, err := signedInStatus(hc, gB, cookies); err != nil || st != http.StatusOK {
			t.Fatalf("B after tracking is back: %d %v", st, err)
		}
	}
	before = redisGets(t, rdb)
	for range 10 {
		if st, err := signedInStatus(hc, gB, cookies); err != nil || st != http.StatusOK {
			t.Fatalf("B after tracking is back: %d %v", st, err)
		}
	}
	if d := redisGets(t, rdb) - before; d > 2 {
		t.Fatalf("after tracking is back, 10 requests on B made %d GETs; want none", d)
	}
}
