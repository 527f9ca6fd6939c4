package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
	"github.com/caddy-mfa/caddy-mfa/internal/smtptest"
)

// smtpGlobal is the smtp option for a receiver s (STARTTLS, AUTH PLAIN):
// the gateway trusts s's certificate through SSL_CERT_FILE.
func smtpGlobal(t *testing.T, s *smtptest.Server) string {
	t.Setenv("SSL_CERT_FILE", s.CAFile)
	t.Setenv("MFA_E2E_SMTP_PASSWORD", "e2e-smtp-password")
	return fmt.Sprintf(`smtp {
			address %s
			username gw
			password {env.MFA_E2E_SMTP_PASSWORD}
			from "E2E Sign-in <mfa@example.com>"
			tls starttls
			timeout 2s
		}
		help_url https://help.example.com/mfa`, s.Addr)
}

// parsed waits for the n-th message and reads it.
func parsed(t *testing.T, s *smtptest.Server, n int, within time.Duration) smtptest.Parsed {
	t.Helper()
	msgs := s.Wait(t, n, within)
	p, err := msgs[n-1].Parse()
	if err != nil {
		t.Fatalf("message %d: %v\n%s", n, err, msgs[n-1].Raw)
	}
	if len(msgs[n-1].To) != 1 || !msgs[n-1].TLS || msgs[n-1].User != "gw" {
		t.Errorf("message %d: envelope to %v, TLS %v, user %q", n, msgs[n-1].To, msgs[n-1].TLS, msgs[n-1].User)
	}
	return p
}

// A real Caddy sends the notices of a first registration and of a
// sign-in from a new browser to the user's address, as received by a
// real SMTP server over STARTTLS with AUTH.
func TestNoticesByMail(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "e2e-smtp-password"})
	g := startGateway(t, gatewayOpts{global: smtpGlobal(t, s)})
	e := g.newBrowser().firstSignIn("alice", "/")

	// The first sign-in is from a browser new for alice as well.
	want := []string{"A sign-in method was added to your account", "New recovery codes were made for your account", "New sign-in to your account"}
	got := map[string]smtptest.Parsed{}
	for i := range want {
		p := parsed(t, s, i+1, 10*time.Second)
		got[p.Subject] = p
	}
	for _, subject := range want {
		p, ok := got[subject]
		if !ok {
			t.Fatalf("no notice %q; got %v", subject, got)
		}
		if p.To != `"Alice Example" <alice@example.com>` || p.From != `"E2E Sign-in" <mfa@example.com>` {
			t.Errorf("%s: from %q to %q", subject, p.From, p.To)
		}
		for _, part := range []string{p.Text, p.HTML} {
			for _, w := range []string{"E2E Corp", "127.0.0.1", "UTC", "https://help.example.com/mfa"} {
				if !strings.Contains(part, w) {
					t.Errorf("%s: a part lacks %q:\n%s", subject, w, part)
				}
			}
			for _, secret := range append([]string{e.Secret, testPassword}, e.Codes...) {
				if strings.Contains(part, secret) {
					t.Errorf("%s: a part shows a secret", subject)
				}
			}
		}
	}
	if !strings.Contains(got[want[0]].Text, "Authenticator app") {
		t.Errorf("method added notice does not name the method:\n%s", got[want[0]].Text)
	}

	// Another browser: a new-browser notice. The same browser again: none.
	b2 := g.newBrowser()
	expectStatus(t, b2.follow(b2.secondSignIn("alice", e, "/", 1)), http.StatusOK)
	if p := parsed(t, s, 4, 10*time.Second); p.Subject != "New sign-in to your account" || !strings.Contains(p.Text, "browser not used before") {
		t.Errorf("third notice %q:\n%s", p.Subject, p.Text)
	}
	b2.signOut()
	b2.recoverySignIn("alice", e.Codes[0], false)
	time.Sleep(1500 * time.Millisecond)
	if n := len(s.Messages()); n != 4 {
		t.Errorf("%d messages after a sign-in from a familiar browser, want 4", n)
	}
}

