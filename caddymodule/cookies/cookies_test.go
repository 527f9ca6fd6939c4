package cookies

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

func policyRequest(useTLS bool, cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/", nil)
	if useTLS {
		r.TLS = &tls.ConnectionState{}
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

// The session cookie, through the real session store: __Host- under TLS
// (or secure_cookies) unless a cookie domain shares it; always HttpOnly,
// SameSite=Lax, Path=/, the session lifetime; read back only under its
// name.
func TestSessionCookieFollowsThePolicy(t *testing.T) {
	for _, tt := range []struct {
		name        string
		tls, always bool
		domain      string
		wantName    string
		wantSecure  bool
		wantDomain  string
	}{
		{name: "plain HTTP", wantName: "caddy_mfa"},
		{name: "TLS, host only", tls: true, wantName: "__Host-caddy_mfa", wantSecure: true},
		{name: "TLS, shared domain", tls: true, domain: "example.com", wantName: "caddy_mfa", wantSecure: true, wantDomain: "example.com"},
		{name: "secure_cookies behind a TLS proxy", always: true, wantName: "__Host-caddy_mfa", wantSecure: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := New("", tt.domain, tt.always, false)
			s, err := session.NewStore(session.Config{Cookies: p.SessionCookies(), Idle: time.Hour, Lifetime: 2 * time.Hour,
				HashKeys: [][]byte{make([]byte, 64)}}, store.NewMemoryKV())
			if err != nil {
				t.Fatal(err)
			}
			r := policyRequest(tt.tls)
			sess, _ := s.New(r, "mfa")
			session.DataOf(sess).User = "alice"
			rec := httptest.NewRecorder()
			if err := s.Save(r, rec, sess); err != nil {
				t.Fatal(err)
			}
			cs := rec.Result().Cookies()
			if len(cs) != 1 {
				t.Fatalf("%d cookies", len(cs))
			}
			c := cs[0]
			if c.Name != tt.wantName || c.Secure != tt.wantSecure || c.Domain != tt.wantDomain || !c.HttpOnly ||
				c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 7200 {
				t.Fatalf("cookie %s Secure=%v Domain=%q HttpOnly=%v SameSite=%v Path=%q MaxAge=%d; want %s Secure=%v Domain=%q HttpOnly, Lax, /, 7200",
					c.Name, c.Secure, c.Domain, c.HttpOnly, c.SameSite, c.Path, c.MaxAge, tt.wantName, tt.wantSecure, tt.wantDomain)
			}
			if _, d, _ := s.Lookup(policyRequest(tt.tls, c)); d == nil || d.User != "alice" {
				t.Fatalf("the cookie does not find its session: %+v", d)
			}
			if tt.wantName != "caddy_mfa" {
				// A plain-named copy (planted by a sibling) is never read.
				if _, d, _ := s.Lookup(policyRequest(tt.tls, &http.Cookie{Name: "caddy_mfa", Value: c.Value})); d != nil {
					t.Fatal("the plain-named cookie is read where the policy names it __Host-")
				}
			}
		})
	}
}

// The portal's other cookies: host-only even with a cookie domain (so
// __Host- under TLS), Secure under TLS or secure_cookies, HttpOnly, Path=/,
// Lax (Strict for the push claim), and read only under that name.
func TestPortalCookiesFollowThePolicy(t *testing.T) {
	for _, tt := range []struct {
		name             string
		tls, always, pub bool
		kind             func(p *Policy) *Kind
		wantName         string
		wantSecure       bool
		wantSameSite     http.SameSite
	}{
		{"device, plain", false, false, false, func(p *Policy) *Kind { return &p.Device }, "caddy_mfa_device", false, http.SameSiteLaxMode},
		{"device, TLS", true, false, false, func(p *Policy) *Kind { return &p.Device }, "__Host-caddy_mfa_device", true, http.SameSiteLaxMode},
		{"device, secure_cookies", false, true, false, func(p *Policy) *Kind { return &p.Device }, "__Host-caddy_mfa_device", true, http.SameSiteLaxMode},
		{"pre-session, plain", false, false, false, func(p *Policy) *Kind { return &p.Pre }, "caddy_mfa_pre", false, http.SameSiteLaxMode},
		{"pre-session, TLS", true, false, false, func(p *Policy) *Kind { return &p.Pre }, "__Host-caddy_mfa_pre", true, http.SameSiteLaxMode},
		{"push claim, plain", false, false, false, func(p *Policy) *Kind { return &p.Claim }, "caddy_mfa_push", false, http.SameSiteStrictMode},
		{"push claim, https public_url", false, false, true, func(p *Policy) *Kind { return &p.Claim }, "__Host-caddy_mfa_push", true, http.SameSiteStrictMode},
		{"push claim, TLS", true, false, false, func(p *Policy) *Kind { return &p.Claim }, "__Host-caddy_mfa_push", true, http.SameSiteStrictMode},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := New("", "example.com", tt.always, tt.pub)
			k := tt.kind(p)
			rec := httptest.NewRecorder()
			p.Set(rec, policyRequest(tt.tls), k, "v1", 60)
			cs := rec.Result().Cookies()
			if len(cs) != 1 {
				t.Fatalf("%d cookies", len(cs))
			}
			c := cs[0]
			if c.Name != tt.wantName || c.Secure != tt.wantSecure || c.Domain != "" || !c.HttpOnly ||
				c.SameSite != tt.wantSameSite || c.Path != "/" || c.MaxAge != 60 {
				t.Fatalf("cookie %s Secure=%v Domain=%q HttpOnly=%v SameSite=%v Path=%q MaxAge=%d; want %s Secure=%v, host only, HttpOnly, %v, /, 60",
					c.Name, c.Secure, c.Domain, c.HttpOnly, c.SameSite, c.Path, c.MaxAge, tt.wantName, tt.wantSecure, tt.wantSameSite)
			}
			if got := p.Value(policyRequest(tt.tls, c), k); got != "v1" {
				t.Fatalf("value read back %q, want v1", got)
			}
			if c.Name != k.base {
				if got := p.Value(policyRequest(tt.tls, &http.Cookie{Name: k.base, Value: "planted"}), k); got != "" {
					t.Fatalf("the plain-named cookie %s is read where the policy names it %s: %q", k.base, c.Name, got)
				}
			}
		})
	}
}

