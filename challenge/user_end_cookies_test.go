package challenge

import "net/http"

// testSessionCookies is a fixed cookie policy (a session.CookiePolicy) for the
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
