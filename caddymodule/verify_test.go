package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
)

// verifyHandler is a verify endpoint in mode, with the portal at
// https://login.example.com and example.com as cookie domain.
func verifyHandler(t *testing.T, mode string, h *Handler) *Handler {
	t.Helper()
	h.Verify = mode
	h = testHandler(t, h)
	h.app.public = "https://login.example.com"
	h.app.returnHosts = challenge.ReturnHosts{Domain: "example.com", Hosts: []string{"login.example.com"}}
	return h
}

// verifyRequest is a proxy's question about an original GET of
// https://app.example.com/page?x=1, from a trusted proxy or not.
func verifyRequest(trusted bool, c *http.Cookie, header ...string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/verify", nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("X-Forwarded-Method", "GET")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-Host", "app.example.com")
	req.Header.Set("X-Forwarded-Uri", "/page?x=1")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if c != nil {
		req.AddCookie(c)
	}
	vars := map[string]any{caddyhttp.TrustedProxyVarKey: trusted}
	return req.WithContext(context.WithValue(req.Context(), caddyhttp.VarsCtxKey, vars))
}

func serveVerifyTest(t *testing.T, h *Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		t.Fatal("a verify endpoint passed the request on")
		return nil
	})
	if err := h.ServeHTTP(rec, req, next); err != nil {
		t.Fatal(err)
	}
	return rec
}

const loginWithReturn = "https://login.example.com/.mfa/login?rd=" + "https%3A%2F%2Fapp.example.com%2Fpage%3Fx%3D1"

func TestVerifyForwardAuthRedirectsToThePortal(t *testing.T) {
	h := verifyHandler(t, verifyForwardAuth, &Handler{})
	rec := serveVerifyTest(t, h, verifyRequest(true, nil))
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != loginWithReturn {
		t.Fatalf("status %d, Location %q; want 302 to %s", rec.Code, rec.Header().Get("Location"), loginWithReturn)
	}
	// An XHR (or a POST) is not sent to a login page.
	rec = serveVerifyTest(t, h, verifyRequest(true, nil, "Accept", "application/json"))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("XHR: status %d, want 401", rec.Code)
	}
	rec = serveVerifyTest(t, h, verifyRequest(true, nil, "X-Forwarded-Method", "POST"))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("POST: status %d, want 401", rec.Code)
	}
}

func TestVerifyAuthRequestAnswers401WithLocation(t *testing.T) {
	h := verifyHandler(t, verifyAuthRequest, &Handler{})
	req := verifyRequest(true, nil, "X-Original-URL", "https://wiki.example.com/a", "X-Original-Method", "GET")
	rec := serveVerifyTest(t, h, req)
	want := "https://login.example.com/.mfa/login?rd=" + url.QueryEscape("https://wiki.example.com/a")
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("Location") != want {
		t.Fatalf("status %d, Location %q; want 401 with %s", rec.Code, rec.Header().Get("Location"), want)
	}
}

func TestVerifyIgnoresForwardedHeadersFromUntrustedClients(t *testing.T) {
	h := verifyHandler(t, verifyForwardAuth, &Handler{})
	rec := serveVerifyTest(t, h, verifyRequest(false, nil))
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusFound || loc != "https://login.example.com/.mfa/login" {
		t.Fatalf("untrusted: status %d, Location %q; want 302 to the login page without a return URL", rec.Code, loc)
	}
	// A spoofed method does not turn a navigation into something else either.
	rec = serveVerifyTest(t, h, verifyRequest(false, nil, "X-Forwarded-Method", "POST"))
	if rec.Code != http.StatusFound {
		t.Fatalf("untrusted spoofed method: status %d, want 302", rec.Code)
	}
}

func TestVerifyRefusesReturnURLsElsewhere(t *testing.T) {
	h := verifyHandler(t, verifyAuthRequest, &Handler{})
	for _, bad := range []string{"https://evil.com/", "https://app.example.com.evil.com/", "http://app.example.com/", "https://evil.com\\@app.example.com/"} {
		rec := serveVerifyTest(t, h, verifyRequest(true, nil, "X-Original-URL", bad))
		if loc := rec.Header().Get("Location"); loc != "https://login.example.com/.mfa/login" {
			t.Errorf("return to %q: Location %q, want the login page without it", bad, loc)
		}
	}
}

