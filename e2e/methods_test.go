package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/ntfytest"
	"github.com/caddy-mfa/caddy-mfa/internal/twiliotest"
	"github.com/caddy-mfa/caddy-mfa/internal/webauthntest"
)

// The table of second-factor methods that the cross-cutting tests
// (methods_cross_test.go) run over: for each method, the configuration it
// needs, how a user registers it, and how a browser that gave the password
// answers it rightly or wrongly. Every answer is built as the final POST a
// browser would make (path and form, CSRF token included), so that a test
// can also send it without its token.

// secondFactor is one method as the e2e tests drive it.
type secondFactor struct {
	// name is the method's name in forms and URLs ("totp", "sms", ...).
	name string
	// counts is whether a wrong answer counts toward max_code_failures,
	// the second-factor lockout. A prompt (push) or a call (voice) is
	// answered on the user's own phone, where a wrong answer (the wrong
	// number, a key other than #) denies that sign-in; those are bounded by
	// the send limits instead, and do not count.
	counts bool
	// asks is what the challenge page says when it asks a user of the
	// method (one who registered nothing else) for the second factor.
	asks string
	// start starts a gateway that offers the method, with these extra
	// global lines and lines of the global limits block.
	start func(t *testing.T, global string, limits ...string) *methodGateway
}

// methodGateway is a gateway started for one method, with the method's
// steps bound to its fakes.
type methodGateway struct {
	*gateway
	// browser is a new browser of the site the method is used on.
	browser func() *browser
	// register walks user's first sign-in, registering the method; b ends
	// fully signed in.
	register func(b *browser, user string) *enrolment
	// right does what the method needs before its final POST (sending a
	// text, approving on the phone, signing with the key) from a browser
	// at the challenge, and returns that POST, which passes.
	right func(b *browser, e *enrolment) (string, url.Values)
	// wrong is the same for a wrong answer; its POST is refused (401) and,
	// if counts, counted.
	wrong func(b *browser, e *enrolment) (string, url.Values)
	// sent counts the texts, calls or prompts the method's fake received
	// (nil for a method that sends nothing).
	sent func() int
}

// enrolment is what registering left the test to answer with.
type enrolment struct {
	user string
	// totp is the app's key and the last time step used.
	totp string
	step int
	// codes are the recovery codes and how many were used.
	codes []string
	used  int
	// topic is the push device's ntfy topic.
	topic string
	// key is the security key.
	key *webauthntest.Authenticator

	// pending is the texted code each browser has not used yet; mu
	// guards it.
	mu      sync.Mutex
	pending map[*browser]string
}

// secondFactors is every method of the table.
var secondFactors = []secondFactor{
	{name: "totp", counts: true, asks: "Enter the code shown in your authenticator app.", start: startTOTP},
	// Recovery codes come with every method; the page links to them.
	{name: "recovery", counts: true, asks: `href="/.mfa/challenge?method=recovery"`, start: startRecovery},
	{name: "sms", counts: true, asks: "Text me a code", start: startSMS},
	{name: "voice", counts: false, asks: "Call me", start: startVoice},
	{name: "push", counts: false, asks: "Send notification", start: startPush},
	{name: "webauthn", counts: true, asks: "Use your security key", start: startKey},
}

// startPlain starts a gateway with no provider, for the app and recovery
// codes.
func startPlain(t *testing.T, global string, limits []string) *gateway {
	t.Helper()
	return startGateway(t, gatewayOpts{global: global + "\n" + limitsBlock(limits...)})
}

// challengeForm is the challenge page of method (opened for its token)
// and the form that answers it with code.
func challengeForm(b *browser, method, code string) (string, url.Values) {
	b.t.Helper()
	page := b.get("/.mfa/challenge?method=" + method)
	expectStatus(b.t, page, http.StatusOK)
	return "/.mfa/challenge", url.Values{"csrf": {csrfOf(b.t, page.Body)}, "method": {method}, "code": {code}}
}

// registerTOTP is the harness's first sign-in, with the app.
func registerTOTP(b *browser, user string) *enrolment {
	b.t.Helper()
	e := b.firstSignIn(user, "/")
	return &enrolment{user: user, totp: e.Secret, codes: e.Codes}
}

// startTOTP: the app; a wrong answer is the code 000000.
func startTOTP(t *testing.T, global string, limits ...string) *methodGateway {
	g := startPlain(t, global, limits)
	return &methodGateway{gateway: g, browser: g.newBrowser, register: registerTOTP,
		right: func(b *browser, e *enrolment) (string, url.Values) {
			// The next time step: the current one went at registration.
			e.step++
			return challengeForm(b, "totp", code(b.t, e.totp, time.Now().Add(time.Duration(e.step)*30*time.Second)))
		},
		wrong: func(b *browser, _ *enrolment) (string, url.Values) { return challengeForm(b, "totp", "000000") },
	}
}

