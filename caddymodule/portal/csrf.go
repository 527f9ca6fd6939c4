package portal

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
// server-side state. It follows the cookie policy (package cookies): under TLS
// it has the __Host- prefix, so a sibling subdomain cannot plant one.

// csrfToken returns the token forms must post back: an HMAC of the session
// id, or of a random pre-session cookie (set here if missing) before sign-in.
func (p *Portal) csrfToken(w http.ResponseWriter, r *http.Request, sess *sessions.Session) string {
	binding, ok := p.csrfBinding(r, sess)
	if !ok {
		raw := make([]byte, 18)
		_, _ = rand.Read(raw)
		v := base64.RawURLEncoding.EncodeToString(raw)
		c := p.cookies
		c.Set(w, r, &c.Pre, v, 0)
		binding = "p:" + v
	}
	return p.mac(binding)
}

func (p *Portal) csrfBinding(r *http.Request, sess *sessions.Session) (string, bool) {
	if sess != nil && sess.ID != "" && !sess.IsNew {
		return "s:" + sess.ID, true
	}
	if v := p.cookies.Value(r, &p.cookies.Pre); v != "" {
		return "p:" + v, true
	}
	return "", false
}

func (p *Portal) mac(binding string) string {
	m := hmac.New(sha256.New, p.engine.Keys.CSRFKey())
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfOK checks the posted token in constant time.
func (p *Portal) csrfOK(r *http.Request, sess *sessions.Session) bool {
	binding, ok := p.csrfBinding(r, sess)
	if !ok {
		return false
	}
	got := r.PostFormValue("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(p.mac(binding)))
}
