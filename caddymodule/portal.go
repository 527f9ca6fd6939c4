package caddymodule

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/gorilla/sessions"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/seal"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// maxFormBytes bounds every portal form body.
const maxFormBytes = 64 << 10

// portal serves the pages under the portal prefix: sign-in, enrolment, the
// second-factor challenge, sign-out and static assets.
type portal struct {
	app    *App
	logger *zap.Logger
	routes map[string]route
	// owner is the mfa handler that serves this portal: the route that
	// holds it names the site (portal_site.go).
	owner caddyhttp.MiddlewareHandler
}

// route is a portal page's handlers by method.
type route struct {
	get, post func(*request) error
}

func newPortal(app *App, logger *zap.Logger) *portal {
	p := &portal{app: app, logger: logger}
	p.routes = map[string]route{
		"":                              {get: p.root},
		"login":                         {get: p.loginPage, post: p.loginSubmit},
		"setup":                         {get: p.setupPage},
		"setup/totp":                    {get: p.totpPage, post: p.totpSubmit},
		"setup/totp/qr.png":             {get: p.totpQR},
		"challenge":                     {get: p.challengePage, post: p.challengeSubmit},
		"challenge/send":                {post: p.challengeSend},
		"challenge/wait":                {get: p.challengeWaitPage, post: p.challengeWaitSubmit},
		"call/status":                   {get: p.callStatus},
		"setup/phone":                   {get: p.phoneFormPage, post: p.phoneFormSubmit},
		"setup/phone/code":              {get: p.phoneCodePage, post: p.phoneCodeSubmit},
		"setup/phone/wait":              {get: p.phoneWaitPage, post: p.phoneWaitSubmit},
		"setup/key":                     {get: p.keySetupPage, post: p.keySetupSubmit},
		"setup/push":                    {get: p.pushSetupPage, post: p.pushSetupSubmit},
		"setup/push/qr.png":             {get: p.pushQR},
		"setup/push/wait":               {get: p.pushSetupWaitPage, post: p.pushSetupWaitSubmit},
		"challenge/push":                {get: p.challengePushPage, post: p.challengePushSubmit},
		"push/status":                   {get: p.pushStatus},
		"security":                      {get: p.securityPage},
		"security/remove":               {post: p.securityRemove},
		"security/verify":               {post: p.securityVerify},
		"security/recovery":             {post: p.securityRecovery},
		"security/signout":              {post: p.securitySignOut},
		signedOutPath:                   {get: p.signedOutPage},
		"security/default":              {post: p.securityDefault},
		"security/keys/rename":          {post: p.securityRenameKey},
		"security/devices/forget":       {post: p.securityForgetDevice},
		"security/app-passwords":        {post: p.securityAppPassword},
		"security/app-passwords/revoke": {post: p.securityAppPasswordRevoke},
		"logout":                        {post: p.logout},
	}
	return p
}

// request is one portal request with its session.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	sess *sessions.Session
	data *session.Data
}

func (p *portal) serve(w http.ResponseWriter, r *http.Request) error {
	defer dropFormFiles(r)
	if !p.boundBody(w, r) {
		return nil
	}
	rel := strings.TrimPrefix(r.URL.Path, p.app.prefix)
	if r.URL.Path == p.app.prefix[:len(p.app.prefix)-1] {
		rel = ""
	}
	if strings.HasPrefix(rel, "static/") {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			ui.SecurityHeaders(w.Header())
			w.Header().Set("Allow", "GET, HEAD")
			return caddyhttp.Error(http.StatusMethodNotAllowed, errors.New("static assets are read-only"))
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + strings.TrimPrefix(rel, "static/")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		p.app.renderer.Static().ServeHTTP(w, r2)
		return nil
	}
	if held := p.app.gate.held(); held != nil {
		p.app.refuseHeld(w, r, held)
		return nil
	}

	if provider, ok := strings.CutPrefix(rel, "voice/"); ok {
		p.voiceCallback(w, r, provider)
		return nil
	}
	if rel == "push/approve" {
		p.pushApprove(w, r)
		return nil
	}
	sess, err := p.app.engine.Sessions.Get(r, "mfa")
	if err != nil {
		p.app.unavailable(w, r, err)
		return nil
	}
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			p.app.renderMessage(w, r, http.StatusBadRequest, ui.TitleBadRequest, ui.MsgBadRequest)
			return nil
		}
	}
	q := &request{w: w, r: r, sess: sess, data: session.DataOf(sess)}
	if q.data.User != "" && p.app.engine.Users.Lookup(q.data.User) == nil {
		// Removed or disabled in the users file since signing in: the
		// session is worth nothing, so start afresh (or the login page
		// and the protected app would send the browser to each other).
		if err := p.app.engine.Sessions.Rotate(r.Context(), sess); err != nil {
			p.app.unavailable(w, r, err)
			return nil
		}
		sess.IsNew = true
		now := p.app.engine.Sessions.Now().Unix()
		*q.data = session.Data{Created: now, LastSeen: now}
	}

	rt, ok := p.routes[rel]
	if !ok {
		ui.SecurityHeaders(w.Header())
		return caddyhttp.Error(http.StatusNotFound, errors.New("no such portal page"))
	}
	var h func(*request) error
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h = rt.get
	case http.MethodPost:
		h = rt.post
	}
	if h == nil {
		ui.SecurityHeaders(w.Header())
		w.Header().Set("Allow", allowed(rt.get != nil, rt.post != nil))
		return caddyhttp.Error(http.StatusMethodNotAllowed, errors.New("method not allowed"))
	}
	if err := h(q); err != nil {
		if errors.Is(err, seal.ErrOpen) {
			p.app.sealUnreadable(w, r, q.data.User, err)
			return nil
		}
		if errors.Is(err, store.ErrUnavailable) {
			p.app.unavailable(w, r, err)
			return nil
		}
		ui.SecurityHeaders(w.Header())
		return caddyhttp.Error(http.StatusInternalServerError, err)
	}
	return nil
}

