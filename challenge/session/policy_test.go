package session

import "net/http"

// testCookies is a cookie policy for the store's own tests: the gateway's
// real one (caddymodule/cookies.go) is tested there, over this store.
type testCookies struct{ name string }

func (c testCookies) Name(r *http.Request) string {
	if r.TLS != nil {
		return "__Host-" + c.name
	}
	return c.name
}

func (c testCookies) Secure(r *http.Request) bool { return r.TLS != nil }

func (c testCookies) Cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: c.Name(r), Value: value, Path: "/", MaxAge: maxAge, Secure: c.Secure(r), HttpOnly: true, SameSite: http.SameSiteLaxMode}
}
