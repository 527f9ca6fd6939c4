package caddymodule

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"

	"github.com/gorilla/sessions"
)

// preCookie binds CSRF tokens before there is a session (the login form),
// so that an anonymous visitor costs no server-side state. Under TLS it has
// the __Host- prefix, so a sibling subdomain cannot plant one.
const preCookie = "caddy_mfa_pre"

// preCookieName and preCookiePath are the pre-session cookie's name and path
// for r (__Host- cookies must have Path=/).
func (p *portal) preCookieName(r *http.Request) (string, string) {
	if p.app.engine.Sessions.Secure(r) {
		return "__Host-" + preCookie, "/"
	}
	return preCookie, p.app.prefix
}

// csrfToken returns the token forms must post back: an HMAC of the session
// id, or of a random pre-session cookie (set here if missing) before sign-in.
func (p *portal) csrfToken(w http.ResponseWriter, r *http.Request, sess *sessions.Session) string {
	binding, ok := p.csrfBinding(r, sess)
	if !ok {
		raw := make([]byte, 18)
		_, _ = rand.Read(raw)
		v := base64.RawURLEncoding.EncodeToString(raw)
		name, path := p.preCookieName(r)
		http.SetCookie(w, &http.Cookie{
			Name: name, Value: v, Path: path,
			HttpOnly: true, Secure: p.app.engine.Sessions.Secure(r), SameSite: http.SameSiteLaxMode,
		})
		binding = "p:" + v
	}
	return p.mac(binding)
}

func (p *portal) csrfBinding(r *http.Request, sess *sessions.Session) (string, bool) {
	if sess != nil && sess.ID != "" && !sess.IsNew {
		return "s:" + sess.ID, true
	}
	name, _ := p.preCookieName(r)
	if c, err := r.Cookie(name); err == nil && c.Value != "" {
		return "p:" + c.Value, true
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