// The SMTP server slow or down: pages answer as fast as without it, and
// the notice arrives once the server is back.
func TestNoticesWhenSMTPIsSlowOrDown(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "e2e-smtp-password"})
	g := startGateway(t, gatewayOpts{global: smtpGlobal(t, s)})
	s.SetDelay(5 * time.Second) // beyond the 2s timeout
	start := time.Now()
	e := g.newBrowser().firstSignIn("alice", "/")
	slow := time.Since(start)
	t.Logf("first sign-in (password, enrolment, recovery codes) with SMTP answering DATA after 5s: %v", slow)
	if slow > 3*time.Second {
		t.Errorf("first sign-in took %v with a slow SMTP server", slow)
	}
	s.SetDelay(0)
	s.Stop()
	b2 := g.newBrowser()
	start = time.Now()
	expectStatus(t, b2.follow(b2.secondSignIn("alice", e, "/", 1)), http.StatusOK)
	down := time.Since(start)
	t.Logf("sign-in from a new browser with SMTP down: %v", down)
	if down > 2*time.Second {
		t.Errorf("sign-in took %v with SMTP down", down)
	}
	s.Restart()
	// Every notice arrives, the ones that timed out while slow too (at
	// least once: the slow server may have kept one it answered late).
	deadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(deadline) {
		subjects := map[string]bool{}
		for _, m := range s.Messages() {
			if p, err := m.Parse(); err == nil {
				subjects[p.Subject] = true
			}
		}
		if subjects["New sign-in to your account"] && subjects["A sign-in method was added to your account"] && subjects["New recovery codes were made for your account"] {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("not every notice arrived after the server came back: %d messages", len(s.Messages()))
}

// Two gateways on one Redis share the outbox: each notice arrives once.
func TestNoticesOnceWithTwoGatewaysOnRedis(t *testing.T) {
	r := redistest.StartServer(t)
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "e2e-smtp-password"})
	global := smtpGlobal(t, s) + "\n\t\tredis {\n\t\t\turl redis://" + r.Addr + "/0\n\t\t\ttimeout 500ms\n\t\t}"
	g1 := startGateway(t, gatewayOpts{global: global})
	g2 := startGateway(t, gatewayOpts{global: global})
	e := g1.newBrowser().firstSignIn("alice", "/")
	for i := 1; i <= 4; i++ {
		g := []*gateway{g1, g2}[i%2]
		g.newBrowser().recoverySignIn("alice", e.Codes[i], false)
	}
	s.Wait(t, 7, 15*time.Second)
	time.Sleep(2 * time.Second) // no copy comes late
	ids := map[string]int{}
	for _, m := range s.Messages() {
		p, err := m.Parse()
		if err != nil {
			t.Fatal(err)
		}
		ids[p.MessageID]++
	}
	if n := len(s.Messages()); n != 7 || len(ids) != 7 {
		t.Fatalf("%d messages, %d distinct, want 7 of each (3 for the first sign-in, 4 new browsers)", n, len(ids))
	}
}

// Wrong passwords typed in a Japanese browser lock alice out: she gets
// the lockout notice in Japanese, with the browser and address.
func TestLockoutNoticeInJapanese(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "e2e-smtp-password"})
	g := startGateway(t, gatewayOpts{global: smtpGlobal(t, s)})
	b := g.newBrowser()
	for range 5 {
		page := b.get("/.mfa/login", "Accept-Language", "ja")
		form := url.Values{"csrf": {csrfOf(t, page.Body)}, "username": {"alice"}, "password": {"wrong-password-e2e"}}
		req, err := http.NewRequest(http.MethodPost, g.URL+"/.mfa/login", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept-Language", "ja,en;q=0.5")
		req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36")
		b.do(req)
	}
	p := parsed(t, s, 1, 10*time.Second)
	if p.Subject != "アカウントは一時的にロックされています" {
		t.Errorf("subject %q", p.Subject)
	}
	for _, part := range []string{p.Text, p.HTML} {
		for _, w := range []string{"E2E Corp のアカウント", "日時: 20", "127.0.0.1", "Chrome", "Windows"} {
			if !strings.Contains(part, w) {
				t.Errorf("a part lacks %q:\n%s", w, part)
			}
		}
		if strings.Contains(part, "wrong-password-e2e") {
			t.Error("the notice shows the typed password")
		}
	}
	if strings.Contains(string(s.Messages()[0].Raw), "wrong-password-e2e") {
		t.Error("the raw message holds the typed password")
	}
}
