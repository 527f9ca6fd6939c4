package portal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/gorilla/sessions"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/cookies"
	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/seal"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// maxFormBytes bounds every portal form body.
const maxFormBytes = 64 << 10

// Portal serves the pages under the portal prefix: sign-in, enrolment, the
// second-factor challenge, the security-info page, sign-out and static
// assets. It is built from a Config; the Caddy handler keeps the hot path
// and hands it every request under the prefix.
type Portal struct {
	// looseOnce logs once that registration networks met a loose proxy
	// chain (events.NetworkIP).
	looseOnce sync.Once
	engine    *challenge.Engine
	renderer  *ui.Renderer
	pages     *Pages
	events    *events.Writer
	logger    *zap.Logger
	prefix    string
	org       string
	public    string
	cookies   *cookies.Policy
	providers Providers
	opts      Options
	held      func(http.ResponseWriter, *http.Request) bool
	storeUp   func(context.Context) error
	owner     caddyhttp.MiddlewareHandler
	routes    map[string]route

	// returnHosts are where absolute return URLs may lead.
	returnHosts challenge.ReturnHosts
}

// request is one portal request with its session.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	sess *sessions.Session
	data *session.Data
}

// Serve answers r, a request under the portal prefix. Errors are Caddy
// handler errors (500); an unknown page (404), a method its address does
// not take (405), and the outages, lockouts and refusals a user can meet
// are answered with a page instead.
func (p *Portal) Serve(w http.ResponseWriter, r *http.Request) error {
	defer dropFormFiles(r)
	if !p.boundBody(w, r) {
		return nil
	}
	rel := strings.TrimPrefix(r.URL.Path, p.prefix)
	if r.URL.Path == p.prefix[:len(p.prefix)-1] {
		rel = ""
	}
	if strings.HasPrefix(rel, "static/") {
		return p.static(w, r, rel)
	}
	if p.held(w, r) {
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
	rt, ok := p.routes[rel]
	if !ok {
		p.pages.Message(w, r, http.StatusNotFound, ui.TitleNotFound, ui.MsgNotFound)
		return nil
	}
	h := rt.handler(r.Method)
	if h == nil {
		w.Header().Set("Allow", rt.allow())
		p.pages.Message(w, r, http.StatusMethodNotAllowed, ui.TitleNotAllowed, ui.MsgNotAllowed)
		return nil
	}
	q, ok := p.open(w, r)
	if !ok {
		return nil
	}
	err := p.serveRoute(q, rt, h)
	if err == nil {
		return nil
	}
	if errors.Is(err, seal.ErrOpen) {
		p.pages.SealUnreadable(w, r, q.data.User, err)
		return nil
	}
	if errors.Is(err, store.ErrUnavailable) {
		p.pages.Unavailable(w, r, err)
		return nil
	}
	ui.SecurityHeaders(w.Header())
	return caddyhttp.Error(http.StatusInternalServerError, err)
}

// serveRoute runs the route's guard, then, if it lets the request through,
// its handler h.
func (p *Portal) serveRoute(q *request, rt route, h func(*request) error) error {
	if ok, err := p.pass(q, rt.guardFor(q.r.Method)); !ok {
		return err
	}
	return h(q)
}

// static serves the portal's assets (rel is "static/..."), read-only.
func (p *Portal) static(w http.ResponseWriter, r *http.Request, rel string) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		p.pages.Message(w, r, http.StatusMethodNotAllowed, ui.TitleNotAllowed, ui.MsgNotAllowed)
		return nil
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + strings.TrimPrefix(rel, "static/")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	p.renderer.Static().ServeHTTP(w, r2)
	return nil
}

// open reads r's session (and, for a POST, its form) into a request; if it
// cannot, it has answered and ok is false.
func (p *Portal) open(w http.ResponseWriter, r *http.Request) (*request, bool) {
	sess, err := p.engine.Sessions.Get(r, "mfa")
	if err != nil {
		p.pages.Unavailable(w, r, err)
		return nil, false
	}
	if sess.IsNew && p.storeUp != nil {
		// Nothing was read from the store: a sign-in page would show
		// while it is down, and fail only once the form is sent.
		if err := p.storeUp(r.Context()); err != nil {
			p.pages.Unavailable(w, r, fmt.Errorf("%w: %w", store.ErrUnavailable, err))
			return nil, false
		}
	}
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			p.pages.Message(w, r, http.StatusBadRequest, ui.TitleBadRequest, ui.MsgBadRequest)
			return nil, false
		}
	}
	q := &request{w: w, r: r, sess: sess, data: session.DataOf(sess)}
	if q.data.User != "" && p.engine.Users.Lookup(q.data.User) == nil {
		if p.engine.UserPending(q.data.User) {
			// A directory user not looked up yet: not gone.
			p.pages.Held(w, r, true)
			return nil, false
		}
		// Removed or disabled in the users file since signing in: the
		// session is worth nothing, so start afresh (or the login page
		// and the protected app would send the browser to each other).
		if err := p.engine.Sessions.Rotate(r.Context(), sess); err != nil {
			p.pages.Unavailable(w, r, err)
			return nil, false
		}
		sess.IsNew = true
		now := p.engine.Sessions.Now().Unix()
		*q.data = session.Data{Created: now, LastSeen: now}
	}
	return q, true
}

