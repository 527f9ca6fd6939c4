package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/caddymodule/portal"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler guards one route: it serves the portal under the portal prefix and
// lets any other request through only with a signed-in, allowed user, to
// whom it adds the identity headers Remote-User, Remote-Groups, Remote-Name
// and Remote-Email or the names Headers gives (removing any a client sent)
// and Caddy's {http.auth.user.*} placeholders, and from whose request it
// removes the gateway's session cookie.
type Handler struct {
	// AllowUsers, if set, lists the users who may use this route.
	AllowUsers []string `json:"allow_users,omitempty"`
	// AllowGroups, if set, lists the groups whose members may use this
	// route. With both lists set, being in either is enough; with neither,
	// every signed-in user may.
	AllowGroups []string `json:"allow_groups,omitempty"`
	// Policy is what this route needs: "two_factor" (password and a
	// second factor) or "one_factor" (the password alone, as for Azure's
	// lower policy levels). Default: two_factor.
	Policy string `json:"policy,omitempty"`
	// TrustedNetworks are client networks (CIDRs, single addresses, or
	// "private_ranges") from which the password alone is enough on this
	// route, as Azure's trusted IPs. The client address is the one Caddy
	// determines, honouring the server's trusted_proxies. Default: none.
	TrustedNetworks []string `json:"trusted_networks,omitempty"`
	// AppPasswords lets clients that cannot do the second factor (mail
	// apps, WebDAV, scripts) use this route with HTTP Basic auth: the user
	// name and one of that user's app passwords, never their password.
	// Default: off.
	AppPasswords bool `json:"app_passwords,omitempty"`
	// Verify makes this handler a verify endpoint for another proxy
	// instead of a guard: "forward_auth" (Caddy's forward_auth, Traefik's
	// forwardAuth) or "auth_request" (nginx). It answers 200 with the
	// identity headers, 403, or the way to the portal, and never passes
	// the request on (verify.go, docs/verify.md). Default: off.
	Verify string `json:"verify,omitempty"`

	// Registration is refused here: the registration policy is the mfa
	// app's (apps.mfa.registration) for every site, since a method
	// registered on one site signs in on all of them.
	Registration json.RawMessage `json:"registration,omitempty"`
	// Headers, if set, renames the identity headers sent to the upstream
	// (user, groups, name, email; each left out keeps its Remote-* name).
	// Client-sent copies of these names and of the Remote-* ones are always
	// removed. Default: Remote-User, Remote-Groups, Remote-Name,
	// Remote-Email.
	Headers *IdentityHeaders `json:"headers,omitempty"`

	app *App
	ids *identityNames
	// looseOnce logs once that trusted networks met a loose proxy chain.
	// (A pointer: Caddy copies the handler's value.)
	looseOnce *sync.Once
	policy    challenge.Policy
	oneFactor bool
	trusted   []netip.Prefix
	portal    *portal.Portal
	logger    *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.mfa",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision fetches the mfa app (configured by the global option).
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	appIface, err := ctx.App("mfa")
	if err != nil {
		return fmt.Errorf("mfa handler: loading the mfa app: %w", err)
	}
	return h.setup(appIface.(*App))
}

func (h *Handler) setup(app *App) error {
	h.app = app
	h.policy = challenge.Policy{AllowUsers: h.AllowUsers, AllowGroups: h.AllowGroups}
	if err := h.Headers.check(); err != nil {
		return fmt.Errorf("mfa handler: %w", err)
	}
	h.ids = newIdentityNames(h.Headers)
	h.setupPolicy()
	if msg := loopbackTrusted(h.trusted); msg != "" {
		h.logger.Warn(msg)
	}
	h.looseOnce = new(sync.Once)
	reg := app.registration
	p, err := portal.New(portal.Config{
		Engine: app.engine, Renderer: app.renderer, Pages: app.pages, Events: app.events, Logger: h.logger,
		Prefix: app.prefix, Org: app.org, PublicURL: app.public, ReturnHosts: app.returnHosts, Cookies: app.cookies,
		Providers: app.portalProviders(),
		Options: portal.Options{RememberDevice: time.Duration(app.RememberDevice), Development: app.Development, HelpURL: app.help,
			Registration: reg, CodeMail: app.codeMail},
		Held:    app.answerHeld,
		StoreUp: app.storeUp(),
		Owner:   h,
	})
	if err != nil {
		return fmt.Errorf("mfa handler: %w", err)
	}
	h.portal = p
	return nil
}

// setupPolicy reads what the route needs: one or two factors, and from
// which networks one is enough.
func (h *Handler) setupPolicy() {
	h.oneFactor = h.Policy == policyOneFactor
	h.trusted = nil
	for _, n := range h.TrustedNetworks {
		h.trusted = append(h.trusted, parseNetworks(n)...)
	}
}

