package caddymodule

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"

	"github.com/gorilla/sessions"
)

// The pre-session cookie (preCookie) binds CSRF tokens before there is a
// session (the login form), so that an anonymous visitor costs no
// server-side state. It follows the cookie policy (cookies.go): under TLS
// it has the __Host- prefix, so a sibling subdomain cannot plant one.

// csrfToken returns the token forms must post back: an HMAC of the session
// id, or of a random pre-session cookie (set here if missing) before sign-in.
func (p *portal) csrfToken(w http.ResponseWriter, r *http.Request, sess *sessions.Session) string {
	binding, ok := p.csrfBinding(r, sess)
	if !ok {
		raw := make([]byte, 18)
		_, _ = rand.Read(raw)
		v := base64.RawURLEncoding.EncodeToString(raw)
		c := p.app.cookies
		c.set(w, r, &c.pre, v, 0)
		binding = "p:" + v
	}
	return p.mac(binding)
}

func (p *portal) csrfBinding(r *http.Request, sess *sessions.Session) (string, bool) {
	if sess != nil && sess.ID != "" && !sess.IsNew {
		return "s:" + sess.ID, true
	}
	if v := p.app.cookies.value(r, &p.app.cookies.pre); v != "" {
		return "p:" + v, true
	}
	return "", false
}

func (p *portal) mac(binding string) string {
	m := hmac.New(sha256.New, p.app.engine.Keys.CSRFKey())
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfOK checks the posted token in constant time.
func (p *portal) csrfOK(r *http.Request, sess *sessions.Session) bool {
	binding, ok := p.csrfBinding(r, sess)
	if !ok {
		return false
	}
	got := r.PostFormValue("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(p.mac(binding)))
}
