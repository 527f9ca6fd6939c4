package caddymodule

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/caddymodule/portal"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// Verify modes: how a verify endpoint answers a visitor who is not signed
// in, as the proxy in front of it expects.
const (
	// verifyForwardAuth is for Caddy's forward_auth and Traefik's
	// forwardAuth, which hand the answer to the client: a browser is sent
	// to the portal with 302.
	verifyForwardAuth = "forward_auth"
	// verifyAuthRequest is for nginx's auth_request, which understands
	// only 2xx, 401 and 403: 401, with the portal's login URL in Location
	// for `auth_request_set $login $upstream_http_location`.
	verifyAuthRequest = "auth_request"
)

// original is the request a proxy asks a verify endpoint about.
type original struct {
	method string
	url    string // absolute, as the proxy reported it; "" if unknown
}

// originalRequest reads the request the proxy is asking about: from
// nginx's X-Original-URL and X-Original-Method, or from the
// X-Forwarded-Method, -Proto, -Host and -Uri that Caddy's forward_auth and
// Traefik send. Only a trusted proxy (the server's trusted_proxies) may
// say so: from anyone else these headers are ignored and the request is
// taken as it is, with no URL to return to.
func originalRequest(r *http.Request) original {
	if trusted, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool); !trusted {
		return original{method: r.Method}
	}
	if raw := r.Header.Get("X-Original-URL"); raw != "" {
		return original{method: methodOr(r.Header.Get("X-Original-Method"), r.Method), url: raw}
	}
	o := original{method: methodOr(r.Header.Get("X-Forwarded-Method"), r.Method)}
	proto, host, uri := r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Forwarded-Uri")
	if proto != "" && host != "" && strings.HasPrefix(uri, "/") {
		o.url = proto + "://" + host + uri
	}
	return o
}

// methodOr is m if it is a plain method name, else def.
func methodOr(m, def string) string {
	if m == "" || len(m) > 20 || strings.ContainsFunc(m, func(c rune) bool { return c < 'A' || c > 'Z' }) {
		return def
	}
	return m
}

// serveVerify answers a proxy's question "may this request pass?": 200
// with the identity headers for a signed-in user this route allows, 403
// for a signed-in user it does not, and for anyone else a way to the
// portal (see the verify modes). It never passes the request on.
func (h *Handler) serveVerify(w http.ResponseWriter, r *http.Request) error {
	if h.app.answerHeld(w, r) {
		return nil
	}
	o := originalRequest(r)
	h.ids.stripFrom(r.Header)
	_, d, err := h.app.engine.Sessions.Lookup(r)
	if err != nil {
		h.app.pages.Unavailable(w, r, err)
		return nil
	}
	need := h.verifyNeeds(r)
	if d == nil || d.Level < need {
		h.verifyUnauthenticated(w, r, o, need)
		return nil
	}
	u := h.app.engine.Users.Lookup(d.User)
	if u == nil {
		if h.app.engine.UserPending(d.User) {
			h.app.pages.Held(w, r, true)
			return nil
		}
		h.verifyUnauthenticated(w, r, o, need)
		return nil
	}
	ui.SecurityHeaders(w.Header())
	if !h.policy.Allows(u) {
		h.app.events.Write(r, events.AccessDenied, u.Name, zap.String("url", o.url))
		verifyText(w, http.StatusForbidden, "403 Forbidden: "+u.Name+" may not use this site\n")
		return nil
	}
	h.ids.setOn(w.Header(), u)
	verifyText(w, http.StatusOK, "")
	return nil
}

// verifyNeeds is needs for a verify endpoint: a trusted network counts
// only when a trusted proxy reported the client's address, since
// otherwise the address Caddy sees is the proxy's own.
func (h *Handler) verifyNeeds(r *http.Request) session.Level {
	if trusted, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool); !trusted && !h.oneFactor {
		return session.TwoFactor
	}
	return h.needs(r)
}

// verifyUnauthenticated answers for a visitor who is not signed in (or not
// enough for this route).
func (h *Handler) verifyUnauthenticated(w http.ResponseWriter, r *http.Request, o original, need session.Level) {
	ui.SecurityHeaders(w.Header())
	login := h.verifyLoginURL(o, need)
	if h.Verify == verifyAuthRequest {
		w.Header().Set("Location", login)
		verifyText(w, http.StatusUnauthorized, "401 Unauthorized: sign in at "+login+"\n")
		return
	}
	if (o.method == http.MethodGet || o.method == http.MethodHead) && portal.WantsHTML(r) {
		http.Redirect(w, r, login, http.StatusFound)
		return
	}
	verifyText(w, http.StatusUnauthorized, "401 Unauthorized: sign in at "+login+"\n")
}

// verifyLoginURL is the portal's login page (at public_url, if set), with
// the original URL to return to when it is one the portal may go back to.
func (h *Handler) verifyLoginURL(o original, need session.Level) string {
	login := h.app.public + h.app.prefix + "login"
	var q []string
	if rd := challenge.SafeReturnURL(o.url, h.app.prefix, h.app.returnHosts); rd != "" {
		q = append(q, "rd="+url.QueryEscape(rd))
	}
	if need == session.OneFactor {
		q = append(q, oneFactorHint)
	}
	if len(q) > 0 {
		login += "?" + strings.Join(q, "&")
	}
	return login
}

// verifyText writes a short plain-text answer.
func verifyText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// checkVerify checks the verify option.
func checkVerify(mode string) error {
	if mode != "" && mode != verifyForwardAuth && mode != verifyAuthRequest {
		return fmt.Errorf("mfa: verify %q: use forward_auth or auth_request", mode)
	}
	return nil
}