func TestStripOwnCookiesKeepsTheAppsCookies(t *testing.T) {
	p := New("", "", false, false)
	for _, c := range []struct{ in, want []string }{
		{[]string{"caddy_mfa=abc"}, nil},
		{[]string{"app=1; caddy_mfa=abc; theme=dark"}, []string{"app=1; theme=dark"}},
		{[]string{"caddy_mfa=abc", "app=1"}, []string{"app=1"}},
		{[]string{"caddy_mfa_pre=x; caddy_mfa=abc"}, nil},
		{[]string{"xcaddy_mfa=1;caddy_mfa=2;"}, []string{"xcaddy_mfa=1"}},
		{[]string{"app=1"}, []string{"app=1"}},
		{[]string{"app_session=1; caddy_mfa_device=t1.t2; __Host-caddy_mfa_device=t; caddy_mfa_push=c; __Host-caddy_mfa_push=c"}, []string{"app_session=1"}},
		{[]string{"__Host-caddy_mfa=s", "a=1; __Host-caddy_mfa_pre=p", "caddy_mfa_familiar=f; b=2", "__Host-caddy_mfa_familiar=f"}, []string{"a=1", "b=2"}},
		{[]string{" caddy_mfa_device = t ; app=1"}, []string{"app=1"}},
		{[]string{"caddy_mfa_devicex=1; caddy_mfa_=2"}, []string{"caddy_mfa_devicex=1; caddy_mfa_=2"}},
		{[]string{"a=1; b=2; caddy_mfa=s"}, []string{"a=1; b=2"}},
		{[]string{"caddy_mfa=s;a=1;  b=2 "}, []string{"a=1;  b=2"}},
		{[]string{"a=1;; b=2; caddy_mfa=s"}, []string{"a=1; b=2"}},
		{[]string{"a=1; caddy_mfa=s; caddy_mfa_pre=p; b=2"}, []string{"a=1; b=2"}},
		{[]string{"caddy_mfa=s; ; caddy_mfa_pre=p"}, nil},
		{[]string{"caddy_mfa=s;\u3000\x80\x80; b=1"}, []string{"\x80\x80; b=1"}},
	} {
		h := http.Header{"Cookie": append([]string(nil), c.in...)}
		p.StripOwn(h)
		if got := h["Cookie"]; !slices.Equal(got, c.want) {
			t.Errorf("%q: Cookie %q, want %q", c.in, got, c.want)
		}
	}
	// A configured session cookie name is stripped under both names.
	named := New("sso", "", false, false)
	h := http.Header{"Cookie": {"sso=1; __Host-sso=2; caddy_mfa=3"}}
	named.StripOwn(h)
	if got := h["Cookie"]; !slices.Equal(got, []string{"caddy_mfa=3"}) {
		t.Errorf("session cookie sso: Cookie %q, want only caddy_mfa=3 (not the gateway's under that configuration)", got)
	}
}

// The hot path: Cookie headers without any of the gateway's cookies are
// left as they are, with no allocation.
func TestStripOwnCookiesAllocatesNothingWithoutThem(t *testing.T) {
	p := New("", "", false, false)
	h := http.Header{"Cookie": {"app_session=xxxxxxxxxxxxxxxxxxxxxxxx; theme=dark; lang=en", "other=1"}}
	want := slices.Clone(h["Cookie"])
	if n := testing.AllocsPerRun(100, func() { p.StripOwn(h) }); n != 0 {
		t.Fatalf("%v allocations per request without gateway cookies, want 0", n)
	}
	if !slices.Equal(h["Cookie"], want) {
		t.Fatalf("Cookie changed to %q", h["Cookie"])
	}
}

// The gateway's cookie first or last among the app's (what browsers send)
// is cut out with no allocation.
func TestStripOwnCookiesAtAnEndAllocatesNothing(t *testing.T) {
	p := New("", "", false, false)
	for _, v := range []string{"app_session=x; theme=dark; caddy_mfa=s", "__Host-caddy_mfa=s; app_session=x"} {
		h := http.Header{"Cookie": {v}}
		if n := testing.AllocsPerRun(100, func() { h["Cookie"][0] = v; p.StripOwn(h) }); n != 0 {
			t.Errorf("%q: %v allocations, want 0", v, n)
		}
	}
}

// BenchmarkStripOwnCookies is the Cookie rewrite of the hot path alone,
// with and without a gateway cookie in the header.
func BenchmarkStripOwnCookies(b *testing.B) {
	p := New("", "", false, false)
	app := "app_session=" + strings.Repeat("x", 150)
	for name, v := range map[string]string{"with": app + "; caddy_mfa=" + strings.Repeat("s", 120), "without": app + "; theme=dark"} {
		b.Run(name, func(b *testing.B) {
			h := http.Header{}
			b.ReportAllocs()
			for b.Loop() {
				h["Cookie"] = []string{v} // (the one alloc/op without)
				p.StripOwn(h)
			}
		})
	}
}
