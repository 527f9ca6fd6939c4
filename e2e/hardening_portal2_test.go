package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/ntfytest"
	"github.com/caddy-mfa/caddy-mfa/internal/webauthntest"
)

// Issue 14, the security review of the portal fixes (items 1, 8, 11, 13):
// a prompt names the site of the route that carried the request, with the
// port users reach it on; the seed of an authenticator app being
// registered and a security key's ceremony are not replaced by a second
// page; a junk rd does not override the saved return path; any multipart
// body is refused with the 415 page; other methods and bodies are never
// read.

// TestHardeningPortalSiteOfMatchedRoute (review items 1 and 2): a request
// with Host hr.example.com that reaches a catch-all site (the hr site's
// route also has a path matcher) is named by public_url, never by the hr
// site; a site whose host name is public_url's, reached through port
// mapping (the Host header names public_url's port, Caddy listens on
// another), is named with public_url's port, not the one Caddy listens on.
func TestHardeningPortalSiteOfMatchedRoute(t *testing.T) {
	t.Parallel()
	f := ntfytest.New(t, ntfyToken)
	pub, shared, mapped := freePort(t), freePort(t), freePort(t)
	public := fmt.Sprintf("http://localhost:%d", pub)
	g := startGateway(t, gatewayOpts{
		global: "public_url " + public + "\n" + ntfyBlock(f) + limitsBlock("push_per_user 10/5m"),
		extraSites: fmt.Sprintf("%s {\n\tbind 127.0.0.1\n\tmfa\n\trespond \"public\" 200\n}\n", public) +
			fmt.Sprintf("http://hr.example.com:%d/app/* {\n\tbind 127.0.0.1\n\trespond \"hr app\" 200\n}\n", shared) +
			fmt.Sprintf("http://:%d {\n\tbind 127.0.0.1\n\tmfa\n\trespond \"the app\" 200\n}\n", shared) +
			fmt.Sprintf("http://localhost:%d {\n\tbind 127.0.0.1\n\tmfa\n\trespond \"mapped\" 200\n}\n", mapped),
	})
	topic, _ := g.newBrowser().enrolPush(f, "bob")
	want := fmt.Sprintf("localhost:%d", pub)

	// The catch-all site, reached with the hr site's (configured) name.
	ga := *g
	ga.URL = fmt.Sprintf("http://127.0.0.1:%d", shared)
	s := ga.newBrowser()
	s.client.Transport = forgedHost{host: fmt.Sprintf("hr.example.com:%d", shared), next: http.DefaultTransport}
	s.sendPush("bob")
	msg := f.WaitMessage(t, topic, sendTimeout)
	if all := fmt.Sprintf("%+v", msg); strings.Contains(all, "hr.example.com") {
		t.Errorf("the prompt of the catch-all site names the hr site:\n%s", all)
	}
	if !strings.Contains(msg.Message, "signing in to "+want) {
		t.Errorf("prompt %q does not name public_url's site %s", msg.Message, want)
	}

	// The site named localhost, as public_url is, behind port mapping.
	gm := *g
	gm.URL = fmt.Sprintf("http://localhost:%d", mapped)
	m := gm.newBrowser()
	m.client.Transport = forgedHost{host: want, next: http.DefaultTransport}
	m.sendPush("bob")
	msg = f.WaitMessage(t, topic, sendTimeout)
	if !strings.Contains(msg.Message, "signing in to "+want) {
		t.Errorf("prompt %q does not name the site with public_url's port (%s)", msg.Message, want)
	}
}

var rdFieldRE = regexp.MustCompile(`name="rd" value="([^"]*)"`)

