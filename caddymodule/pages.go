package caddymodule

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/seal"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

func zapReason(r string) zap.Field { return zap.String("reason", r) }
func zapMethod(m string) zap.Field { return zap.String("method", m) }
func zapSessions(n int) zap.Field  { return zap.Int("sessions", n) }

// renderMessage renders a message page (forbidden, unavailable, signed
// out) for browsers, and a short text for other clients.
func (a *App) renderMessage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	if !wantsHTML(r) {
		ui.SecurityHeaders(w.Header())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(http.StatusText(status) + "\n"))
		return
	}
	pg := &ui.Page{Org: a.org, Prefix: a.prefix, Title: title, Message: msg}
	if err := a.renderer.Render(w, r, status, "message", pg); err != nil {
		a.logger.Error("rendering message page", zap.Error(err))
	}
}

// limited answers an attempt that a rate limit or lockout refused: 429,
// Retry-After, and a page that says when to try again (and nothing about
// whether the password or code was right).
func (a *App) limited(w http.ResponseWriter, r *http.Request, retry time.Duration) {
	secs := int(math.Ceil(retry.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	pg := &ui.Page{Org: a.org, Prefix: a.prefix, Title: ui.TitleTooMany, Message: ui.MsgTooMany,
		MessageData: map[string]any{"Minutes": max(1, (secs+59)/60)}}
	if err := a.renderer.Render(w, r, http.StatusTooManyRequests, "message", pg); err != nil {
		a.logger.Error("rendering message page", zap.Error(err))
	}
}

// refused answers an attempt that v refused: a user blocked after a fraud
// report is told to ask an administrator (403); others are rate limited.
func (a *App) refused(w http.ResponseWriter, r *http.Request, v challenge.Verdict) {
	if v.Reason == "blocked" {
		a.renderMessage(w, r, http.StatusForbidden, ui.TitleBlocked, ui.MsgBlocked)
		return
	}
	a.limited(w, r, v.RetryAfter)
}

// unavailable fails closed: a store could not be reached, so nothing
// passes; the user sees a 503 page and the log says why.
func (a *App) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, seal.ErrOpen) {
		// Not an outage, though a caller may have wrapped it as one.
		a.sealUnreadable(w, r, "", err)
		return
	}
	a.logger.Error("sign-in store unavailable; failing closed", zap.Error(err), zap.String("path", r.URL.Path))
	w.Header().Set("Retry-After", "30")
	a.renderMessage(w, r, http.StatusServiceUnavailable, ui.TitleUnavailable, ui.MsgUnavailable)
}
