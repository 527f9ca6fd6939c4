package challenge

import (
	"net/http"
	"reflect"

	"github.com/caddy-mfa/caddy-mfa/challenge/session"
)

// testSessionCookies is a fixed cookie policy (session.CookiePolicy, once
// the gateway's one cookie policy of issue 14 item 2 is merged) for the
// session stores of these tests.
type testSessionCookies struct{}

// Name is the session cookie's name.
func (testSessionCookies) Name(*http.Request) string { return "caddy_mfa" }

// Secure is false: these tests speak plain HTTP.
func (testSessionCookies) Secure(*http.Request) bool { return false }

// Cookie is the session cookie holding value.
func (testSessionCookies) Cookie(_ *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: "caddy_mfa", Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true}
}

// withTestCookies sets cfg's cookie policy where session.Config has one
// (a Cookies field, required there), so that this test builds on both
// sides of that merge. After it, `Cookies: testSessionCookies{}` in the
// literal says the same.
func withTestCookies(cfg session.Config) session.Config {
	if f := reflect.ValueOf(&cfg).Elem().FieldByName("Cookies"); f.IsValid() && f.CanSet() {
		f.Set(reflect.ValueOf(testSessionCookies{}))
	}
	return cfg
}