// TestHardeningPortalJunkReturnKeepsSaved (review item 5): a challenge page
// opened with an rd that is no safe return path carries none, so the
// return path saved at the password keeps its place.
func TestHardeningPortalJunkReturnKeepsSaved(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gatewayOpts{})
	e := g.newBrowser().firstSignIn("alice", "/")
	b := g.newBrowser()
	expectRedirect(t, b.login("alice", testPassword, "/reports/9"), "/.mfa/challenge")
	for _, junk := range []string{"junk", "//evil.example/x", "https://evil.example/", "/.mfa/logout"} {
		ch := b.get("/.mfa/challenge?rd=" + url.QueryEscape(junk))
		expectStatus(t, ch, http.StatusOK)
		if m := rdFieldRE.FindStringSubmatch(ch.Body); m != nil {
			t.Errorf("challenge?rd=%s carries rd=%q", junk, m[1])
		}
	}
	ch := b.get("/.mfa/challenge?rd=junk")
	form := url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"totp"}, "code": {code(t, e.Secret, time.Now().Add(30*time.Second))}}
	if m := rdFieldRE.FindStringSubmatch(ch.Body); m != nil {
		form.Set("rd", m[1])
	}
	expectRedirect(t, b.post("/.mfa/challenge", form), "/reports/9")
}

// TestHardeningPortalOneSeedPerSession (review item 3): sixteen pages of
// the authenticator-app registration opened at once all show one seed, and
// it is the one that registers.
func TestHardeningPortalOneSeedPerSession(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gatewayOpts{})
	for round, user := range []string{"alice", "bob"} {
		b := g.newBrowser()
		expectRedirect(t, b.login(user, testPassword, "/"), "/.mfa/setup")
		const n = 16
		secrets := make([]string, n)
		bodies := make([]string, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				req, _ := http.NewRequest(http.MethodGet, g.URL+"/.mfa/setup/totp", nil)
				req.Header.Set("Accept", "text/html")
				resp, err := b.client.Do(req)
				if err != nil {
					return
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				bodies[i] = string(body)
				if m := secretRE.FindStringSubmatch(string(body)); m != nil {
					secrets[i] = strings.ReplaceAll(m[1], " ", "")
				}
			})
		}
		close(start)
		wg.Wait()
		for i, s := range secrets {
			if s == "" {
				t.Fatalf("round %d: page %d shows no seed:\n%s", round, i, tail(bodies[i], 1500))
			}
			if s != secrets[0] {
				t.Fatalf("round %d: %d pages opened at once show different seeds (%s, %s): the user may scan one that never registers", round, n, secrets[0], s)
			}
		}
		res := b.follow(b.post("/.mfa/setup/totp", url.Values{"csrf": {csrfOf(t, bodies[0])}, "code": {code(t, secrets[0], time.Now())}}))
		expectStatus(t, res, http.StatusOK)
		if len(codesRE.FindAllString(res.Body, -1)) != 10 {
			t.Fatalf("round %d: the shown seed did not register:\n%s", round, tail(res.Body, 1500))
		}
	}
}

var ceremonyRE = regexp.MustCompile(`name="ceremony" value="([^"]*)"`)

// keyForm is the form a security-key page's script posts, with answer.
func keyForm(t *testing.T, page *response, answer []byte, more url.Values) url.Values {
	t.Helper()
	form := url.Values{"csrf": {csrfOf(t, page.Body)}, "response": {string(answer)}}
	if m := ceremonyRE.FindStringSubmatch(page.Body); m != nil {
		form.Set("ceremony", m[1])
	}
	for k, v := range more {
		form[k] = v
	}
	return form
}

