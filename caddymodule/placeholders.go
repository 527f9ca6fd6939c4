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

// setUserPlaceholders sets Caddy's {http.auth.user.*} placeholders for u,
// as Caddy's own authentication handler does, for the handlers after this
// one (header_up {http.auth.user.id}) and for the access log, which takes
// its user_id from http.auth.user.id when the request is done. Outside a
// Caddy server (no replacer) it does nothing.
func setUserPlaceholders(r *http.Request, u *users.User, method string) {
	repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	if repl == nil {
		return
	}
	repl.Set("http.auth.user.id", u.Name)
	repl.Set("http.auth.user.name", u.DisplayName)
	repl.Set("http.auth.user.email", u.Email)
	repl.Set("http.auth.user.groups", u.GroupsHeader())
	repl.Set("http.auth.user.method", method)
}
