package e2e

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// The cross-cutting tests, run for every method of the table
// (methods_test.go), each method on a gateway of its own.

// forEachMethod runs test for every method, in parallel.
func forEachMethod(t *testing.T, test func(t *testing.T, m secondFactor)) {
	t.Helper()
	for _, m := range secondFactors {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			test(t, m)
		})
	}
}

// atChallenge starts m's gateway with these global lines and limits,
// registers m for alice, and returns a new browser of hers that gave the
// password and is asked for the second factor.
func atChallenge(t *testing.T, m secondFactor, global string, limits ...string) (*methodGateway, *enrolment, *browser) {
	t.Helper()
	g := m.start(t, global, limits...)
	e := g.register(g.browser(), "alice")
	b := g.browser()
	b.passwordOnly("alice", "/")
	return g, e, b
}

// defaultMaxCodeFailures is the default second-factor lockout
// (max_code_failures, challenge.DefaultLimits).
const defaultMaxCodeFailures = 10

// deniedRuns is max_code_failures on the gateways of the methods whose
// wrong answers do not count: as many denials as that do not lock.
const deniedRuns = 3

// TestMethodsLockout: the default max_code_failures (10) wrong answers in
// a row lock the user, whichever method they were given with; a fresh
// sign-in with the password does not reset the count; while locked even
// the right answer is refused. A denied prompt or call (push, voice) is
// the user's own answer on their phone and does not count: after as many
// denials as the limit, the right answer still signs in; but a lockout
// made with another method stops these too.
func TestMethodsLockout(t *testing.T) {
	forEachMethod(t, func(t *testing.T, m secondFactor) {
		// The rate limits are raised so that the lockout is what stops it.
		limits, n := []string{"code_per_user 100/1m"}, defaultMaxCodeFailures
		if !m.counts {
			n = deniedRuns
			limits = append(limits, "send_per_user 100/1h", "push_per_user 100/1h", "max_code_failures "+strconv.Itoa(n))
		}
		g, e, b := atChallenge(t, m, "", limits...)
		for i := range n {
			if i == n/2 { // a fresh sign-in with the (stolen) password
				b = g.browser()
				b.passwordOnly("alice", "/")
			}
			path, form := g.wrong(b, e)
			expectStatus(t, b.post(path, form), http.StatusUnauthorized)
		}
		if !m.counts {
			g.answer(b, e, "/", nil)
			reachesApp(b, "alice")
			// The lockout made by wrong recovery codes stops this method too.
			b = g.browser()
			b.passwordOnly("alice", "/")
			for range n {
				path, form := challengeForm(b, "recovery", "aaaa-bbbb-cccc")
				expectStatus(t, b.post(path, form), http.StatusUnauthorized)
			}
			expectStatus(t, b.sendFromChallenge(m.name), http.StatusTooManyRequests)
			return
		}
		path, form := g.wrong(b, e)
		expectStatus(t, b.post(path, form), http.StatusTooManyRequests)
		path, form = g.right(b, e)
		expectStatus(t, b.post(path, form), http.StatusTooManyRequests)
		if len(g.waitLog(`"event":"locked_out"`, `"user":"alice"`)) == 0 {
			t.Error("no locked_out event in the log")
		}
	})
}

// TestMethodsRememberedDevice: a browser that ticked "Don't ask again"
// when it gave the method signs in with the password alone next time;
// another browser is still asked.
func TestMethodsRememberedDevice(t *testing.T) {
	forEachMethod(t, func(t *testing.T, m secondFactor) {
		g, e, b := atChallenge(t, m, "remember_device 1h")
		g.answer(b, e, "/", url.Values{"remember": {"1"}})
		b.signOut()
		expectRedirect(t, b.login("alice", testPassword, "/app"), "/app")
		reachesApp(b, "alice")
		g.browser().passwordOnly("alice", "/")
		if len(g.waitLog("device_remembered", `"user":"alice"`)) == 0 {
			t.Error("remembering is not in the log")
		}
	})
}

// TestMethodsStepUp: on the security-info page, a change made when the
// second factor is older than 10 minutes asks for the method again, then
// shows the change ready to confirm, and confirming it makes it.
func TestMethodsStepUp(t *testing.T) {
	forEachMethod(t, func(t *testing.T, m secondFactor) {
		global, rdb, prefix := redisGlobal(t, redistest.Addr())
		g := m.start(t, global)
		b := g.browser()
		// Under load, the start's checks of Redis may have to be tried again.
		b.waitServes("/.mfa/login", 15*time.Second)
		e := g.register(b, "alice")

		ageSecondFactor(t, rdb, prefix, "alice", 11*time.Minute)
		page := b.get("/.mfa/security")
		expectStatus(t, page, http.StatusOK)
		expectRedirect(t, b.post("/.mfa/security/recovery", url.Values{"csrf": {csrfOf(t, page.Body)}}), "/.mfa/challenge")
		expectText(t, b.get("/.mfa/challenge"), m.asks)
		path, form := g.right(b, e)
		page = b.get(expectStepUpReturn(t, b.post(path, form))) // the change, ready to confirm
		expectText(t, page, `action="/.mfa/security/recovery"`)
		recoveryCodesOf(t, b.post("/.mfa/security/recovery", url.Values{"csrf": {csrfOf(t, page.Body)}, "confirm": {"1"}}))
		if len(g.waitLog("step_up_required", `"user":"alice"`)) == 0 {
			t.Error("step-up not in the log")
		}
	})
}

// TestMethodsCSRF: the method's POSTs without their token, or with a
// forged one, are refused: a send sends nothing, an answer signs nobody
// in; the same answer with the token then passes.
func TestMethodsCSRF(t *testing.T) {
	forEachMethod(t, func(t *testing.T, m secondFactor) {
		g, e, b := atChallenge(t, m, "")
		expectText(t, b.get("/.mfa/challenge"), m.asks)
		if g.sent != nil { // a text, a call or a prompt, then the answer
			before := g.sent()
			for _, forged := range []string{"", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
				expectStatus(t, b.post("/.mfa/challenge/send", url.Values{"csrf": {forged}, "method": {m.name}}), http.StatusForbidden)
			}
			if n := g.sent(); n != before {
				t.Errorf("%d sent by forged sends", n-before)
			}
		}
		path, form := g.right(b, e)
		token := form.Get("csrf")
		for _, forged := range []string{"", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
			form.Set("csrf", forged)
			expectStatus(t, b.post(path, form), http.StatusForbidden)
			if r := b.get("/"); r.StatusCode == http.StatusOK {
				t.Fatalf("signed in by a POST with token %q", forged)
			}
		}
		form.Set("csrf", token)
		expectSignedInTo(t, b, b.post(path, form), "/")
		reachesApp(b, "alice")
	})
}
