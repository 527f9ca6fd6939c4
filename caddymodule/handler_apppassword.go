package caddymodule

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/ui"
)

// serveAppPassword lets a request with HTTP Basic auth through on a route
// with app_passwords, if secret is one of user's app passwords (never their
// password), rate-limiting wrong ones per client address and per user. The
// upstream gets the same identity headers as for a browser, and not the
// Authorization header.
func (h *Handler) serveAppPassword(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, user, secret string) error {
	e, ctx := h.app.engine, r.Context()
	key, ip := limitKey(user), ipKey(clientIP(r))
	v, err := e.Regulation.BeforeAppPassword(ctx, key, ip)
	if err != nil {
		h.app.unavailable(w, r, err)
		return nil
	}
	if !v.Allowed {
		h.logger.Info("security event", zap.String("event", "app_password_refused"), zap.String("user", h.portal.typedName(user)),
			zap.String("client_ip", clientIP(r)), zapReason(v.Reason))
		ui.SecurityHeaders(w.Header())
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(v.RetryAfter.Seconds()))))
		w.WriteHeader(http.StatusTooManyRequests)
		return nil
	}
	u := e.Users.Lookup(user)
	var name string
	var recorded bool
	if u != nil {
		if name, recorded, err = e.CheckAppPassword(ctx, user, secret); err != nil {
			h.app.unavailable(w, r, err)
			return nil
		}
	}
	if name == "" {
		h.logger.Info("security event", zap.String("event", "app_password_failed"), zap.String("user", h.portal.typedName(user)),
			zap.String("client_ip", clientIP(r)))
		if err := e.Regulation.AppPasswordFailed(ctx, key, ip, e.Now()); err != nil {
			h.app.unavailable(w, r, err)
			return nil
		}
		ui.SecurityHeaders(w.Header())
		w.Header().Set("WWW-Authenticate", basicChallenge(h.app.org))
		w.WriteHeader(http.StatusUnauthorized)
		return nil
	}
	if recorded {
		h.logger.Info("security event", zap.String("event", "app_password_used"), zap.String("user", user),
			zap.String("app_password", name), zap.String("client_ip", clientIP(r)))
	}
	if !h.policy.Allows(u) {
		h.app.renderMessage(w, r, http.StatusForbidden, ui.TitleForbidden, ui.MsgForbidden)
		return nil
	}
	setIdentityHeaders(r.Header, u)
	r.Header.Del("Authorization")
	h.app.cookies.stripOwnCookies(r.Header)
	return next.ServeHTTP(w, r)
}

// basicChallenge is the WWW-Authenticate header that asks for Basic auth.
func basicChallenge(realm string) string {
	return `Basic realm="` + strings.NewReplacer(`"`, "", `\`, "").Replace(realm) + `", charset="UTF-8"`
}
