package caddymodule

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/caddymodule/portal"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// serveAppPassword lets a request with HTTP Basic auth through on a route
// with app_passwords, if secret is one of user's app passwords (never their
// password), rate-limiting them per client address and per user, and not
// while the account is blocked or locked out. The upstream gets the same
// identity headers as for a browser, and not the Authorization header.
//
// What a client learns, in order: 429 when a limit is used up (before any
// check, whatever the password; see BeforeAppPassword); else 401 for a
// wrong app password or a name nobody has, with the same work on both
// paths and the same answer whatever the account's state; only with the
// right app password, 403 (blocked) or 429 (locked out, with Retry-After),
// then 403 if the route's policy refuses the user.
func (h *Handler) serveAppPassword(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, user, secret string) error {
	e, ctx := h.app.engine, r.Context()
	// The user the typed name stands for, as at the sign-in page
	// (search_email, case_insensitive): limits count under it and the
	// app password is looked up for it.
	user = e.Users.Canonical(user)
	key, ip := portal.LimitKey(user), portal.IPKey(events.ClientIP(r))
	v, attempt, err := e.Regulation.BeforeAppPassword(ctx, key, ip)
	if err != nil {
		h.app.pages.Unavailable(w, r, err)
		return nil
	}
	if !v.Allowed {
		h.app.events.Write(r, events.AppPasswordRefused, h.portal.TypedName(user), events.Reason(v.Reason.String()))
		ui.SecurityHeaders(w.Header())
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(v.RetryAfter.Seconds()))))
		w.WriteHeader(http.StatusTooManyRequests)
		return nil
	}
	// Whatever happens to the check (a panic too), its attempt ends; ending
	// it again after the calls below does nothing.
	defer e.Regulation.AppPasswordDone(attempt)
	u, name, recorded, err := e.CheckUserAppPassword(ctx, user, secret)
	if u == nil || err != nil {
		// Not right: the check ends with its token spent (a right one's
		// ends in AppPasswordOK, with the token back).
		e.Regulation.AppPasswordDone(attempt)
	}
	if err != nil {
		h.app.pages.Unavailable(w, r, err)
		return nil
	}
	if u == nil && e.UserPending(user) {
		// A directory user this gateway has not looked up yet (after a
		// restart, or signed in at another gateway): not a wrong app
		// password; the client retries in a moment.
		h.app.pages.Held(w, r, true)
		return nil
	}
	if u == nil {
		h.app.events.Write(r, events.AppPasswordFailed, h.portal.TypedName(user))
		ui.SecurityHeaders(w.Header())
		w.Header().Set("WWW-Authenticate", basicChallenge(h.app.org))
		w.WriteHeader(http.StatusUnauthorized)
		return nil
	}
	if err := e.Regulation.AppPasswordOK(ctx, attempt); err != nil {
		h.app.pages.Unavailable(w, r, err)
		return nil
	}
	if v, err = e.Regulation.AppPasswordAccount(ctx, key); err != nil {
		h.app.pages.Unavailable(w, r, err)
		return nil
	}
	if !v.Allowed {
		h.app.events.Write(r, events.AppPasswordRefused, user, zap.String("app_password", name), events.Reason(v.Reason.String()))
		ui.SecurityHeaders(w.Header())
		h.app.pages.Refused(w, r, v)
		return nil
	}
	if recorded {
		h.app.events.Write(r, events.AppPasswordUsed, user, zap.String("app_password", name))
	}
	if !h.policy.Allows(u) {
		h.app.pages.Message(w, r, http.StatusForbidden, ui.TitleForbidden, ui.MsgForbidden)
		return nil
	}
	h.ids.setOn(r.Header, u)
	setUserPlaceholders(r, u, methodAppPassword)
	r.Header.Del("Authorization")
	h.app.cookies.StripOwn(r.Header)
	return next.ServeHTTP(w, r)
}

// basicChallenge is the WWW-Authenticate header that asks for Basic auth.
func basicChallenge(realm string) string {
	return `Basic realm="` + strings.NewReplacer(`"`, "", `\`, "").Replace(realm) + `", charset="UTF-8"`
}
