package portal

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signInOver posts the login form over real HTTP (a fresh browser each
// time: its own cookie jar, so no familiar-browser cookie helps), and
// returns the status and the session user it ended with.
func signInOver(t *testing.T, srv *httptest.Server, username, password string) int {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(srv.URL + "/.mfa/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the login page (%d)", res.StatusCode)
	}
	form := url.Values{"csrf": {string(m[1])}, "username": {username}, "password": {password}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/.mfa/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func portalServer(t *testing.T, p *Portal) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
		if err := p.Serve(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// With search_email and case_insensitive, Alice, alice and
// alice@example.com are one user for the lockout too: five wrong passwords
// spread over the three spellings lock Alice out (the default is five from
// one source), and the right password under any spelling is then refused.
func TestLockoutCountsTheCanonicalName(t *testing.T) {
	hash, err := users.HashPassword("pw", users.DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	yml := "users:\n  Alice:\n    email: alice@Example.com\n    password: \"" + hash + "\"\n  bob:\n    password: \"" + hash + "\"\n"
	p := testPortalUsers(t, yml, users.Options{SearchEmail: true, CaseInsensitive: true})
	srv := portalServer(t, p)

	// Each spelling signs in, as Alice (a redirect onward, not the form again).
	for _, typed := range []string{"Alice", "alice", "ALICE@example.com"} {
		if code := signInOver(t, srv, typed, "pw"); code != http.StatusSeeOther && code != http.StatusFound {
			t.Fatalf("%q with the right password: %d, want a redirect", typed, code)
		}
	}
	for i, typed := range []string{"Alice", "alice", "alice@example.com", "ALICE", "Alice@EXAMPLE.com"} {
		if code := signInOver(t, srv, typed, "wrong"); code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d (%q): %d, want 401", i+1, typed, code)
		}
	}
	for _, typed := range []string{"Alice", "alice", "alice@example.com"} {
		if code := signInOver(t, srv, typed, "pw"); code != http.StatusTooManyRequests {
			t.Errorf("%q with the right password after five wrong ones over three spellings: %d, want 429 (locked out)", typed, code)
		}
	}
	// bob is not affected.
	if code := signInOver(t, srv, "bob", "pw"); code != http.StatusSeeOther && code != http.StatusFound {
		t.Errorf("bob after Alice's lockout: %d", code)
	}
}
