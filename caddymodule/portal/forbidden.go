package portal

import (
	"net/http"
	"net/url"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// A signed-in user whom a route's allow_users/allow_groups refuse gets a
// 403 page that names the account and offers a way out: "Sign out", and
// "Sign in with another account" (sign-out, then the login page with the
// way back). Both are POSTs to the portal's logout, with a CSRF token bound
// to the session, so the hot path lets the portal render the page.
//
// A user who has given the password and has no second factor yet is not
// asked to register one for a route that will refuse them: the setup page
// looks up the routes that would serve the return path (the same routes
// of the same Caddy server, walked as Caddy matches them), and if the
// mfa handler of any of them refuses the user, it answers with the 403
// page instead (mayEnrol).

// RouteGuard is the Caddy handler of a route, as the portal asks it
// whether a user may use that route.
type RouteGuard interface {
	// AllowsUser reports whether u may use the route.
	AllowsUser(u *users.User) bool
}

// Forbidden answers a request of user u (session id sessID) that the
// route's policy refuses: 403, and for a browser a page that names the
// account, with sign-out and sign-in with another account.
func (p *Portal) Forbidden(w http.ResponseWriter, r *http.Request, sessID string, u *users.User) {
	if !WantsHTML(r) {
		p.pages.Message(w, r, http.StatusForbidden, ui.TitleForbidden, ui.MsgForbidden)
		return
	}
	p.renderForbidden(w, r, "s:"+sessID, u, ui.MsgForbiddenAccount, r.URL.RequestURI())
}

func (p *Portal) renderForbidden(w http.ResponseWriter, r *http.Request, binding string, u *users.User, msg, back string) {
	display := u.DisplayName
	if display == "" {
		display = u.Name
	}
	pg := &ui.Page{Org: p.org, Prefix: p.prefix, Title: ui.TitleForbidden, Message: msg, CSRF: p.mac(binding),
		MessageData: map[string]any{"Display": display, "User": u.Name}, User: display, Return: back}
	if err := p.renderer.Render(w, r, http.StatusForbidden, "forbidden", pg); err != nil {
		p.logger.Error("rendering the 403 page", zap.Error(err))
	}
}

// refusedAt reports whether a route of r's Caddy server that would serve
// path (a same-origin return path) refuses u.
func (p *Portal) refusedAt(r *http.Request, path string, u *users.User) bool {
	srv, _ := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	target, err := url.ParseRequestURI(path)
	if srv == nil || err != nil {
		return false
	}
	r2 := r.Clone(r.Context())
	r2.Method, r2.URL, r2.RequestURI = http.MethodGet, target, path
	return refuses(srv.Routes, r2, u)
}

// refuses walks routes as Caddy runs them for r (each matching route's
// handlers, subroutes within, up to a terminal one) and reports whether
// any mfa handler on the way refuses u.
func refuses(routes caddyhttp.RouteList, r *http.Request, u *users.User) bool {
	for i := range routes {
		rt := &routes[i]
		if ok, err := rt.MatcherSets.AnyMatchWithError(r); !ok || err != nil {
			continue
		}
		for _, h := range rt.Handlers {
			switch h := h.(type) {
			case RouteGuard:
				if !h.AllowsUser(u) {
					return true
				}
			case *caddyhttp.Subroute:
				if refuses(h.Routes, r, u) {
					return true
				}
			}
		}
		if rt.Terminal {
			return false
		}
	}
	return false
}
