package e2e

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/twiliotest"
	"github.com/caddy-mfa/caddy-mfa/internal/webhooktest"
)

// Shared helpers of the phone tests (phone_test.go, phone_limits_test.go,
// phone_browser_test.go): the fake providers in the Caddyfile, enrolment of
// a phone over HTTP, and reading what the pages and the fakes show.

const (
	twilioSID   = "AC0123456789abcdef0123456789abcdef"
	twilioToken = "e2e-twilio-auth-token"
	twilioFrom  = "+15005550006"
	hookSecret  = "e2e-webhook-secret-0123456789"

	// A Japanese mobile, as a user types it with region JP.
	jpRegion, jpTyped, jpE164, jpMasked = "JP", "090-1234-5678", "+819012345678", "+81 •• •••• 5678"
	// A UK mobile, typed in international form.
	ukMobileTyped, ukMobileE164 = "+44 7911 123456", "+447911123456"
	// A UK landline (an office: no texts, calls with an extension).
	ukLandTyped, ukLandE164, ukLandMasked = "+44 20 7946 0958", "+442079460958", "+44 •• •••• 0958"
	// A US number (fixed line or mobile: texts are allowed).
	usTyped, usE164 = "+1 650 253 0000", "+16502530000"

	// sendTimeout bounds waiting for a fake to receive a text or call.
	sendTimeout = 10 * time.Second
)

// startPhoneGateway starts a gateway with these global lines and a
// public_url, which Twilio's callbacks and the one-time-code line of texts
// need. The public URL is a second site of the same Caddy, on a port chosen
// before the Caddyfile is written (the harness picks the first site's port
// itself), serving the portal; it is returned too.
func startPhoneGateway(t *testing.T, global string) (*gateway, string) {
	t.Helper()
	public := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	g := startGateway(t, gatewayOpts{
		global:     "public_url " + public + "\n" + global,
		extraSites: public + " {\n\tmfa\n\trespond \"not the app\" 404\n}\n",
	})
	return g, public
}

// twilioBlock is the global `sms twilio` or `voice twilio` option that
// points at the fake f.
func twilioBlock(channel string, f *twiliotest.Fake) string {
	return fmt.Sprintf("%s twilio {\n account_sid %s\n auth_token %s\n from %s\n api_url %s\n }\n",
		channel, twilioSID, twilioToken, twilioFrom, f.URL())
}

// hookBlock is the global `sms webhook` option that posts to r.
func hookBlock(r *webhooktest.Receiver) string {
	return fmt.Sprintf("sms webhook %s {\n secret %s\n }\n", r.URL(), hookSecret)
}

// limitsBlock is a global `limits` block with these lines.
func limitsBlock(lines ...string) string {
	return "limits {\n " + strings.Join(lines, "\n ") + "\n }\n"
}

// sendGap waits out a resend_after of 1s since the last send for the user
// (the gateway refuses a second text or call sooner).
type sendGap struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (s *sendGap) sent(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = map[string]time.Time{}
	}
	s.last[user] = time.Now()
}

func (s *sendGap) wait(user string) {
	s.mu.Lock()
	last := s.last[user]
	s.mu.Unlock()
	if d := time.Until(last.Add(1100 * time.Millisecond)); d > 0 {
		time.Sleep(d)
	}
}

// pageText is the page as a user reads it: HTML entities decoded.
func pageText(r *response) string { return html.UnescapeString(r.Body) }

// expectText fails unless the page shows each of want (entities decoded).
func expectText(t *testing.T, r *response, want ...string) {
	t.Helper()
	body := pageText(r)
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Fatalf("%s %s (%d): page lacks %q:\n%s", r.Request.Method, r.Request.URL, r.StatusCode, w, tail(r.Body, 2500))
		}
	}
}

// expectNoText fails if the page shows any of these.
func expectNoText(t *testing.T, r *response, unwanted ...string) {
	t.Helper()
	body := pageText(r)
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Fatalf("%s %s (%d): page shows %q:\n%s", r.Request.Method, r.Request.URL, r.StatusCode, w, tail(r.Body, 2500))
		}
	}
}

var smsCodeRE = regexp.MustCompile(`^(\d{6}) is your `)

// codeOf is the code of a text as the gateway words it in English.
func codeOf(t *testing.T, body string) string {
	t.Helper()
	m := smsCodeRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no code at the start of the text %q", body)
	}
	return m[1]
}

