package caddymodule

import (
	"net/http"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// The values of {http.auth.user.method}: what the request that passed has
// proven. The session does not record which second factor was used, so a
// session that has one says two_factor, whichever it was.
const (
	// methodTwoFactor: a session that proved the password and a second
	// factor (also on a route that needs only the password).
	methodTwoFactor = "two_factor"
	// methodPassword: a session that proved the password only, on a
	// one_factor route or from a trusted network.
	methodPassword = "password"
	// methodAppPassword: HTTP Basic auth with one of the user's app
	// passwords.
	methodAppPassword = "app_password"
)

// levelMethod is the method placeholder's value for a session at level l.
func levelMethod(l session.Level) string {
	if l >= session.TwoFactor {
		return methodTwoFactor
	}
	return methodPassword
}

// userPlaceholderPrefix begins the placeholders of the signed-in user.
const userPlaceholderPrefix = "http.auth.user."

// setUserPlaceholders sets Caddy's {http.auth.user.*} placeholders for u,
// as Caddy's own authentication handler does, for the handlers after this
// one (header_up {http.auth.user.id}) and for the access log, which takes
// its user_id from http.auth.user.id when the request is done. Outside a
// Caddy server (no replacer) it does nothing.
//
// Caddy's handler uses repl.Set; on a signed-in request that costs a map
// and a boxed string per value, about a tenth of the hot path. A provider
// costs one small allocation, and its values are made only when read.
// Static values come before providers, so what an earlier handler set
// (basic_auth's user, say) is removed first, and what a later one sets
// (vars http.auth.user.id ...) still wins, as with Set.
func setUserPlaceholders(r *http.Request, u *users.User, method string) {
	repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	if repl == nil {
		return
	}
	repl.DeleteByPrefix(userPlaceholderPrefix)
	repl.Map(userPlaceholders{u: u, method: method}.get)
}

// userPlaceholders are the {http.auth.user.*} values of one request.
type userPlaceholders struct {
	u      *users.User
	method string
}

// get is a caddy.ReplacerFunc for the user's placeholders.
func (p userPlaceholders) get(key string) (any, bool) {
	if len(key) <= len(userPlaceholderPrefix) || key[:len(userPlaceholderPrefix)] != userPlaceholderPrefix {
		return nil, false
	}
	switch key[len(userPlaceholderPrefix):] {
	case "id":
		return p.u.Name, true
	case "name":
		return p.u.DisplayName, true
	case "email":
		return p.u.Email, true
	case "groups":
		return p.u.GroupsHeader(), true
	case "method":
		return p.method, true
	}
	return nil, false
}
