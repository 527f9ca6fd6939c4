package portal

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
)

// The familiar-browser cookie: after a complete sign-in (password and
// second factor) the browser keeps a token, signed by the gateway, that
// names (by keyed hash) the users who signed in fully in it. It grants
// nothing; it keeps the wrong passwords typed there apart from everyone
// else's (smart lockout: challenge/regulation/source.go), so that an
// attacker who knows a user name cannot lock the user out of it. It is
// not "Don't ask again on this device" (device.go), and no sign-out
// removes it: it says only where the user signed in before.

// The cookie is set and read through the gateway's cookie policy
// (package cookies): Secure under TLS (or with secure_cookies) and then named
// with the __Host- prefix, never with the cookie domain, so a sibling
// subdomain or a plain-http hop cannot plant one; HttpOnly, SameSite=Lax,
// Path=/; stripped before the upstream with the gateway's other cookies.

// familiarToken is the request's familiar-browser token, "" if none.
func (p *Portal) familiarToken(r *http.Request) string {
	return p.cookies.Value(r, &p.cookies.Familiar)
}

// passwordSource is where a password attempt for user (as limits count
// it) comes from.
func (p *Portal) passwordSource(r *http.Request, user string) regulation.PasswordSource {
	id, _ := p.engine.FamiliarBrowser(p.familiarToken(r), user)
	return regulation.PasswordSource{Addr: IPKey(events.ClientIP(r)), Browser: id}
}

// signedInHere records a complete sign-in of user: this browser and its
// address become familiar for them.
func (p *Portal) signedInHere(q *request, user string) error {
	e := p.engine
	if err := e.Regulation.SignedInFrom(q.r.Context(), LimitKey(user), IPKey(events.ClientIP(q.r))); err != nil {
		return err
	}
	token, err := e.FamiliarToken(p.familiarToken(q.r), LimitKey(user))
	if err != nil {
		return err
	}
	p.cookies.Set(q.w, q.r, &p.cookies.Familiar, token, int(challenge.FamiliarFor.Seconds()))
	return nil
}

// zapSource names the kind of source of a password attempt, for the log:
// browser, address (familiar ones) or unfamiliar.
func zapSource(a regulation.PasswordAttempt) zap.Field {
	return zap.String("source", a.Familiarity().String())
}

// zapLocked names what a wrong password locked: browser, address, unfamiliar.
func zapLocked(what regulation.SourceKind) zap.Field { return zap.String("locked", what.String()) }
