package caddymodule

import (
	"net/http"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/push"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// "Don't ask again on this device": with `remember_device` set, a user who
// ticks the box when giving the second factor is not asked for it again in
// that browser until it expires, is forgotten on the security-info page,
// or the user signs out everywhere (or is reset).

// deviceTokens is this browser's device cookie (deviceCookie, one token
// per user remembered here), read under the name the cookie policy gives
// it: under TLS only the __Host- one.
func (p *portal) deviceTokens(r *http.Request) string {
	return p.app.cookies.value(r, &p.app.cookies.device)
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
	// Always a new token (never the browser's): the cookie keeps the
	// tokens of the browser's other users after it.
	token, err := p.app.engine.RememberDevice(q.r.Context(), user, name, ttl)
	if err != nil {
		return err
	}
	c := p.app.cookies
	c.set(q.w, q.r, &c.device, challenge.DeviceCookie(token, p.deviceTokens(q.r)), int(ttl.Seconds()))
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