func allowed(get, post bool) string {
	switch {
	case get && post:
		return "GET, HEAD, POST"
	case post:
		return "POST"
	}
	return "GET, HEAD"
}

// page returns the common page data.
func (p *portal) page(q *request, title string) *ui.Page {
	pg := &ui.Page{Org: p.app.org, Prefix: p.app.prefix, Title: title, CSRF: p.csrfToken(q.w, q.r, q.sess), RememberDays: p.rememberDays()}
	pg.Carry = p.carriedReturn(q)
	if q.data.User != "" && p.app.engine.Users.Lookup(q.data.User) != nil {
		pg.User = p.displayName(q.data.User)
	}
	return pg
}

// displayName is how pages, calls and prompts name user: the display name
// of the users file, else the user name.
func (p *portal) displayName(user string) string {
	if u := p.app.engine.Users.Lookup(user); u != nil && u.DisplayName != "" {
		return u.DisplayName
	}
	return user
}

// displayTime is how pages and prompts show a time: in UTC, since the
// phone, the browser and the gateway may be in different time zones.
const displayTime = "2006-01-02 15:04 UTC"

func (p *portal) render(q *request, status int, name string, pg *ui.Page) error {
	return p.app.renderer.Render(q.w, q.r, status, name, pg)
}

// redirect sends a 303 (after POST) or 302 to a path of ours.
func (p *portal) redirect(q *request, path string) error {
	ui.SecurityHeaders(q.w.Header())
	code := http.StatusFound
	if q.r.Method == http.MethodPost {
		code = http.StatusSeeOther
	}
	http.Redirect(q.w, q.r, path, code)
	return nil
}

// root shows a signed-in user who they are, with a sign-out button (apps
// behind the gateway link here to sign out); others go to the login page.
func (p *portal) root(q *request) error {
	if q.data.Level < session.TwoFactor {
		return p.redirect(q, p.app.prefix+"login")
	}
	pg := p.page(q, ui.TitleSignedIn)
	pg.Message, pg.SignedIn = ui.MsgSignedIn, true
	return p.render(q, http.StatusOK, "message", pg)
}

// promote raises the session to level, with a new id, and saves it.
func (p *portal) promote(q *request, user string, level session.Level) error {
	ctx := q.r.Context()
	if err := p.app.engine.Sessions.Rotate(ctx, q.sess); err != nil {
		return err
	}
	now := p.app.engine.Sessions.Now().Unix()
	d := q.data
	if d.User != user {
		// A new sign-in: nothing of an earlier user's session carries over.
		*d = session.Data{Return: d.Return, Created: now}
	}
	d.User, d.Level = user, level
	if level == session.TwoFactor {
		d.SecondFactorAt = now
	}
	return p.app.engine.Sessions.Save(q.r, q.w, q.sess)
}

// nextStep is where a user who has given the password goes next.
func (p *portal) nextStep(q *request) (string, error) {
	acct, err := p.app.engine.Account(q.r.Context(), q.data.User)
	if err != nil {
		return "", err
	}
	if acct.HasSecondFactor() {
		return p.app.prefix + "challenge", nil
	}
	return p.app.prefix + "setup", nil
}

// returnPath is the validated place to go after sign-in: a same-origin
// path outside the portal, or the portal's security-info page.
func (p *portal) returnPath(raw string) string {
	if raw == p.app.prefix+securityPath {
		return raw
	}
	return challenge.SafeReturn(raw, p.app.prefix)
}

// event logs a security event. Never pass secrets.
func (p *portal) event(r *http.Request, name, user string, fields ...zap.Field) {
	p.logger.Info("security event", eventFields(r, name, user, fields)...)
}

// warnEvent logs a security event an administrator should look at: a
// lockout, a possible attack. Never pass secrets.
func (p *portal) warnEvent(r *http.Request, name, user string, fields ...zap.Field) {
	p.logger.Warn("security event", eventFields(r, name, user, fields)...)
}

func eventFields(r *http.Request, name, user string, fields []zap.Field) []zap.Field {
	return append(fields, zap.String("event", name), zap.String("user", user), zap.String("client_ip", clientIP(r)))
}

// clientIP is the client address as Caddy determined it (honouring
// trusted_proxies), without a port.
func clientIP(r *http.Request) string {
	if ip, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok && ip != "" {
		return ip
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// ipKey is what per-address limits count under: the address itself for
// IPv4, and its /64 for IPv6, since one client usually holds a whole /64.
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// typedName is a user name as typed, for the log, only if such a user
// exists: people type their password into the name field by mistake, and
// a password must never reach the log.
func (p *portal) typedName(name string) string {
	if p.app.engine.Users.Lookup(name) != nil {
		return name
	}
	return "(unknown user)"
}

// limitKey is the name rate limits and lockouts count under: the user name
// as typed (so unknown names are limited like known ones), bounded in size.
func limitKey(user string) string {
	if len(user) > 256 {
		return user[:256]
	}
	return user
}

// lockoutEvent logs a lockout at warn level: an administrator may want to
// know, and lift it with `caddy mfa unlock`.
func (p *portal) lockoutEvent(r *http.Request, user string, fields ...zap.Field) {
	p.warnEvent(r, "locked_out", user, fields...)
}
