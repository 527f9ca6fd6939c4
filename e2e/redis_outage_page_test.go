package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// TestRedisOutageLoginPage: with Redis stopped, the sign-in page itself
// answers the 503 page at once (not only after the password is typed),
// saying what the user can do; go-redis's own lines go through Caddy's
// JSON log, not as plain text beside it.
func TestRedisOutageLoginPage(t *testing.T) {
	srv := redistest.StartServer(t)
	g := startGateway(t, gatewayOpts{global: "redis {\n url redis://" + srv.Addr + "/0\n timeout 500ms\n }"})
	b := g.newBrowser()
	b.firstSignIn("alice", "/")
	expectStatus(t, g.newBrowser().get("/.mfa/login"), http.StatusOK)

	srv.Stop()
	failClosedWait()
	// Signed-in traffic meets the outage (and go-redis has its say).
	expectStatus(t, b.get("/during"), http.StatusServiceUnavailable)
	start := time.Now()
	for _, lang := range []string{"", "ja"} {
		nb := g.newBrowser()
		nb.lang = lang
		r := nb.get("/.mfa/login")
		expectStatus(t, r, http.StatusServiceUnavailable)
		want := map[string]string{"": "try again in a few minutes", "ja": "数分後に"}[lang]
		if !strings.Contains(r.Body, want) {
			t.Errorf("503 page (%q) does not say what to do (%q):\n%s", lang, want, r.Body)
		}
		if strings.Contains(r.Body, "storage") {
			t.Errorf("503 page speaks of storage:\n%s", r.Body)
		}
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the login pages took %v while Redis was down", took)
	}
	// A moment later, when no request has touched Redis since, too.
	time.Sleep(2500 * time.Millisecond)
	expectStatus(t, g.newBrowser().get("/.mfa/login"), http.StatusServiceUnavailable)

	srv.Start()
	b.waitServes("/after", 15*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for g.newBrowser().get("/.mfa/login").StatusCode != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("the login page did not come back with Redis")
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, line := range strings.Split(g.log.String(), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "{") {
			t.Errorf("a plain-text line outside Caddy's JSON log: %q", line)
		}
	}
}