// page returns the common page data.
func (p *Portal) page(q *request, title string) *ui.Page {
	pg := &ui.Page{Org: p.org, Prefix: p.prefix, HelpURL: p.opts.HelpURL, Title: title, CSRF: p.csrfToken(q.w, q.r, q.sess), RememberDays: p.rememberDays()}
	pg.Carry = p.carriedReturn(q)
	pg.StepUp = p.inStepUp(q)
	if q.data.User != "" && p.engine.Users.Lookup(q.data.User) != nil {
		pg.User = p.displayName(q.data.User)
	}
	return pg
}

// displayName is how pages, calls and prompts name user: the display name
// of the users file, else the user name.
func (p *Portal) displayName(user string) string {
	if u := p.engine.Users.Lookup(user); u != nil && u.DisplayName != "" {
		return u.DisplayName
	}
	return user
}

// displayTime is how pages and prompts show a time: in UTC, since the
// phone, the browser and the gateway may be in different time zones.
const displayTime = "2006-01-02 15:04 UTC"

func (p *Portal) render(q *request, status int, name string, pg *ui.Page) error {
	return p.renderer.Render(q.w, q.r, status, name, pg)
}

// redirect sends a 303 (after POST) or 302 to a path of ours.
func (p *Portal) redirect(q *request, path string) error {
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
func (p *Portal) root(q *request) error {
	if q.data.Level < session.TwoFactor {
		return p.redirect(q, p.prefix+"login")
	}
	pg := p.page(q, ui.TitleSignedIn)
	pg.Message, pg.SignedIn = ui.MsgSignedIn, true
	return p.render(q, http.StatusOK, "message", pg)
}

// promote raises the session to level, with a new id, and saves it.
func (p *Portal) promote(q *request, user string, level session.Level) error {
	ctx := q.r.Context()
	if err := p.engine.Sessions.Rotate(ctx, q.sess); err != nil {
		return err
	}
	now := p.engine.Sessions.Now().Unix()
	d := q.data
	if d.User != user {
		// A new sign-in: nothing of an earlier user's session carries over.
		*d = session.Data{Return: d.Return, Created: now}
	}
	d.User, d.Level = user, level
	if level == session.TwoFactor {
		d.SecondFactorAt = now
	}
	return p.engine.Sessions.Save(q.r, q.w, q.sess)
}

// nextStep is where a user who has given the password goes next.
func (p *Portal) nextStep(q *request) (string, error) {
	acct, err := p.engine.Account(q.r.Context(), q.data.User)
	if err != nil {
		return "", err
	}
	if acct.HasSecondFactor() {
		return p.prefix + "challenge", nil
	}
	if ok, err := p.mayRegister(q); err != nil || !ok {
		return p.prefix + registerPath, err
	}
	return p.prefix + "setup", nil
}

// returnPath is the validated place to go after sign-in: a same-origin
// path outside the portal, or the portal's security-info page.
func (p *Portal) returnPath(raw string) string {
	if raw == p.prefix+securityPath || p.isStepUpReturn(raw) {
		return raw
	}
	if abs := challenge.SafeReturnURL(raw, p.prefix, p.returnHosts); abs != "" {
		return abs // a site behind a verify endpoint (returnurl.go)
	}
	return challenge.SafeReturn(raw, p.prefix)
}

// requestedReturn is returnPath for a return path a request carries (rd):
// never a step-up's confirmation page, which only the server sets as a
// session's way back (a link must not bind a kept change to a session).
func (p *Portal) requestedReturn(raw string) string {
	if p.isStepUpReturn(raw) {
		return challenge.SafeReturn("", p.prefix)
	}
	return p.returnPath(raw)
}

// IPKey is what per-address limits count under: the address itself for
// IPv4, and its /64 for IPv6, since one client usually holds a whole /64.
func IPKey(ip string) string {
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

// TypedName is a user name as typed, for the log, only if such a user
// exists: people type their password into the name field by mistake, and
// a password must never reach the log.
func (p *Portal) TypedName(name string) string {
	if p.engine.KnownUser(name) != nil {
		return name
	}
	return "(unknown user)"
}

// LimitKey is the name rate limits and lockouts count under: the user name
// as typed (so unknown names are limited like known ones), bounded in size.
func LimitKey(user string) string {
	if len(user) > 256 {
		return user[:256]
	}
	return user
}
