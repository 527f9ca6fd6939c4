package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/internal/ntfytest"
)

// Shared helpers of the app-notification tests (push_test.go,
// push_browser_test.go): the fake ntfy server in the Caddyfile, enrolment
// over HTTP, and a phone that opens the approval link with no cookies.

const ntfyToken = "tk_e2etoken0123456789abcdefghij"

var (
	topicRE  = regexp.MustCompile(`<code class="secret">(mfa-[a-z2-7]{26})</code>`)
	numberRE = regexp.MustCompile(`id="push-number"[^>]*>(\d\d)</p>`)
	tokenRE  = regexp.MustCompile(`name="t" value="([A-Za-z0-9_-]{43})"`)
)

// ntfyBlock is the global `push ntfy` option that publishes to f.
func ntfyBlock(f *ntfytest.Fake) string {
	return fmt.Sprintf("push ntfy %s {\n token %s\n }\n", f.URL(), ntfyToken)
}

// numberOf reads the number a waiting page shows.
func numberOf(t *testing.T, r *response) string {
	t.Helper()
	m := numberRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("%s (%d): no number on the page:\n%s", r.Request.URL, r.StatusCode, tail(r.Body, 2000))
	}
	return m[1]
}

// otherNumber is a two-digit number other than n.
func otherNumber(n string) string {
	if n == "10" {
		return "11"
	}
	return "10"
}

// phone opens approval links as the user's phone would: a client of its
// own, with none of the cookies of the browser that signs in.
type phone struct {
	t      *testing.T
	client *http.Client
	lang   string // Accept-Language, if set
}

func newPhone(t *testing.T) *phone {
	jar, _ := cookiejar.New(nil)
	return &phone{t: t, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (p *phone) do(req *http.Request) *response {
	p.t.Helper()
	req.Header.Set("Accept", "text/html")
	if p.lang != "" {
		req.Header.Set("Accept-Language", p.lang)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	return &response{Response: resp, Body: string(body)}
}

// open opens the approval link of a notification as its page's script
// does: the page comes without the token, which stays in the link's
// fragment, and then the token is posted. It returns the second answer.
func (p *phone) open(link string) *response {
	p.t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		p.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, link, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	page := p.do(req)
	expectStatus(p.t, page, http.StatusOK)
	expectText(p.t, page, `id="push-open"`, "/static/approve.js")
	return p.post(link, url.Values{"t": {strings.TrimPrefix(u.Fragment, "t=")}, "answer": {"open"}})
}

// answer opens link and answers with answer and number.
func (p *phone) answer(link, answer, number string) *response {
	p.t.Helper()
	page := p.open(link)
	expectStatus(p.t, page, http.StatusOK)
	m := tokenRE.FindStringSubmatch(page.Body)
	if m == nil {
		p.t.Fatalf("approval page has no token field:\n%s", tail(page.Body, 2000))
	}
	return p.post(link, url.Values{"t": {m[1]}, "answer": {answer}, "number": {number}})
}

// post posts form to the approval page of link.
func (p *phone) post(link string, form url.Values) *response {
	p.t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		p.t.Fatal(err)
	}
	u.RawQuery, u.Fragment = "", ""
	req, err := http.NewRequest(http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return p.do(req)
}

// enrolPush registers a phone subscribed through the fake ntfy f for user,
// approving the test prompt, and returns its topic and the recovery codes.
func (b *browser) enrolPush(f *ntfytest.Fake, user string) (string, []string) {
	b.t.Helper()
	t := b.t
	expectRedirect(t, b.login(user, testPassword, "/"), "/.mfa/setup")
	setup := b.get("/.mfa/setup/push")
	expectStatus(t, setup, http.StatusOK)
	m := topicRE.FindStringSubmatch(setup.Body)
	if m == nil {
		t.Fatalf("setup page shows no topic:\n%s", tail(setup.Body, 2000))
	}
	topic := m[1]
	expectRedirect(t, b.post("/.mfa/setup/push", url.Values{"csrf": {csrfOf(t, setup.Body)}}), "/.mfa/setup/push/wait")
	msg := f.WaitMessage(t, topic, sendTimeout)
	if msg.Cached {
		// A prompt lives two minutes; ntfy would keep it readable for 12 h.
		t.Errorf("the test prompt was published to ntfy without X-Cache: no: %+v", msg)
	}
	wait := b.get("/.mfa/setup/push/wait")
	expectStatus(t, wait, http.StatusOK)
	expectStatus(t, newPhone(t).answer(msg.Click, "approve", numberOf(t, wait)), http.StatusOK)
	return topic, recoveryCodesOf(t, b.post("/.mfa/setup/push/wait", url.Values{"csrf": {csrfOf(t, wait.Body)}}))
}

// sendPush signs user in with the password and sends a prompt from the
// challenge page; it returns the number the waiting page shows.
func (b *browser) sendPush(user string) string {
	b.t.Helper()
	b.passwordOnly(user, "/")
	expectRedirect(b.t, b.sendFromChallenge("push"), "/.mfa/challenge/push")
	wait := b.get("/.mfa/challenge/push")
	expectStatus(b.t, wait, http.StatusOK)
	return numberOf(b.t, wait)
}
