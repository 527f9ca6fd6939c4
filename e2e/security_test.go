package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// ageSecondFactor makes the second factor of user's signed-in sessions in
// Redis older by d, as if that much time had passed since it was given.
func ageSecondFactor(t *testing.T, rdb redis.UniversalClient, prefix, user string, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"session:*", 100).Iterator()
	n := 0
	for iter.Next(ctx) {
		key := iter.Val()
		raw, err := rdb.Get(ctx, key).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		var sd session.Data
		if err := sd.UnmarshalBinary(raw); err != nil || sd.User != user || sd.Level != session.TwoFactor {
			continue
		}
		sd.SecondFactorAt -= int64(d / time.Second)
		v, err := sd.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if err := rdb.Set(ctx, key, v, redis.KeepTTL).Err(); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if err := iter.Err(); err != nil || n == 0 {
		t.Fatalf("aged %d sessions of %s: %v", n, user, err)
	}
	failClosedWait()
}

// failClosedWait waits past the session cache's bound (100 ms,
// docs/redis-session-cache.md): after a change behind the gateway's back,
// or a Redis stopped or stalled, a gateway serves no session it had in
// memory once it is over.
func failClosedWait() { time.Sleep(150 * time.Millisecond) }

// TestSecurityInfo: the page lists the user's methods; the only one cannot
// be removed; new recovery codes replace the old ones; a second factor
// older than 10 minutes is asked for again before a change, then the user
// comes back to the page; "Sign out everywhere" ends every session.
func TestSecurityInfo(t *testing.T) {
	t.Parallel()
	global, rdb, prefix := redisGlobal(t, redistest.Addr())
	g := startGateway(t, gatewayOpts{global: global})
	b := g.newBrowser()
	expectRedirect(t, b.get("/.mfa/security"), "/.mfa/login?rd=/.mfa/security")
	e := b.firstSignIn("alice", "/")
	other := g.newBrowser()
	expectRedirect(t, other.secondSignIn("alice", e, "/", 1), "/")

	page := b.get("/.mfa/security")
	expectStatus(t, page, http.StatusOK)
	expectText(t, page, "Security info", "Authenticator app", `Added <time datetime="20`, `last used <time datetime="20`, "You have 10 unused recovery codes", "Sign out everywhere")
	expectNoText(t, page, `action="/.mfa/security/remove"`)
	// The root page links here.
	expectText(t, b.get("/.mfa/"), `href="/.mfa/security"`)

	// The only method cannot be removed, even by a forged form.
	r := b.post("/.mfa/security/remove", url.Values{"csrf": {csrfOf(t, page.Body)}, "id": {"totp"}, "confirm": {"1"}})
	expectStatus(t, r, http.StatusConflict)
	expectText(t, r, "Your only sign-in method can't be removed")
	// Nor anything without the CSRF token.
	expectStatus(t, b.post("/.mfa/security/recovery", url.Values{"csrf": {"forged"}}), http.StatusForbidden)

	// New recovery codes: the old ones stop working.
	r = b.confirmed("/.mfa/security/recovery", url.Values{"csrf": {csrfOf(t, page.Body)}})
	codes := recoveryCodesOf(t, r)
	expectText(t, r, `href="/.mfa/security"`)
	useCode := func(c string) (*browser, *response) {
		x := g.newBrowser()
		expectRedirect(t, x.login("alice", testPassword, "/"), "/.mfa/challenge")
		ch := x.get("/.mfa/challenge?method=recovery")
		return x, x.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"recovery"}, "code": {c}})
	}
	_, old := useCode(e.Codes[0])
	expectStatus(t, old, http.StatusUnauthorized)
	x, used := useCode(codes[0])
	expectSignedInTo(t, x, used, "/")
	expectText(t, b.get("/.mfa/security"), "You have 9 unused recovery codes")

	// Eleven minutes on, a change asks for the second factor first.
	ageSecondFactor(t, rdb, prefix, "alice", 11*time.Minute)
	page = b.get("/.mfa/security")
	expectStatus(t, page, http.StatusOK)
	expectRedirect(t, b.post("/.mfa/security/signout", url.Values{"csrf": {csrfOf(t, page.Body)}}), "/.mfa/challenge")
	if len(g.waitLog("step_up_required", `"user":"alice"`)) == 0 {
		t.Error("step-up not in the log")
	}
	other.signedIn("alice", "/") // nothing was signed out yet
	// (A recovery code: the app's next codes are used up by the sign-ins above.)
	ch := b.get("/.mfa/challenge?method=recovery")
	back := expectStepUpReturn(t, b.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"recovery"},
		"code": {codes[1]}}))
	page = b.get(back) // "Sign out everywhere", ready to confirm
	expectText(t, page, `action="/.mfa/security/signout"`)
	expectRedirect(t, b.post("/.mfa/security/signout", url.Values{"csrf": {csrfOf(t, page.Body)}, "confirm": {"1"}}), "/.mfa/signed-out")
	r = b.get("/.mfa/signed-out")
	expectStatus(t, r, http.StatusOK)
	expectText(t, r, "signed out on every device")
	b.notSignedIn("/")
	other.notSignedIn("/")
	if lines := g.waitLog("sessions_revoked", `"user":"alice"`); len(lines) == 0 || !strings.Contains(lines[0], `"sessions":`) {
		t.Errorf("sign-out everywhere log lines: %q", lines)
	}
}
