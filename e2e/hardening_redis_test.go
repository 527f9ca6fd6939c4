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
				case r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "can&#39;t reach its storage"):
					t.Errorf("%s: status %d after %v, want the 503 page; body:\n%s", r.what, r.status, r.took, tail(r.body, 300))
				}
			}
			t.Logf("%s: slowest of 32 requests with Redis stalled: %v (bound %v)", mode.name, slowest.Round(time.Millisecond), bound)
			if _, hits := g.Upstream.Last(); hits != hitsBefore {
				t.Fatal("a request reached the upstream while Redis was stalled")
			}

			// Service resumes by itself when Redis answers again.
			time.Sleep(time.Until(stalledAt.Add(stall)))
			deadline := time.Now().Add(15 * time.Second)
			for {
				r := b.get("/after")
				if r.StatusCode == http.StatusOK {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("service did not resume after Redis did: %d", r.StatusCode)
				}
				time.Sleep(200 * time.Millisecond)
			}
			if h, _ := g.Upstream.Last(); h.Get("Remote-User") != "alice" {
				t.Fatal("session lost across the stall")
			}
		})
	}
}
