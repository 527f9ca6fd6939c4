package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHardeningRedisModesKeyAndGuesses: items 15 and 6 of issue 14 on a
// Sentinel group and a Cluster too, each in this test's own redis-server
// processes: a gateway whose storage_key differs from the one the
// gateways on that Redis use refuses to start, saying so; and 300 wrong
// app passwords sent at once for one user are checked no more often than
// app_password_per_user allows (its burst of 10, plus what it refills
// while the burst runs, plus 1).
func TestHardeningRedisModesKeyAndGuesses(t *testing.T) {
	for _, mode := range slowRedisModes {
		if mode.name == "single" {
			continue // TestHardeningRedisStorageKey and TestHardeningAppPasswordGuessRace
		}
		t.Run(mode.name, func(t *testing.T) {
			block, _ := mode.start(t)
			global := "redis {\n " + block + "\n timeout 2s\n }\n" + limitsBlock("app_password_per_ip 1000/1m", "app_password_per_user 10/1m")
			g := keyedGateway(t, gatewayOpts{global: global, route: "app_passwords"}, storageKey1)
			g.start()
			b := g.newBrowser()
			b.firstSignIn("alice", "/")
			pw := createAppPassword(t, b, "Mail")
			g.expectAppPasswordWorks(t, "alice", pw, mode.name)

			log := keyedGateway(t, gatewayOpts{global: global}, storageKey2).startFails()
			if !strings.Contains(log, "storage_key differs from the one the gateways on this Redis use") {
				t.Fatalf("a gateway with another storage key on the %s: log does not say why it did not start:\n%s", mode.name, tail(log, 3000))
			}

			const n = 300
			begin := time.Now()
			counts := g.guessBurst(n, func(i int) (string, string) { return "alice", wrongAppPassword(i) })
			took := time.Since(begin)
			checked := g.settledCount(`"event":"app_password_failed"`)
			bound := 10 + refilled(10, took)
			t.Logf("%s: %d wrong guesses for alice at once in %v: %d checked (bound %d), answers %v", mode.name, n, took.Round(time.Millisecond), checked, bound, counts)
			if checked > bound || counts[http.StatusUnauthorized] != checked || counts[http.StatusTooManyRequests] != n-checked {
				t.Fatalf("%s: %d of %d concurrent wrong guesses checked (bound %d), answers %v", mode.name, checked, n, bound, counts)
			}
			// The first gateway still reads what it sealed.
			expectStatus(t, b.get("/app"), http.StatusOK)
		})
	}
}
