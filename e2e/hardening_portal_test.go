package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/internal/ntfytest"
	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// Issue 14, items 1, 8, 11 and 13: how the portal handles requests. A
// request body on a GET is never read; a GET never changes the session; a
// prompt names the site from configuration, never from the Host header;
// the static folder lists nothing.

// portalGETs are the portal's GET pages (the route table's GET routes,
// with the static assets and the approval page, which are served before
// it). The long polls answer at once when nothing is pending.
var portalGETs = []string{
	"/.mfa/", "/.mfa/login", "/.mfa/login?rd=/elsewhere", "/.mfa/setup", "/.mfa/setup/totp", "/.mfa/setup/totp/qr.png",
	"/.mfa/challenge", "/.mfa/challenge?method=recovery", "/.mfa/challenge/wait", "/.mfa/call/status",
	"/.mfa/setup/phone?method=sms", "/.mfa/setup/phone/code", "/.mfa/setup/phone/wait",
	"/.mfa/setup/key", "/.mfa/setup/push", "/.mfa/setup/push/qr.png", "/.mfa/setup/push/wait",
	"/.mfa/challenge/push", "/.mfa/push/status", "/.mfa/security",
	"/.mfa/static/style.css", "/.mfa/push/approve",
}

// dirBytes is the size of every file under dir, and their names.
func dirBytes(t *testing.T, dir string) (int64, []string) {
	t.Helper()
	var n int64
	var names []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n += info.Size()
		names = append(names, filepath.Base(path))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, names
}

// repeatByte is an endless stream of one byte.
type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// multipartBody is a multipart/form-data body with one file of size bytes,
// streamed (the test does not hold it in memory), and its content type.
func multipartBody(size int64) (io.Reader, int64, string) {
	const boundary = "hardeningboundary0123456789"
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"replace\"; filename=\"big.bin\"\r\n" +
		"Content-Type: application/octet-stream\r\n\r\n"
	tail := "\r\n--" + boundary + "--\r\n"
	body := io.MultiReader(strings.NewReader(head), io.LimitReader(repeatByte('a'), size), strings.NewReader(tail))
	return body, int64(len(head)) + size + int64(len(tail)), "multipart/form-data; boundary=" + boundary
}