// recoveryCodesOf reads the codes of the recovery page (r, or the page
// it redirects to).
func recoveryCodesOf(t *testing.T, r *response) []string {
	t.Helper()
	if r.StatusCode == http.StatusSeeOther && r.b != nil { // POST/redirect/GET
		r = r.b.follow(r)
	}
	expectStatus(t, r, http.StatusOK)
	expectText(t, r, "Save your recovery codes")
	var codes []string
	for _, c := range codesRE.FindAllStringSubmatch(r.Body, -1) {
		codes = append(codes, c[1])
	}
	if len(codes) != 10 {
		t.Fatalf("recovery page shows %d codes, want 10:\n%s", len(codes), r.Body)
	}
	return codes
}

// submitNumber posts the phone form of setup (opened first, for its CSRF
// token) with method, region, number and extension.
func (b *browser) submitNumber(method, region, number, ext string) *response {
	b.t.Helper()
	page := b.get("/.mfa/setup/phone?method=" + method)
	expectStatus(b.t, page, http.StatusOK)
	form := url.Values{"csrf": {csrfOf(b.t, page.Body)}, "method": {method}, "region": {region}, "number": {number}}
	if ext != "" {
		form.Set("ext", ext)
	}
	return b.post("/.mfa/setup/phone", form)
}

// enrolSMSWith walks password, phone form and texted code for user against
// a sender that waitText reads, and returns the recovery codes.
func (b *browser) enrolSMSWith(user, region, number string, waitText func() string) []string {
	b.t.Helper()
	t := b.t
	expectRedirect(t, b.login(user, testPassword, "/"), "/.mfa/setup")
	expectRedirect(t, b.submitNumber("sms", region, number, ""), "/.mfa/setup/phone/code")
	code := codeOf(t, waitText())
	page := b.get("/.mfa/setup/phone/code")
	expectStatus(t, page, http.StatusOK)
	return recoveryCodesOf(t, b.post("/.mfa/setup/phone/code", url.Values{"csrf": {csrfOf(t, page.Body)}, "code": {code}}))
}

// enrolSMS registers a mobile texted through the fake Twilio f.
func (b *browser) enrolSMS(f *twiliotest.Fake, user, region, number, e164 string) []string {
	b.t.Helper()
	return b.enrolSMSWith(user, region, number, func() string { return f.WaitMessage(b.t, e164, sendTimeout).Body })
}

// enrolVoice registers a number called through the fake Twilio f, the
// callee pressing #, and returns the recovery codes.
func (b *browser) enrolVoice(f *twiliotest.Fake, user, region, number, ext, e164 string) []string {
	b.t.Helper()
	t := b.t
	expectRedirect(t, b.login(user, testPassword, "/"), "/.mfa/setup")
	expectRedirect(t, b.submitNumber("voice", region, number, ext), "/.mfa/setup/phone/wait")
	call := f.WaitCall(t, e164, sendTimeout)
	expectStatus(t, pressed(t, f, call, "#"), http.StatusOK)
	page := b.get("/.mfa/setup/phone/wait")
	expectStatus(t, page, http.StatusOK)
	return recoveryCodesOf(t, b.post("/.mfa/setup/phone/wait", url.Values{"csrf": {csrfOf(t, page.Body)}}))
}

// twilioAnswer is the gateway's answer to a callback.
type twilioAnswer struct {
	*http.Response
	Body string
}

func answerOf(t *testing.T, resp *http.Response) *twilioAnswer {
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("reading an answer: %v", err)
	}
	return &twilioAnswer{Response: resp, Body: string(b)}
}

// pressed is f.Press with the answer's body read, as a response.
func pressed(t *testing.T, f *twiliotest.Fake, call twiliotest.CallRecord, digits string) *response {
	t.Helper()
	a := answerOf(t, f.Press(t, call, digits))
	return &response{Response: a.Response, Body: a.Body}
}

// hungUp is f.Hangup with the answer's body read, as a response.
func hungUp(t *testing.T, f *twiliotest.Fake, call twiliotest.CallRecord, status string) *response {
	t.Helper()
	a := answerOf(t, f.Hangup(t, call, status))
	return &response{Response: a.Response, Body: a.Body}
}

// passwordOnly signs user in with the password and expects the challenge.
func (b *browser) passwordOnly(user, rd string) {
	b.t.Helper()
	expectRedirect(b.t, b.login(user, testPassword, rd), "/.mfa/challenge")
}