// startRecovery: recovery codes (registered with the app); a wrong answer
// is a code the user was never given.
func startRecovery(t *testing.T, global string, limits ...string) *methodGateway {
	g := startPlain(t, global, limits)
	return &methodGateway{gateway: g, browser: g.newBrowser, register: registerTOTP,
		right: func(b *browser, e *enrolment) (string, url.Values) {
			e.used++
			return challengeForm(b, "recovery", e.codes[e.used-1])
		},
		wrong: func(b *browser, _ *enrolment) (string, url.Values) {
			return challengeForm(b, "recovery", "aaaa-bbbb-cccc")
		},
	}
}

// phoneLimits are the limits of the phone and push gateways: a resend
// after 1 s, which sendGap waits out.
func phoneLimits(limits []string) string {
	return limitsBlock(append([]string{"resend_after 1s"}, limits...)...)
}

// startSMS: texts through the fake Twilio; a wrong answer is the texted
// code plus one.
func startSMS(t *testing.T, global string, limits ...string) *methodGateway {
	f := twiliotest.New(t, twilioSID, twilioToken)
	g, _ := startPhoneGateway(t, twilioBlock("sms", f)+phoneLimits(limits)+global)
	var gap sendGap
	// texted sends a code to b's user, unless one is waiting, and returns it.
	texted := func(b *browser, e *enrolment) string {
		e.mu.Lock()
		c := e.pending[b]
		e.mu.Unlock()
		if c != "" {
			return c
		}
		gap.wait(e.user)
		expectRedirect(b.t, b.sendFromChallenge("sms"), "/.mfa/challenge?method=sms")
		gap.sent(e.user)
		c = codeOf(b.t, f.WaitMessage(b.t, jpE164, sendTimeout).Body)
		e.mu.Lock()
		e.pending[b] = c
		e.mu.Unlock()
		return c
	}
	return &methodGateway{gateway: g, browser: g.newBrowser, sent: func() int { return len(f.Messages()) },
		register: func(b *browser, user string) *enrolment {
			codes := b.enrolSMS(f, user, jpRegion, jpTyped, jpE164)
			gap.sent(user)
			return &enrolment{user: user, codes: codes, pending: map[*browser]string{}}
		},
		right: func(b *browser, e *enrolment) (string, url.Values) {
			c := texted(b, e)
			e.mu.Lock()
			delete(e.pending, b)
			e.mu.Unlock()
			return challengeForm(b, "sms", c)
		},
		wrong: func(b *browser, e *enrolment) (string, url.Values) {
			c := texted(b, e)
			return challengeForm(b, "sms", fmt.Sprintf("%06d", (mustAtoi(b.t, c)+1)%1_000_000))
		},
	}
}

// startVoice: calls through the fake Twilio; a wrong answer is pressing 1
// instead of #, which denies the sign-in.
func startVoice(t *testing.T, global string, limits ...string) *methodGateway {
	f := twiliotest.New(t, twilioSID, twilioToken)
	g, _ := startPhoneGateway(t, twilioBlock("voice", f)+phoneLimits(limits)+global)
	var gap sendGap
	// call places a call to b's user and presses digits on it.
	call := func(b *browser, e *enrolment, digits string) (string, url.Values) {
		gap.wait(e.user)
		expectRedirect(b.t, b.sendFromChallenge("voice"), "/.mfa/challenge/wait")
		gap.sent(e.user)
		expectStatus(b.t, pressed(b.t, f, f.WaitCall(b.t, jpE164, sendTimeout), digits), http.StatusOK)
		page := b.get("/.mfa/challenge/wait")
		return "/.mfa/challenge/wait", url.Values{"csrf": {csrfOf(b.t, page.Body)}}
	}
	return &methodGateway{gateway: g, browser: g.newBrowser, sent: func() int { return len(f.Calls()) },
		register: func(b *browser, user string) *enrolment {
			codes := b.enrolVoice(f, user, jpRegion, jpTyped, "", jpE164)
			gap.sent(user)
			return &enrolment{user: user, codes: codes}
		},
		right: func(b *browser, e *enrolment) (string, url.Values) { return call(b, e, "#") },
		// A key other than # (and 0#, which reports fraud) denies.
		wrong: func(b *browser, e *enrolment) (string, url.Values) { return call(b, e, "1") },
	}
}