func TestVerifySignedInAnswers200WithIdentity(t *testing.T) {
	h := verifyHandler(t, verifyForwardAuth, &Handler{AllowGroups: []string{"staff"}})
	c := signedInCookie(t, h, "alice")
	req := verifyRequest(true, c, "Remote-User", "mallory")
	rec := serveVerifyTest(t, h, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", rec.Code, rec.Body)
	}
	want := map[string]string{"Remote-User": "alice", "Remote-Groups": "staff", "Remote-Name": "Alice", "Remote-Email": "a@example.com"}
	for k, v := range want {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	// Signed in, from a client that is no trusted proxy: the answer rests
	// on the cookie alone, so it is the same.
	if rec := serveVerifyTest(t, h, verifyRequest(false, c)); rec.Code != http.StatusOK {
		t.Fatalf("untrusted, signed in: status %d, want 200", rec.Code)
	}
}

func TestVerifyForbidsUsersOutsideTheLists(t *testing.T) {
	for _, mode := range []string{verifyForwardAuth, verifyAuthRequest} {
		h := verifyHandler(t, mode, &Handler{AllowUsers: []string{"bob"}})
		rec := serveVerifyTest(t, h, verifyRequest(true, signedInCookie(t, h, "alice")))
		if rec.Code != http.StatusForbidden || rec.Header().Get("Remote-User") != "" {
			t.Fatalf("%s: status %d, Remote-User %q; want 403 without identity", mode, rec.Code, rec.Header().Get("Remote-User"))
		}
	}
}

func TestVerifyTrustedNetworksOnlyThroughTrustedProxies(t *testing.T) {
	h := verifyHandler(t, verifyForwardAuth, &Handler{TrustedNetworks: []string{"192.0.2.0/24"}})
	h.setupPolicy()
	req := verifyRequest(false, nil)
	req.RemoteAddr = "192.0.2.1:1234"
	if h.needs(req) != session.OneFactor {
		t.Fatal("the test's network is not trusted by the route")
	}
	if got := h.verifyNeeds(req); got != session.TwoFactor {
		t.Fatalf("untrusted proxy from a trusted network: level %d, want two factors", got)
	}
}

func TestVerifyOptionChecked(t *testing.T) {
	if err := (&Handler{Verify: "basic"}).Validate(); err == nil {
		t.Fatal("verify basic accepted")
	}
	if err := (&Handler{Verify: verifyAuthRequest}).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyCaddyfile(t *testing.T) {
	var h Handler
	if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser("mfa {\n verify auth_request\n allow_groups staff\n}")); err != nil {
		t.Fatal(err)
	}
	if h.Verify != verifyAuthRequest {
		t.Fatalf("Verify = %q", h.Verify)
	}
	if err := new(Handler).UnmarshalCaddyfile(caddyfile.NewTestDispenser("mfa {\n verify sideways\n}")); err == nil {
		t.Fatal("verify sideways accepted")
	}
	var a App
	if err := a.UnmarshalCaddyfile(caddyfile.NewTestDispenser("mfa {\n allowed_return_hosts wiki.example.org app.example.net\n}")); err != nil {
		t.Fatal(err)
	}
	hosts, err := a.buildReturnHosts(caddy.NewReplacer())
	if err != nil || len(hosts.Hosts) != 2 || !hosts.Allows("app.example.net") {
		t.Fatalf("return hosts %+v, %v", hosts, err)
	}
	for _, bad := range []string{"evil.com/x", "user@evil.com", "Evil.com:443", "exаmple.com"} {
		a := App{AllowedReturnHosts: []string{bad}}
		if _, err := a.buildReturnHosts(caddy.NewReplacer()); err == nil {
			t.Errorf("allowed_return_hosts %q accepted", bad)
		}
	}
}

func TestPortalReturnsToAllowedHostsOnly(t *testing.T) {
	h := testHandler(t, &Handler{})
	h.app.returnHosts = challenge.ReturnHosts{Domain: "example.com"}
	if err := h.setup(h.app); err != nil { // the portal takes the app's hosts
		t.Fatal(err)
	}
	for rd, want := range map[string]string{
		"https://app.example.com/page?x=1": `value="https://app.example.com/page?x=1"`,
		"https://evil.com/":                `name="rd" value="/"`,
		"https://app.example.com.evil.com": `name="rd" value="/"`,
	} {
		req := httptest.NewRequest(http.MethodGet, "/.mfa/login?rd="+url.QueryEscape(rd), nil)
		rec := httptest.NewRecorder()
		if err := h.ServeHTTP(rec, req, nil); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("login page for rd=%s lacks %s", rd, want)
		}
	}
}