// TestHardeningPortalKeyTabsKeepTheirCeremony (review item 4): a second
// showing of a security-key page (another tab, or a cross-site link to
// the page) does not replace the ceremony of the tab in use: both tabs
// work, for registration and for sign-in; and one page's answer does not
// complete another's.
func TestHardeningPortalKeyTabsKeepTheirCeremony(t *testing.T) {
	t.Parallel()
	g, siteA, _, _ := keySites(t)
	key := webauthntest.New(siteA)
	a := on(g, siteA)
	expectRedirect(t, a.login("alice", testPassword, "/docs"), "/.mfa/setup")
	tab1 := a.get("/.mfa/setup/key")
	expectStatus(t, tab1, http.StatusOK)
	tab2 := a.get("/.mfa/setup/key") // a link from another site, followed
	expectStatus(t, tab2, http.StatusOK)
	answer, _, err := key.Create(keyOptions(t, tab1.Body))
	if err != nil {
		t.Fatal(err)
	}
	done := a.follow(a.post("/.mfa/setup/key", keyForm(t, tab1, answer, url.Values{"name": {"Blue key"}})))
	expectStatus(t, done, http.StatusOK)
	if n := len(codesRE.FindAllString(done.Body, -1)); n != 10 {
		t.Fatalf("the first tab's key after a second tab opened: %d recovery codes, want 10:\n%s", n, tail(done.Body, 1500))
	}

	b := on(g, siteA)
	expectRedirect(t, b.login("alice", testPassword, "/docs"), "/.mfa/challenge")
	first := b.get("/.mfa/challenge?method=webauthn")
	expectPage(t, first, http.StatusOK, "Use your security key")
	second := b.get("/.mfa/challenge?method=webauthn")
	expectStatus(t, second, http.StatusOK)
	signed, err := key.Get(keyOptions(t, first.Body))
	if err != nil {
		t.Fatal(err)
	}
	// The second page's form with the first page's answer: refused.
	crossed := b.post("/.mfa/challenge", keyForm(t, second, signed, url.Values{"method": {"webauthn"}}))
	if crossed.StatusCode < 400 {
		t.Fatalf("the answer to one page completed another page's ceremony: %d", crossed.StatusCode)
	}
	// The first tab's own answer still works after the second tab opened.
	first = b.get("/.mfa/challenge?method=webauthn")
	_ = b.get("/.mfa/challenge?method=webauthn")
	signed, err = key.Get(keyOptions(t, first.Body))
	if err != nil {
		t.Fatal(err)
	}
	expectRedirect(t, b.post("/.mfa/challenge", keyForm(t, first, signed, url.Values{"method": {"webauthn"}})), "/docs")

	// Each showing keeps a ceremony for its timeout (5 min): one session
	// may open 16 key pages in that time; the 17th asks no key and says to
	// wait, in the user's language.
	c := on(g, siteA)
	expectRedirect(t, c.login("alice", testPassword, "/docs"), "/.mfa/challenge")
	for i := range 16 {
		if r := c.get("/.mfa/challenge?method=webauthn"); r.StatusCode != http.StatusOK || !ceremonyRE.MatchString(r.Body) {
			t.Fatalf("key page %d of a session: %d, ceremony %v", i+1, r.StatusCode, ceremonyRE.MatchString(r.Body))
		}
	}
	busy := c.get("/.mfa/challenge?method=webauthn")
	expectPage(t, busy, http.StatusTooManyRequests, "Wait 5 min, then reload this page")
	if strings.Contains(busy.Body, "data-options") {
		t.Fatal("the 17th key page still asks for the key")
	}
	c.lang = "ja"
	expectPage(t, c.get("/.mfa/challenge?method=webauthn"), http.StatusTooManyRequests, "5 分待ってから")
}

// rawRequest writes head (and the first bytes of a body it announces but
// never sends in full) on a fresh connection to g and returns the status
// line and headers of the first answer; the gateway must answer without
// waiting for the rest of the body (within 5 s).
func rawRequest(t *testing.T, g *gateway, head string) (string, http.Header) {
	t.Helper()
	u, _ := url.Parse(g.URL)
	c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	status, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("no answer within 5 s (the body was waited for?) to:\n%s\nerror: %v", head, err)
	}
	h := http.Header{}
	for {
		line, err := br.ReadString('\n')
		if err != nil || strings.TrimSpace(line) == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	return strings.TrimSpace(status), h
}

