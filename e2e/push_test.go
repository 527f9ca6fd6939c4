package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/ntfytest"
	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
	"github.com/caddy-mfa/caddy-mfa/internal/webhooktest"
)

// TestPushEnrolAndSignIn: a phone subscribed through ntfy is registered by
// approving a test prompt, then signs in by approving with the number the
// browser shows; the link works once, and the notification tells the phone
// who signs in, where from, and on which site.
func TestPushEnrolAndSignIn(t *testing.T) {
	t.Parallel()
	f := ntfytest.New(t, ntfyToken)
	g, public := startPhoneGateway(t, ntfyBlock(f)+"organization Acme\n")

	// The setup page offers the method, with a QR code of the ntfy link.
	b := g.newBrowser()
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/setup")
	expectText(t, b.get("/.mfa/setup"), "App notification")
	setup := b.get("/.mfa/setup/push")
	expectText(t, setup, "ntfy://127.0.0.1:", "Send a test notification")
	qr := b.get("/.mfa/setup/push/qr.png")
	if qr.StatusCode != http.StatusOK || qr.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(qr.Body, "\x89PNG") {
		t.Fatalf("QR code: %d %s", qr.StatusCode, qr.Header.Get("Content-Type"))
	}
	topic, codes := g.newBrowser().enrolPush(f, "bob")
	if len(codes) != 10 || topic == "" {
		t.Fatal("no recovery codes after registering")
	}
	test := f.Messages()[0]
	if !strings.Contains(test.Title, "Test notification") || test.Topic != topic || test.Priority != 4 {
		t.Errorf("test notification %+v", test)
	}

	// Sign-in: the prompt goes to bob's topic with the approval link.
	s := g.newBrowser()
	number := s.sendPush("bob")
	msg := f.WaitMessage(t, topic, sendTimeout)
	if !strings.HasPrefix(msg.Click, public+"/.mfa/push/approve#t=") || len(msg.Actions) != 1 || msg.Actions[0].URL != msg.Click {
		t.Fatalf("notification links %q, actions %+v; want the approval page on public_url", msg.Click, msg.Actions)
	}
	host := strings.TrimPrefix(g.URL, "http://")
	for _, want := range []string{"Sign-in request: Acme", "Bob Example is signing in to " + host, "from 127.0.0.1 (unknown browser)"} {
		if !strings.Contains(msg.Title+" "+msg.Message, want) {
			t.Errorf("notification %q / %q lacks %q", msg.Title, msg.Message, want)
		}
	}
	p := newPhone(t)
	page := p.open(msg.Click)
	expectStatus(t, page, http.StatusOK)
	expectText(t, page, "Are you trying to sign in?", "bob", host, "127.0.0.1", "Approve", "Deny and report fraud")
	expectNoText(t, page, `id="push-number"`)
	// The phone claims the prompt with a cookie of its own, set by the
	// cookie policy (Path=/; never sent upstream).
	if c := page.Header.Get("Set-Cookie"); !strings.HasPrefix(c, "caddy_mfa_push=") || !strings.Contains(c, "Path=/;") ||
		!strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict") {
		t.Errorf("approval page cookie %q", c)
	}
	// Someone else with the link (read from a log, or the topic) sees
	// that it was opened elsewhere, and cannot answer with the number.
	other := newPhone(t)
	elsewhere := other.open(msg.Click)
	expectStatus(t, elsewhere, http.StatusOK)
	expectText(t, elsewhere, "already opened on another device", "Deny and report fraud")
	expectNoText(t, elsewhere, `value="approve"`)
	stolen := other.post(msg.Click, url.Values{"t": {tokenRE.FindStringSubmatch(elsewhere.Body)[1]}, "answer": {"approve"}, "number": {number}})
	expectStatus(t, stolen, http.StatusConflict)
	expectText(t, stolen, "opened on another device first")
	r := p.answer(msg.Click, "approve", number)
	expectStatus(t, r, http.StatusOK)
	expectText(t, r, "Approved")
	if st := statusOf(t, s.get("/.mfa/push/status?purpose=sign-in", "Accept", "application/json")); st != "approved" {
		t.Fatalf("status after approval = %q", st)
	}
	expectRedirect(t, s.finishWait("/.mfa/challenge/push"), "/")
	s.signedIn("bob", "/")

	// The link works once: opening or posting it again is refused.
	again := p.open(msg.Click)
	expectStatus(t, again, http.StatusGone)
	expectText(t, again, "already been answered")
	token := msg.Click[strings.Index(msg.Click, "t=")+2:]
	reused := p.post(msg.Click, url.Values{"t": {token}, "answer": {"approve"}, "number": {number}})
	expectStatus(t, reused, http.StatusGone)
	// A made-up token is refused the same way as an expired one.
	forged := p.open(public + "/.mfa/push/approve#t=" + strings.Repeat("A", 43))
	expectStatus(t, forged, http.StatusGone)
	expectText(t, forged, "expired")
	if len(g.waitLog("push_approved")) == 0 || len(g.waitLog("push_link_reused")) == 0 {
		t.Error("approval or reuse missing from the log")
	}
	if msgs := f.Rejected(); len(msgs) != 0 {
		t.Errorf("ntfy refused requests: %q", msgs)
	}
}

