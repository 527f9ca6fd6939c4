package caddymodule

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// The familiar-browser cookie: after a complete sign-in (password and
// second factor) the browser keeps a token, signed by the gateway, that
// names (by keyed hash) the users who signed in fully in it. It grants
// nothing; it keeps the wrong passwords typed there apart from everyone
// else's (smart lockout: challenge/regulation_source.go), so that an
// attacker who knows a user name cannot lock the user out of it. It is
// not "Don't ask again on this device" (portal_device.go), and no sign-out
// removes it: it says only where the user signed in before.

// The cookie is set and read through the gateway's cookie policy
// (cookies.go): Secure under TLS (or with secure_cookies) and then named
// with the __Host- prefix, never with the cookie domain, so a sibling
// subdomain or a plain-http hop cannot plant one; HttpOnly, SameSite=Lax,
// Path=/; stripped before the upstream with the gateway's other cookies.

// familiarToken is the request's familiar-browser token, "" if none.
func (p *portal) familiarToken(r *http.Request) string {
	return p.app.cookies.value(r, &p.app.cookies.familiar)
}

// passwordSource is where a password attempt for user (as limits count
// it) comes from.
func (p *portal) passwordSource(r *http.Request, user string) challenge.PasswordSource {
	id, _ := p.app.engine.FamiliarBrowser(p.familiarToken(r), user)
	return challenge.PasswordSource{Addr: ipKey(clientIP(r)), Browser: id}
}

// signedInHere records a complete sign-in of user: this browser and its
// address become familiar for them.
func (p *portal) signedInHere(q *request, user string) error {
	e := p.app.engine
	if err := e.Regulation.SignedInFrom(q.r.Context(), limitKey(user), ipKey(clientIP(q.r))); err != nil {
		return err
	}
	token, err := e.FamiliarToken(p.familiarToken(q.r), limitKey(user))
	if err != nil {
		return err
	}
	p.app.cookies.set(q.w, q.r, &p.app.cookies.familiar, token, int(challenge.FamiliarFor.Seconds()))
	return nil
}

// zapSource names the kind of source of a password attempt, for the log:
// browser, address (familiar ones) or unfamiliar.
func zapSource(a challenge.PasswordAttempt) zap.Field { return zap.String("source", a.Familiarity()) }

// zapLocked names what a wrong password locked: browser, address, unfamiliar.
func zapLocked(what string) zap.Field { return zap.String("locked", what) }

// passwordLocked answers a password attempt from a source that is locked
// out for the user (v.Reason "locked" or "unfamiliar"): 429, Retry-After,
// and a page that says when to try again and that a browser where the
// user signed in before still works. A right and a wrong password, a known
// and an unknown name, get the same page.
func (a *App) passwordLocked(w http.ResponseWriter, r *http.Request, retry time.Duration) {
	secs := int(math.Ceil(retry.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	pg := &ui.Page{Org: a.org, Prefix: a.prefix, Title: ui.TitleTooMany, Message: ui.MsgTooManyPasswords,
		MessageData: map[string]any{"Minutes": max(1, (secs+59)/60)}}
	if err := a.renderer.Render(w, r, http.StatusTooManyRequests, "message", pg); err != nil {
		a.logger.Error("rendering message page", zap.Error(err))
	}
}
