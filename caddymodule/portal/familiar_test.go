package portal

import (
	"bytes"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/cookies"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
	"github.com/caddy-mfa/caddy-mfa/challenge/seal"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// TestFamiliarCookie: after a complete sign-in the browser gets the
// familiar-browser cookie with the session cookie's attributes, __Host-
// and Secure under TLS (or secure_cookies), and a request that brings it
// back is a familiar source for that user only; the address is familiar too.
func TestFamiliarCookie(t *testing.T) {
	keys, err := seal.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		tls, always  bool
		cookie       string
		secure       bool
		plainIgnored bool
	}{
		{"plain http", false, false, "caddy_mfa_familiar", false, false},
		{"tls", true, false, "__Host-caddy_mfa_familiar", true, true},
		{"secure_cookies behind a proxy", false, true, "__Host-caddy_mfa_familiar", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &challenge.Engine{Keys: keys, Now: time.Now,
				Regulation: regulation.New(regulation.DefaultLimits(), limit.NewMemory(), store.NewMemoryKV(), time.Now)}
			// With a cookie domain: only the session cookie takes it.
			p := &Portal{engine: e, cookies: cookies.New("", "example.com", tc.always, false)}
			req := func() *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/.mfa/challenge", nil)
				r.RemoteAddr = "192.0.2.9:4444"
				if tc.tls {
					r.TLS = &tls.ConnectionState{}
				}
				return r
			}
			w := httptest.NewRecorder()
			if err := p.signedInHere(&request{w: w, r: req()}, "alice"); err != nil {
				t.Fatal(err)
			}
			cs := w.Result().Cookies()
			if len(cs) != 1 {
				t.Fatalf("cookies set: %v", cs)
			}
			c := cs[0]
			if c.Name != tc.cookie || c.Secure != tc.secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
				c.Path != "/" || c.Domain != "" || c.MaxAge != int(challenge.FamiliarFor.Seconds()) {
				t.Fatalf("cookie %+v", c)
			}
			back := req()
			back.AddCookie(c)
			if src := p.passwordSource(back, "alice"); !src.Familiar() || src.Addr != "192.0.2.9" {
				t.Fatalf("source of the cookie's browser: %+v", src)
			}
			if src := p.passwordSource(back, "bob"); src.Familiar() {
				t.Fatal("familiar for a user who never signed in there")
			}
			if tc.plainIgnored {
				// A plain-named copy (planted by a sibling, or a plain hop)
				// is not read under TLS.
				planted := req()
				planted.AddCookie(&http.Cookie{Name: "caddy_mfa_familiar", Value: c.Value})
				if p.passwordSource(planted, "alice").Familiar() {
					t.Fatal("a plain-named cookie is read under TLS")
				}
			}
			// The address of the sign-in is familiar now.
			v, a, err := e.Regulation.BeforePassword(back.Context(), "alice", regulation.PasswordSource{Addr: "192.0.2.9"})
			if err != nil || !v.Allowed || a.Familiarity() != "address" {
				t.Fatalf("the address of the sign-in: %+v %q %v", v, a.Familiarity(), err)
			}
		})
	}
}