// TestPushWrongNumberAndDeny: a wrong number denies, as does Deny; the
// browser is told and is not signed in; it may send another prompt.
func TestPushWrongNumberAndDeny(t *testing.T) {
	t.Parallel()
	f := ntfytest.New(t, ntfyToken)
	g, _ := startPhoneGateway(t, ntfyBlock(f)+limitsBlock("push_per_user 10/5m"))
	topic, _ := g.newBrowser().enrolPush(f, "alice")
	for _, tc := range []struct{ answer, want, lang, title string }{
		{"approve", "The number didn't match", "", "Sign-in request"},
		{"deny", "Denied", "ja", "サインイン要求"},
	} {
		b := g.newBrowser()
		b.lang = tc.lang
		number := b.sendPush("alice")
		b.lang = ""
		msg := f.WaitMessage(t, topic, sendTimeout)
		// Continue before the phone answers (no JavaScript) keeps waiting.
		early := b.finishWait("/.mfa/challenge/push")
		expectStatus(t, early, http.StatusAccepted)
		if numberOf(t, early) == "" {
			t.Fatal("the waiting page lost its number")
		}
		if !strings.HasPrefix(msg.Title, tc.title) {
			t.Errorf("notification title %q, want it in the browser's language (%q)", msg.Title, tc.title)
		}
		if tc.answer == "approve" {
			number = otherNumber(number)
		}
		r := newPhone(t).answer(msg.Click, tc.answer, number)
		expectText(t, r, tc.want)
		if st := statusOf(t, b.get("/.mfa/push/status?purpose=sign-in", "Accept", "application/json")); st != "denied" {
			t.Fatalf("%s: status = %q, want denied", tc.answer, st)
		}
		w := b.finishWait("/.mfa/challenge/push")
		expectStatus(t, w, http.StatusUnauthorized)
		expectText(t, w, "The sign-in was not approved on your phone", "Send another notification", "Use a recovery code")
		b.notSignedIn("/")
		// The page shows what happened, without a number to pick.
		page := b.get("/.mfa/challenge/push")
		expectText(t, page, "not approved")
		expectNoText(t, page, `id="push-number"`)
	}
	if len(g.waitLog("push_denied", "wrong_number")) == 0 {
		t.Error("the wrong number is not in the log")
	}
}

// TestPushFraudReport: "Deny and report fraud" blocks the account until
// `caddy mfa unlock`, logs a warning and calls the fraud_webhook.
func TestPushFraudReport(t *testing.T) {
	t.Parallel()
	f := ntfytest.New(t, ntfyToken)
	hook := webhooktest.New(t, []byte(hookSecret))
	g, _ := startPhoneGateway(t, ntfyBlock(f)+fmt.Sprintf("fraud_webhook %s {\n secret %s\n }\n", hook.URL(), hookSecret))
	topic, _ := g.newBrowser().enrolPush(f, "alice")

	attacker := g.newBrowser()
	attacker.sendPush("alice")
	msg := f.WaitMessage(t, topic, sendTimeout)
	r := newPhone(t).answer(msg.Click, "fraud", "")
	expectStatus(t, r, http.StatusOK)
	if st := statusOf(t, attacker.get("/.mfa/push/status?purpose=sign-in", "Accept", "application/json")); st != "denied" {
		t.Errorf("the waiting browser's status = %q, want denied (not told of the report)", st)
	}
	expectText(t, r, "sign-ins to your account are blocked")
	report := hook.WaitFraud(t, "alice", sendTimeout)
	if report.Method != "push" || report.IP != "127.0.0.1" || report.Site == "" {
		t.Errorf("fraud report %+v", report)
	}
	if lines := g.waitLog("fraud_reported"); len(lines) == 0 || !strings.Contains(lines[0], `"level":"warn"`) {
		t.Errorf("fraud report not logged at warn level: %q", lines)
	}
	// The attacker's browser gets nothing more out of it.
	w := attacker.finishWait("/.mfa/challenge/push")
	expectStatus(t, w, http.StatusForbidden)
	expectText(t, w, "Sign-in to this account is blocked")
	attacker.notSignedIn("/")

	// Blocked for everyone, the right password included, until unlocked.
	blocked := g.newBrowser().login("alice", testPassword, "/")
	expectStatus(t, blocked, http.StatusForbidden)
	expectText(t, blocked, "Sign-in to this account is blocked")
	if out, err := g.cli("mfa", "unlock", "alice"); err != nil {
		t.Fatalf("caddy mfa unlock: %v %s", err, out)
	}
	b := g.newBrowser()
	number := b.sendPush("alice")
	msg = f.WaitMessage(t, topic, sendTimeout)
	expectStatus(t, newPhone(t).answer(msg.Click, "approve", number), http.StatusOK)
	expectRedirect(t, b.finishWait("/.mfa/challenge/push"), "/")
	b.signedIn("alice", "/")
}