// getWithBody sends GET path with a multipart body of size bytes, with b's
// cookies. The gateway may close the connection without reading the body,
// so a transport error is no failure here; what the gateway spent is
// measured by the caller.
func (b *browser) getWithBody(path string, size int64) (int, error) {
	body, n, ct := multipartBody(size)
	req, err := http.NewRequest(http.MethodGet, b.g.URL+path, body)
	if err != nil {
		return 0, err
	}
	req.ContentLength = n
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Accept", "text/html")
	c := &http.Client{Jar: b.client.Jar, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// TestHardeningPortalGETBody (item 1): ten parallel GETs, each with a 64 MB
// multipart body, to the phone form (which read a form value), and then
// one such GET to every GET page at once, cost the gateway at most 32 MB of memory (RSS sampled
// through the attack, from /proc/PID/status) and leave 0 bytes in its temp
// dir. A multipart POST gets a clear 415 page. Not parallel: TMPDIR is set
// for the Caddy process through the environment.
func TestHardeningPortalGETBody(t *testing.T) {
	const (
		bodySize  = 64 << 20
		parallel  = 10
		rssBound  = 32 << 20 // bytes: the stated bound on RSS growth
		tempBound = 0        // bytes left in the temp dir
	)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	g, _ := startPhoneGateway(t, "development\n sms log\n")
	pid := g.cmd.Process.Pid
	b := g.newBrowser()
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/setup")
	expectText(t, b.get("/.mfa/setup/phone?method=sms"), "Set up your phone") // a page that reads replace/masked
	for _, p := range portalGETs {
		b.get(p) // warm up every page once
	}
	tempBefore, _ := dirBytes(t, tmp)

	attack := func(name string, paths []string) {
		t.Helper()
		before, err := readRSS(pid)
		if err != nil {
			t.Fatal(err)
		}
		sampler := sampleRSS(pid, 10*time.Millisecond, before)
		start := time.Now()
		var wg sync.WaitGroup
		n := max(parallel, len(paths)) // every path once, at least parallel at a time
		for i := range n {
			wg.Add(1)
			go func(path string) {
				defer wg.Done()
				_, _ = b.getWithBody(path, bodySize)
			}(paths[i%len(paths)])
		}
		wg.Wait()
		time.Sleep(200 * time.Millisecond) // let the gateway finish what it does after answering
		peak := sampler.Stop(pid)
		t.Logf("%s: %d parallel GETs with a %d MB body in %v: RSS %d MB before, peak %d MB (+%d MB; bound +%d MB)",
			name, n, bodySize>>20, time.Since(start).Round(time.Millisecond), before>>20, peak>>20, (peak-before)>>20, rssBound>>20)
		if peak-before > rssBound {
			t.Errorf("%s: RSS grew by %d MB, over the bound of %d MB", name, (peak-before)>>20, rssBound>>20)
		}
		after, names := dirBytes(t, tmp)
		t.Logf("%s: temp dir %d bytes before, %d after %v", name, tempBefore, after, names)
		if after-tempBefore > tempBound {
			t.Errorf("%s: %d bytes left in the temp dir (%d files): bound %d", name, after-tempBefore, len(names), tempBound)
		}
		tempBefore = after
	}
	attack("phone form", []string{"/.mfa/setup/phone?method=sms"})
	attack("every GET page", portalGETs)

	// The pages still work, and signed-out visitors are no different.
	expectText(t, b.get("/.mfa/setup/phone?method=sms"), "Set up your phone")
	anon := g.newBrowser()
	if _, err := anon.getWithBody("/.mfa/login", 1<<20); err != nil {
		t.Logf("anonymous GET with a body: %v", err)
	}

	// A multipart POST is refused with a page that says why, unread.
	body, n, ct := multipartBody(1 << 20)
	req, err := http.NewRequest(http.MethodPost, g.URL+"/.mfa/login", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = n
	req.Header.Set("Content-Type", ct)
	r := anon.do(req)
	expectStatus(t, r, http.StatusUnsupportedMediaType)
	expectText(t, r, "This form was sent in a way the sign-in pages do not accept")
	if after, names := dirBytes(t, tmp); after != tempBefore {
		t.Errorf("multipart POST left %d bytes in the temp dir: %v", after-tempBefore, names)
	}
}

// sessionRecords is every session record under prefix in Redis, decoded,
// without LastSeen: the idle timer is refreshed by any request once a
// minute, which is not a change a request can choose.
func sessionRecords(t *testing.T, rdb redis.UniversalClient, prefix string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	iter := rdb.Scan(ctx, 0, prefix+"session:*", 100).Iterator()
	for iter.Next(ctx) {
		v, err := rdb.Get(ctx, iter.Val()).Bytes()
		if err == redis.Nil {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var d session.Data
		if err := d.UnmarshalBinary(v); err != nil {
			t.Fatalf("%s: %v", iter.Val(), err)
		}
		d.LastSeen = 0
		out[iter.Val()] = fmt.Sprintf("%+v", d)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// getChangesNothing GETs every portal page as b, cross-site, and fails if
// a session record in Redis or b's session cookie changed, or a response
// set the session cookie.
func getChangesNothing(t *testing.T, b *browser, rdb redis.UniversalClient, prefix, state string) {
	t.Helper()
	for _, p := range portalGETs {
		before, cookie := sessionRecords(t, rdb, prefix), b.sessionCookie()
		r := b.get(p, "Sec-Fetch-Site", "cross-site", "Referer", "https://evil.example/")
		for _, c := range r.Header.Values("Set-Cookie") {
			if strings.HasPrefix(c, "caddy_mfa=") {
				t.Errorf("%s: GET %s set the session cookie: %s", state, p, c)
			}
		}
		after := sessionRecords(t, rdb, prefix)
		if fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("%s: GET %s (%d) changed the session records:\nbefore %q\nafter  %q", state, p, r.StatusCode, before, after)
		}
		if b.sessionCookie() != cookie {
			t.Errorf("%s: GET %s changed the session cookie", state, p)
		}
	}
}

// TestHardeningPortalGETKeepsSession (item 8): a cross-site GET of
// /.mfa/setup with a second factor older than 10 minutes leaves the
// session signed in with both factors; a step-up happens only on a POST
// with the CSRF token. And no GET of any portal page, in any state of the
// session, changes its record in the store or its cookie.
func TestHardeningPortalGETKeepsSession(t *testing.T) {
	t.Parallel()
	global, rdb, prefix := redisGlobal(t, redistest.Addr())
	g := startGateway(t, gatewayOpts{global: global})

	b := g.newBrowser()
	e := b.firstSignIn("alice", "/")
	getChangesNothing(t, b, rdb, prefix, "two factors")

	// Eleven minutes on: a page from another site links to the setup page.
	ageSecondFactor(t, rdb, prefix, "alice", 11*time.Minute)
	before := sessionRecords(t, rdb, prefix)
	page := b.get("/.mfa/setup", "Sec-Fetch-Site", "cross-site", "Referer", "https://evil.example/")
	if fmt.Sprint(sessionRecords(t, rdb, prefix)) != fmt.Sprint(before) {
		t.Error("a cross-site GET of /.mfa/setup changed the session")
	}
	b.signedIn("alice", "/") // still two factors
	getChangesNothing(t, b, rdb, prefix, "stale second factor")
	// The page asks to confirm with a button: a POST with the CSRF token.
	expectStatus(t, page, http.StatusOK)
	expectText(t, page, `action="/.mfa/security/verify"`, "Confirm it")
	expectStatus(t, b.post("/.mfa/security/verify", url.Values{"csrf": {"forged"}}), http.StatusForbidden)
	b.signedIn("alice", "/")
	expectRedirect(t, b.post("/.mfa/security/verify", url.Values{"csrf": {csrfOf(t, page.Body)}}), "/.mfa/challenge")
	if len(g.waitLog("step_up_required", `"user":"alice"`)) == 0 {
		t.Error("step-up not in the log")
	}
	// Password given, second factor asked for: GETs change nothing either.
	getChangesNothing(t, b, rdb, prefix, "step-up")
	back := expectStepUpReturn(t, b.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, b.get("/.mfa/challenge?method=recovery").Body)},
		"method": {"recovery"}, "code": {e.Codes[0]}}))
	expectRedirect(t, b.get(back), "/.mfa/security") // the button named no page to come back to
	fresh := b.get("/.mfa/setup")                    // fresh again: the choice of methods
	expectStatus(t, fresh, http.StatusOK)
	expectNoText(t, fresh, "security/verify")

	// Only the password, no method yet (bob): still nothing.
	bob := g.newBrowser()
	expectRedirect(t, bob.login("bob", testPassword, "/wiki"), "/.mfa/setup")
	getChangesNothing(t, bob, rdb, prefix, "one factor")
	// And signed out.
	getChangesNothing(t, g.newBrowser(), rdb, prefix, "anonymous")
}

// forgedHost sends every request of b with Host set to host.
type forgedHost struct {
	host string
	next http.RoundTripper
}

func (f forgedHost) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Host = f.host
	return f.next.RoundTrip(r)
}