// startPush: prompts through the fake ntfy; a wrong answer is the wrong
// number on the phone, which denies the sign-in.
func startPush(t *testing.T, global string, limits ...string) *methodGateway {
	f := ntfytest.New(t, ntfyToken)
	g, _ := startPhoneGateway(t, ntfyBlock(f)+phoneLimits(limits)+global)
	var gap sendGap
	// prompt sends a prompt to b's user and answers it on the phone with
	// the number shown, or another.
	prompt := func(b *browser, e *enrolment, sameNumber bool) (string, url.Values) {
		gap.wait(e.user)
		expectRedirect(b.t, b.sendFromChallenge("push"), "/.mfa/challenge/push")
		gap.sent(e.user)
		wait := b.get("/.mfa/challenge/push")
		number, answered := numberOf(b.t, wait), http.StatusOK
		if !sameNumber {
			number, answered = otherNumber(number), http.StatusUnprocessableEntity
		}
		msg := f.WaitMessage(b.t, e.topic, sendTimeout)
		expectStatus(b.t, newPhone(b.t).answer(msg.Click, "approve", number), answered)
		return "/.mfa/challenge/push", url.Values{"csrf": {csrfOf(b.t, wait.Body)}}
	}
	return &methodGateway{gateway: g, browser: g.newBrowser, sent: func() int { return len(f.Messages()) },
		register: func(b *browser, user string) *enrolment {
			topic, codes := b.enrolPush(f, user)
			gap.sent(user)
			return &enrolment{user: user, topic: topic, codes: codes}
		},
		right: func(b *browser, e *enrolment) (string, url.Values) { return prompt(b, e, true) },
		// The wrong number on the phone denies (Deny itself does the same).
		wrong: func(b *browser, e *enrolment) (string, url.Values) { return prompt(b, e, false) },
	}
}

// startKeyGateway is keySites with one site, on localhost (the
// relying-party id), and extra global lines; it returns the site's URL.
func startKeyGateway(t *testing.T, global string) (g *gateway, site string) {
	t.Helper()
	port := freePort(t)
	site = fmt.Sprintf("http://localhost:%d", port)
	g = startGateway(t, gatewayOpts{
		global:     fmt.Sprintf("webauthn {\n\t\t\trp_id localhost\n\t\t\torigins %s\n\t\t}\n%s", site, global),
		extraSites: keyAppSite(port),
	})
	return g, site
}

// impostor is a security key that answers for e's key's credentials with
// keys of its own: its assertions are those of a key that was never
// registered.
func impostor(t *testing.T, e *enrolment) *webauthntest.Authenticator {
	t.Helper()
	other := webauthntest.New(e.key.Origin)
	creds := map[string]*webauthntest.Credential{}
	for id, c := range e.key.Creds {
		opts, err := json.Marshal(map[string]any{"publicKey": map[string]any{"challenge": "AAAA",
			"rp": map[string]any{"id": c.RPID}, "user": map[string]any{"id": base64.RawURLEncoding.EncodeToString(c.UserHandle)}}})
		if err != nil {
			t.Fatal(err)
		}
		_, fake, err := other.Create(opts)
		if err != nil {
			t.Fatalf("making an impostor key: %v", err)
		}
		fake.ID = c.ID // its own key pair, under the registered id
		creds[id] = fake
	}
	other.Creds = creds
	return other
}

// startKey: a software security key on site A; a wrong answer is an
// assertion by an impostor key.
func startKey(t *testing.T, global string, limits ...string) *methodGateway {
	g, site := startKeyGateway(t, global+"\n"+limitsBlock(limits...))
	assertion := func(b *browser, key *webauthntest.Authenticator) (string, url.Values) {
		page := b.get("/.mfa/challenge?method=webauthn")
		expectStatus(b.t, page, http.StatusOK)
		signed, err := key.Get(keyOptions(b.t, page.Body))
		if err != nil {
			b.t.Fatal(err)
		}
		return "/.mfa/challenge", keyForm(b.t, page, signed, url.Values{"method": {"webauthn"}})
	}
	return &methodGateway{gateway: g, browser: func() *browser { return on(g, site) },
		register: func(b *browser, user string) *enrolment {
			t := b.t
			expectRedirect(t, b.login(user, testPassword, "/"), "/.mfa/setup")
			page := b.get("/.mfa/setup/key")
			expectStatus(t, page, http.StatusOK)
			key := webauthntest.New(site)
			answer, _, err := key.Create(keyOptions(t, page.Body))
			if err != nil {
				t.Fatal(err)
			}
			codes := recoveryCodesOf(t, b.post("/.mfa/setup/key", keyForm(t, page, answer, url.Values{"name": {"Blue key"}})))
			return &enrolment{user: user, codes: codes, key: key}
		},
		right: func(b *browser, e *enrolment) (string, url.Values) { return assertion(b, e.key) },
		// An assertion signed by a key that is not the registered one.
		wrong: func(b *browser, e *enrolment) (string, url.Values) { return assertion(b, impostor(b.t, e)) },
	}
}

// answer posts the method's right answer from a browser at the challenge,
// with extra fields (such as remember), and expects the way to rd.
func (m *methodGateway) answer(b *browser, e *enrolment, rd string, extra url.Values) {
	b.t.Helper()
	path, form := m.right(b, e)
	for k, v := range extra {
		form[k] = v
	}
	expectSignedInTo(b.t, b, b.post(path, form), rd)
}

// reachesApp fails unless b reaches the app of its site as user.
func reachesApp(b *browser, user string) {
	b.t.Helper()
	r := b.get("/")
	expectStatus(b.t, r, http.StatusOK)
	if !strings.Contains(r.Body, user) {
		b.t.Fatalf("the app does not greet %s: %q", user, r.Body)
	}
}