// TestPushExpires: on Redis, a prompt answered after two minutes does
// nothing, and the browser says it expired.
func TestPushExpires(t *testing.T) {
	t.Parallel()
	f := ntfytest.New(t, ntfyToken)
	global, rdb, prefix := redisGlobal(t, redistest.Addr())
	g, _ := startPhoneGateway(t, global+"\n"+ntfyBlock(f))
	topic, _ := g.newBrowser().enrolPush(f, "alice")
	b := g.newBrowser()
	number := b.sendPush("alice")
	msg := f.WaitMessage(t, topic, sendTimeout)
	p := newPhone(t)
	page := p.open(msg.Click)
	expectStatus(t, page, http.StatusOK)
	redistest.Advance(t, rdb, prefix, 2*time.Minute+time.Second)
	expired := p.open(msg.Click)
	expectStatus(t, expired, http.StatusGone)
	expectText(t, expired, "This request has expired")
	m := tokenRE.FindStringSubmatch(page.Body)
	late := p.post(msg.Click, url.Values{"t": {m[1]}, "answer": {"approve"}, "number": {number}})
	expectStatus(t, late, http.StatusGone)
	w := b.get("/.mfa/challenge/push")
	expectStatus(t, w, http.StatusUnauthorized)
	expectText(t, w, "The notification expired", "Send another notification")
	expectStatus(t, b.finishWait("/.mfa/challenge/push"), http.StatusUnauthorized)
	b.notSignedIn("/")
}

// TestPushFatigueLimit: at most 3 prompts per user in 5 minutes (the
// default; the registration's test prompt counts); then the user must
// pick another way, and nothing more is sent.
func TestPushFatigueLimit(t *testing.T) {
	t.Parallel()
	f := ntfytest.New(t, ntfyToken)
	g, _ := startPhoneGateway(t, ntfyBlock(f))
	topic, codes := g.newBrowser().enrolPush(f, "alice")
	b := g.newBrowser()
	b.passwordOnly("alice", "/")
	for range 2 {
		expectRedirect(t, b.sendFromChallenge("push"), "/.mfa/challenge/push")
		f.WaitMessage(t, topic, sendTimeout)
	}
	r := b.sendFromChallenge("push")
	expectStatus(t, r, http.StatusTooManyRequests)
	expectText(t, r, "Too many notifications were sent", "Use a recovery code")
	if n := len(f.Messages()); n != 3 {
		t.Fatalf("ntfy got %d messages, want 3", n)
	}
	// Another way in still works.
	ch := b.get("/.mfa/challenge?method=recovery")
	expectSignedInTo(t, b, b.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"recovery"}, "code": {codes[0]}}), "/")
	b.signedIn("alice", "/")
}

// TestPushWebhookAndFailure: the webhook notifier posts signed prompts
// that a company app can route by user; a notifier that fails or hangs
// gives the user a clear message within about 5 s.
func TestPushWebhookAndFailure(t *testing.T) {
	t.Parallel()
	hook := webhooktest.New(t, []byte(hookSecret))
	g, public := startPhoneGateway(t, fmt.Sprintf("push webhook %s {\n secret %s\n }\n", hook.URL(), hookSecret))
	b := g.newBrowser()
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/setup")
	setup := b.get("/.mfa/setup/push")
	expectText(t, setup, "through its own app")
	expectNoText(t, setup, "ntfy://")
	expectStatus(t, b.get("/.mfa/setup/push/qr.png"), http.StatusNotFound)

	// The notifier fails, then hangs: the user is told, nothing is registered.
	hook.FailNext(http.StatusBadGateway)
	r := b.post("/.mfa/setup/push", url.Values{"csrf": {csrfOf(t, setup.Body)}})
	expectStatus(t, r, http.StatusServiceUnavailable)
	expectText(t, r, "We couldn't send the notification")
	hook.HangNext(10 * time.Second)
	start := time.Now()
	r = b.post("/.mfa/setup/push", url.Values{"csrf": {csrfOf(t, setup.Body)}})
	expectStatus(t, r, http.StatusServiceUnavailable)
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("a hanging notifier kept the user waiting %v", d)
	}

	expectRedirect(t, b.post("/.mfa/setup/push", url.Values{"csrf": {csrfOf(t, setup.Body)}}), "/.mfa/setup/push/wait")
	note := hook.WaitPush(t, "alice", sendTimeout)
	if !note.Test || !strings.HasPrefix(note.URL, public+"/.mfa/push/approve#t=") || note.IP != "127.0.0.1" {
		t.Fatalf("webhook prompt %+v", note)
	}
	wait := b.get("/.mfa/setup/push/wait")
	expectStatus(t, newPhone(t).answer(note.URL, "approve", numberOf(t, wait)), http.StatusOK)
	recoveryCodesOf(t, b.post("/.mfa/setup/push/wait", url.Values{"csrf": {csrfOf(t, wait.Body)}}))
	b.signedIn("alice", "/")
}