// TestHardeningPortalPushNamesConfiguredSite (item 11): a client that
// reaches a catch-all site with a forged Host header gets a prompt that
// names the configured site (public_url), never the forged host; on a
// site with a configured host name, the prompt names that.
func TestHardeningPortalPushNamesConfiguredSite(t *testing.T) {
	t.Parallel()
	const forged = "hr-portal.example.com"
	f := ntfytest.New(t, ntfyToken)
	catchAll := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	public := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	g := startGateway(t, gatewayOpts{
		global: "public_url " + public + "\n" + ntfyBlock(f) + limitsBlock("push_per_user 10/5m"),
		extraSites: public + " {\n\tmfa\n\trespond \"not the app\" 404\n}\n" +
			"http://:" + strings.TrimPrefix(catchAll, "http://127.0.0.1:") + " {\n\tmfa\n\trespond \"the app\" 200\n}\n",
	})
	topic, _ := g.newBrowser().enrolPush(f, "bob")

	// The catch-all site, with a forged Host on every request.
	ga := *g
	ga.URL = catchAll
	s := ga.newBrowser()
	s.client.Transport = forgedHost{host: forged, next: http.DefaultTransport}
	s.sendPush("bob")
	msg := f.WaitMessage(t, topic, sendTimeout)
	all := fmt.Sprintf("%+v", msg)
	if strings.Contains(all, forged) || strings.Contains(all, "hr-portal") {
		t.Errorf("the prompt names the forged Host:\n%s", all)
	}
	want := strings.TrimPrefix(public, "http://")
	if !strings.Contains(msg.Message, "signing in to "+want) {
		t.Errorf("prompt %q does not name public_url's site %s", msg.Message, want)
	}
	page := newPhone(t).open(msg.Click)
	expectNoText(t, page, forged)
	expectText(t, page, want)

	// The site with a host name of its own is named by it, port and all.
	s2 := g.newBrowser()
	s2.sendPush("bob")
	msg = f.WaitMessage(t, topic, sendTimeout)
	if host := strings.TrimPrefix(g.URL, "http://"); !strings.Contains(msg.Message, "signing in to "+host) {
		t.Errorf("prompt %q does not name the site %s", msg.Message, host)
	}

	// Item 8 on the way: another page of the app opened between the two
	// factors is carried through the prompt's pages (not saved by a GET)
	// and is where the approved sign-in goes.
	s3 := g.newBrowser()
	s3.passwordOnly("bob", "/")
	expectRedirect(t, s3.get("/reports/9"), "/.mfa/login?rd=%2Freports%2F9")
	expectRedirect(t, s3.get("/.mfa/login?rd=%2Freports%2F9"), "/.mfa/challenge?rd=%2Freports%2F9")
	start := s3.get("/.mfa/challenge?method=push&rd=%2Freports%2F9")
	expectText(t, start, `name="rd" value="/reports/9"`)
	expectRedirect(t, s3.post("/.mfa/challenge/send", url.Values{"csrf": {csrfOf(t, start.Body)}, "method": {"push"}, "rd": {"/reports/9"}}),
		"/.mfa/challenge/push?rd=%2Freports%2F9")
	msg = f.WaitMessage(t, topic, sendTimeout)
	wait := s3.get("/.mfa/challenge/push?rd=%2Freports%2F9")
	expectText(t, wait, `name="rd" value="/reports/9"`)
	expectStatus(t, newPhone(t).answer(msg.Click, "approve", numberOf(t, wait)), http.StatusOK)
	expectRedirect(t, s3.post("/.mfa/challenge/push", url.Values{"csrf": {csrfOf(t, wait.Body)}, "rd": {"/reports/9"}}), "/reports/9")
}

// TestHardeningPortalStaticNoListing (item 13): the static folder and any
// folder under it answer 404, without a listing; files are still served.
func TestHardeningPortalStaticNoListing(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gatewayOpts{})
	b := g.newBrowser()
	for _, p := range []string{"/.mfa/static/", "/.mfa/static/./", "/.mfa/static//", "/.mfa/static/sub/", "/.mfa/static/?C=N;O=D"} {
		r := b.get(p)
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, r.StatusCode)
		}
		for _, f := range []string{"style.css", "webauthn.js", "approve.js", "wait.js"} {
			if strings.Contains(r.Body, f) {
				t.Errorf("GET %s lists %s:\n%s", p, f, tail(r.Body, 500))
			}
		}
	}
	r := b.get("/.mfa/static/style.css")
	expectStatus(t, r, http.StatusOK)
	if !bytes.Contains([]byte(r.Body), []byte("{")) {
		t.Errorf("style.css: %q", tail(r.Body, 200))
	}
}
