package caddymodule

import (
	"net/http"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/push"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// "Don't ask again on this device": with `remember_device` set, a user who
// ticks the box when giving the second factor is not asked for it again in
// that browser until it expires, is forgotten on the security-info page,
// or the user signs out everywhere (or is reset).

// deviceCookie holds the browser's device token.
const deviceCookie = "caddy_mfa_device"

// deviceToken is this browser's device token, if it has one.
func deviceToken(r *http.Request) string {
	if c, err := r.Cookie(deviceCookie); err == nil {
		return c.Value
	}
	return ""
}

// rememberIfAsked remembers this browser for user when the form that gave
// the second factor ticked "Don't ask again".
func (p *portal) rememberIfAsked(q *request, user string) error {
	ttl := time.Duration(p.app.RememberDevice)
	if ttl <= 0 || q.r.PostFormValue("remember") != "1" {
		return nil
	}
	name := push.Browser(q.r.UserAgent())
	if name == "" {
		name = p.localize(q.r, ui.PushUnknownBrowser, nil)
	}
	token, err := p.app.engine.RememberDevice(q.r.Context(), user, name, deviceToken(q.r), ttl)
	if err != nil {
		return err
	}
	http.SetCookie(q.w, &http.Cookie{Name: deviceCookie, Value: token, Path: "/", MaxAge: int(ttl.Seconds()),
		HttpOnly: true, Secure: p.app.engine.Sessions.Secure(q.r), SameSite: http.SameSiteLaxMode})
	p.event(q.r, "device_remembered", user)
	return nil
}

// rememberDays is how many days "Don't ask again" lasts, rounded up; 0 if
// the operator does not offer it.
func (p *portal) rememberDays() int {
	d := time.Duration(p.app.RememberDevice)
	if d <= 0 {
		return 0
	}
	return int((d + 24*time.Hour - 1) / (24 * time.Hour))
}
