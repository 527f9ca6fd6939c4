package portal

import (
	"net/http"
	"time"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
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
func (p *Portal) deviceTokens(r *http.Request) string {
	return p.cookies.Value(r, &p.cookies.Device)
}

// rememberIfAsked remembers this browser for user when the form that gave
// the second factor ticked "Don't ask again".
func (p *Portal) rememberIfAsked(q *request, user string) error {
	ttl := time.Duration(p.opts.RememberDevice)
	if ttl <= 0 || q.r.PostFormValue("remember") != "1" {
		return nil
	}
	name := push.Browser(q.r.UserAgent())
	if name == "" {
		name = p.localize(q.r, ui.PushUnknownBrowser, nil)
	}
	// Always a new token (never the browser's): the cookie keeps the
	// tokens of the browser's other users after it.
	token, err := p.engine.RememberDevice(q.r.Context(), user, name, ttl)
	if err != nil {
		return err
	}
	c := p.cookies
	c.Set(q.w, q.r, &c.Device, challenge.DeviceCookie(token, p.deviceTokens(q.r)), int(ttl.Seconds()))
	p.events.Write(q.r, events.DeviceRemembered, user)
	return nil
}

// rememberDays is how many days "Don't ask again" lasts, rounded up; 0 if
// the operator does not offer it.
func (p *Portal) rememberDays() int {
	d := time.Duration(p.opts.RememberDevice)
	if d <= 0 {
		return 0
	}
	return int((d + 24*time.Hour - 1) / (24 * time.Hour))
}