// Validate checks the handler's configuration.
func (h *Handler) Validate() error {
	if len(h.Registration) > 0 {
		return errors.New("mfa: registration belongs in the mfa app (apps.mfa.registration), not in a route: a method registered on one site signs in on every site, so one policy must hold for all of them")
	}
	for _, u := range h.AllowUsers {
		if u == "" || strings.ContainsAny(u, " \t") {
			return fmt.Errorf("mfa: allow_users: bad user name %q", u)
		}
	}
	for _, g := range h.AllowGroups {
		if g == "" || strings.ContainsAny(g, " \t") {
			return fmt.Errorf("mfa: allow_groups: bad group name %q", g)
		}
	}
	if err := checkVerify(h.Verify); err != nil {
		return err
	}
	if h.Policy != "" && h.Policy != policyOneFactor && h.Policy != policyTwoFactor {
		return fmt.Errorf("mfa: policy %q: use one_factor or two_factor", h.Policy)
	}
	for _, n := range h.TrustedNetworks {
		if parseNetworks(n) == nil {
			return fmt.Errorf("mfa: trusted_networks: %q is not a CIDR such as 10.0.0.0/8, an address, or private_ranges", n)
		}
	}
	if err := h.Headers.check(); err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	return nil
}

// ServeHTTP implements caddyhttp.MiddlewareHandler. This is the hot path for
// signed-in requests: one cookie check, one store read, a map lookup.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if h.Verify != "" {
		return h.serveVerify(w, r)
	}
	prefix := h.app.prefix
	if strings.HasPrefix(r.URL.Path, prefix) || r.URL.Path == prefix[:len(prefix)-1] {
		return h.portal.Serve(w, r)
	}
	if h.app.answerHeld(w, r) {
		return nil
	}
	h.ids.stripFrom(r.Header)
	h.ids.stripTrailers(r)
	if h.AppPasswords {
		if user, secret, ok := r.BasicAuth(); ok {
			return h.serveAppPassword(w, r, next, user, secret)
		}
	}

	sessID, d, err := h.app.engine.Sessions.Lookup(r)
	if err != nil {
		h.app.pages.Unavailable(w, r, err)
		return nil
	}
	need := h.needs(r)
	if d == nil || d.Level < need {
		h.unauthenticated(w, r, need)
		return nil
	}
	u := h.app.engine.Users.Lookup(d.User)
	if u == nil {
		if h.app.engine.UserPending(d.User) {
			// A directory user this gateway has not looked up yet.
			h.app.pages.Held(w, r, true)
			return nil
		}
		// Removed or disabled in the users file since signing in.
		h.unauthenticated(w, r, need)
		return nil
	}
	if !h.policy.Allows(u) {
		h.app.events.Write(r, events.AccessDenied, u.Name, zap.String("path", r.URL.Path))
		h.portal.Forbidden(w, r, sessID, u)
		return nil
	}
	h.ids.setOn(r.Header, u)
	setUserPlaceholders(r, u, levelMethod(d.Level))
	h.app.cookies.StripOwn(r.Header)
	return next.ServeHTTP(w, r)
}

// AllowsUser reports whether u may use this route (its allow_users and
// allow_groups): the portal asks before registering a user for it.
func (h *Handler) AllowsUser(u *users.User) bool { return h.policy.Allows(u) }

// needs is the sign-in level r needs on this route: one factor on a
// one_factor route or from a trusted network, else two.
func (h *Handler) needs(r *http.Request) session.Level {
	if h.oneFactor {
		return session.OneFactor
	}
	if len(h.trusted) > 0 {
		ip, loose := events.NetworkIP(r)
		if loose && h.looseOnce != nil {
			h.looseOnce.Do(func() { h.logger.Warn(events.LooseProxiesWarning) })
		}
		for _, n := range h.trusted {
			if ip.IsValid() && n.Contains(ip) {
				return session.OneFactor
			}
		}
	}
	return session.TwoFactor
}

// unauthenticated sends a browser navigation to the portal with a return
// path (and, if the password is enough here, a hint that lets the portal
// send the user straight back after it), and answers anything else (API
// calls, XHR, POSTs) with 401.
func (h *Handler) unauthenticated(w http.ResponseWriter, r *http.Request, need session.Level) {
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && portal.WantsHTML(r) {
		target := h.app.prefix + "login?rd=" + url.QueryEscape(r.URL.RequestURI())
		if need == session.OneFactor {
			target += "&" + oneFactorHint
		}
		ui.SecurityHeaders(w.Header())
		http.Redirect(w, r, target, http.StatusFound)
		return
	}
	ui.SecurityHeaders(w.Header())
	if h.AppPasswords {
		w.Header().Set("WWW-Authenticate", basicChallenge(h.app.org))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte("401 Unauthorized: sign in at " + h.app.prefix + "login\n"))
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