// sendFromChallenge opens the challenge page of method and presses its
// "Text me a code" or "Call me" button.
func (b *browser) sendFromChallenge(method string) *response {
	b.t.Helper()
	page := b.get("/.mfa/challenge?method=" + method)
	expectStatus(b.t, page, http.StatusOK)
	return b.post("/.mfa/challenge/send", url.Values{"csrf": {csrfOf(b.t, page.Body)}, "method": {method}})
}

// finishWait posts the Continue button of the wait page at path. When the
// page is no longer shown (the call expired), the form is posted anyway,
// with the CSRF token of another page of the session.
func (b *browser) finishWait(path string) *response {
	b.t.Helper()
	page := b.get(path)
	csrf := csrfRE.FindStringSubmatch(page.Body)
	if csrf == nil {
		other := "/.mfa/challenge?method=voice"
		if strings.HasPrefix(path, "/.mfa/setup/") {
			other = "/.mfa/setup"
		}
		page = b.get(other)
		if csrf = csrfRE.FindStringSubmatch(page.Body); csrf == nil {
			b.t.Fatalf("GET %s (%d): no form to continue:\n%s", other, page.StatusCode, tail(page.Body, 2000))
		}
	}
	return b.post(path, url.Values{"csrf": {csrf[1]}})
}

// writeUsers writes the test users file and returns its path.
func writeUsers(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "users.yml")
	if err := os.WriteFile(p, []byte(usersYAML()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// signedIn fails unless this browser reaches the app as user.
func (b *browser) signedIn(user, path string) {
	b.t.Helper()
	expectStatus(b.t, b.get(path), http.StatusOK)
	if h, _ := b.g.Upstream.Last(); h.Get("Remote-User") != user {
		b.t.Fatalf("upstream got Remote-User %q, want %q", h.Get("Remote-User"), user)
	}
}

// notSignedIn fails if this browser reaches the app.
func (b *browser) notSignedIn(path string) {
	b.t.Helper()
	_, before := b.g.Upstream.Last()
	r := b.get(path)
	if r.StatusCode == http.StatusOK {
		b.t.Fatalf("GET %s reached the app:\n%s", path, r.Body)
	}
	if _, after := b.g.Upstream.Last(); after != before {
		b.t.Fatalf("GET %s reached the upstream", path)
	}
}

// logLines are the lines of the gateway's log that contain all of parts.
func (g *gateway) logLines(parts ...string) []string {
	var out []string
	for _, line := range strings.Split(g.log.String(), "\n") {
		ok := true
		for _, p := range parts {
			if !strings.Contains(line, p) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// waitLog waits up to 5 s for a log line with all of parts (the log is
// copied from Caddy's stderr in the background) and returns the lines.
func (g *gateway) waitLog(parts ...string) []string {
	deadline := time.Now().Add(5 * time.Second)
	for {
		lines := g.logLines(parts...)
		if len(lines) > 0 || time.Now().After(deadline) {
			return lines
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pollStatus is one long poll of the call status, made off the test's
// goroutine: it returns the answer and how long it took.
type pollResult struct {
	status int
	body   string
	took   time.Duration
	err    error
}

func (b *browser) pollStatus(purpose string) <-chan pollResult {
	out := make(chan pollResult, 1)
	req, err := http.NewRequest(http.MethodGet, b.g.URL+"/.mfa/call/status?purpose="+url.QueryEscape(purpose), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	go func() {
		start := time.Now()
		resp, err := b.client.Do(req)
		if err != nil {
			out <- pollResult{err: err, took: time.Since(start)}
			return
		}
		defer resp.Body.Close()
		a := answerOf(b.t, resp)
		out <- pollResult{status: resp.StatusCode, body: a.Body, took: time.Since(start)}
	}()
	return out
}

// postAsync posts form to path off the test's goroutine, for requests that
// race; the answer comes as a pollResult.
func (b *browser) postAsync(path string, form url.Values) <-chan pollResult {
	out := make(chan pollResult, 1)
	req, err := http.NewRequest(http.MethodPost, b.g.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	go func() {
		start := time.Now()
		resp, err := b.client.Do(req)
		if err != nil {
			out <- pollResult{err: err, took: time.Since(start)}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		out <- pollResult{status: resp.StatusCode, body: string(body), took: time.Since(start), err: err}
	}()
	return out
}