// TestHardeningPortalOtherMethodsAndBodies (review items 7 and 9): every
// method but GET, HEAD and POST gets 405 with Allow on every portal path
// (the approval page, the call callbacks and the static assets too), with
// a 1 MiB body announced and never sent: the answer comes without it.
// HEAD is a GET without a body. A GET with Expect: 100-continue gets no
// 100. A chunked POST of 100 KiB gets 400 or 413 and keeps nothing. Any
// multipart content type, even one that does not parse, gets the 415 page.
func TestHardeningPortalOtherMethodsAndBodies(t *testing.T) {
	t.Parallel()
	f := ntfytest.New(t, ntfyToken)
	pub := freePort(t)
	g := startGateway(t, gatewayOpts{
		global:     fmt.Sprintf("public_url http://localhost:%d\n", pub) + ntfyBlock(f),
		extraSites: fmt.Sprintf("http://localhost:%d {\n\tbind 127.0.0.1\n\tmfa\n\trespond \"public\" 200\n}\n", pub),
	})
	u, _ := url.Parse(g.URL)
	paths := []string{"/.mfa/", "/.mfa/login", "/.mfa/challenge", "/.mfa/setup/totp", "/.mfa/security/remove", "/.mfa/logout",
		"/.mfa/push/approve", "/.mfa/voice/log", "/.mfa/voice/twilio", "/.mfa/static/style.css", "/.mfa/static/"}
	for _, method := range []string{"PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"} {
		for _, p := range paths {
			head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1048576\r\n\r\nusername=alice&", method, p, u.Host)
			status, h := rawRequest(t, g, head)
			if !strings.Contains(status, " 405 ") {
				t.Errorf("%s %s: %q, want 405", method, p, status)
				continue
			}
			if allow := h.Get("Allow"); allow == "" || strings.Contains(allow, method) {
				t.Errorf("%s %s: Allow %q", method, p, allow)
			}
		}
	}
	for _, p := range []string{"/.mfa/login", "/.mfa/push/approve", "/.mfa/static/style.css"} {
		head := fmt.Sprintf("HEAD %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1048576\r\n\r\nx=", p, u.Host)
		if status, _ := rawRequest(t, g, head); !strings.Contains(status, " 200 ") {
			t.Errorf("HEAD %s with a body: %q, want 200", p, status)
		}
	}
	head := fmt.Sprintf("GET /.mfa/login HTTP/1.1\r\nHost: %s\r\nExpect: 100-continue\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1048576\r\n\r\n", u.Host)
	if status, _ := rawRequest(t, g, head); !strings.Contains(status, " 200 ") {
		t.Errorf("GET with Expect: 100-continue: first answer %q, want 200 (no 100)", status)
	}

	// A chunked POST over 64 KiB: refused, nothing kept.
	b := g.newBrowser()
	page := b.get("/.mfa/login")
	body := "csrf=" + url.QueryEscape(csrfOf(t, page.Body)) + "&username=alice&password=" + url.QueryEscape(testPassword) + "&pad=" + strings.Repeat("a", 100<<10)
	req, _ := http.NewRequest(http.MethodPost, g.URL+"/.mfa/login", io.MultiReader(strings.NewReader(body)))
	req.ContentLength = -1 // chunked
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res := b.do(req)
	if res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked POST of %d bytes: %d, want 400 or 413", len(body), res.StatusCode)
	}
	if r := b.get("/.mfa/setup"); r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), "/.mfa/login") {
		t.Errorf("after the refused POST the browser is signed in: /.mfa/setup answers %d %s", r.StatusCode, r.Header.Get("Location"))
	}

	// Multipart, whatever its parameters: the 415 page.
	for _, ct := range []string{"multipart/form-data; boundary=", "multipart/form-data; boundary=a; boundary=b", "Multipart/Form-Data",
		"multipart/mixed", "MULTIPART/form-data; boundary=\"unterminated"} {
		for _, p := range []string{"/.mfa/login", "/.mfa/push/approve"} {
			head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nAccept: text/html\r\nContent-Type: %s\r\nContent-Length: 4\r\n\r\n--a-", p, u.Host, ct)
			if status, _ := rawRequest(t, g, head); !strings.Contains(status, " 415 ") {
				t.Errorf("POST %s as %q: %q, want 415", p, ct, status)
			}
		}
	}
	req, _ = http.NewRequest(http.MethodPost, g.URL+"/.mfa/login", strings.NewReader("--x--"))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=")
	expectPage(t, b.do(req), http.StatusUnsupportedMediaType, "as an upload")
}
