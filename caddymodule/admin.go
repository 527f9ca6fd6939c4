package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/caddymodule/portal"
	"github.com/caddy-mfa/caddy-mfa/challenge"
)

func init() {
	caddy.RegisterModule(adminAPI{})
}

// adminAPI adds the administrator's actions to Caddy's admin endpoint, so
// that `caddy mfa ...` reaches the running gateway (whose embedded stores
// live in its process) as well as Redis:
//
//	GET  /mfa/users
//	POST /mfa/unlock/<user>
//	POST /mfa/sessions/revoke/<user>[?app_passwords=revoke]
//	POST /mfa/reset/<user>
//	POST /mfa/bypass/<user>?for=<duration, at most 1h>
//	POST /mfa/temporary-pass/<user>[?for=<duration, default 8h, at most 24h>][&uses=<n, default 1, at most 10>]
//	POST /mfa/temporary-pass/revoke/<user>
//
// A temporary access pass is answered once, in "temporary_pass", and is
// kept only as a hash; the user is found as at the sign-in page (asking
// the directory about one who has never signed in). Its revoke has a path
// of its own, so that a mistyped parameter cannot issue a pass instead.
type adminAPI struct{}

// CaddyModule returns the Caddy module information.
func (adminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.mfa",
		New: func() caddy.Module { return adminAPI{} },
	}
}

// Routes implements caddy.AdminRouter.
func (a adminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{Pattern: "/mfa/", Handler: caddy.AdminHandlerFunc(a.serve)}}
}

// adminResult is the JSON answer of an admin action.
type adminResult struct {
	User          string `json:"user"`
	WasLocked     *bool  `json:"was_locked,omitempty"`
	SessionsEnded *int   `json:"sessions_ended,omitempty"`
	// AppPasswordsRevoked is how many app passwords a revoke with
	// app_passwords=revoke removed.
	AppPasswordsRevoked *int       `json:"app_passwords_revoked,omitempty"`
	BypassUntil         *time.Time `json:"bypass_until,omitempty"`
	// TemporaryPass is the temporary access pass just issued, shown only
	// in this answer; Expires and Uses are its end and its sign-ins.
	TemporaryPass string     `json:"temporary_pass,omitempty"`
	Expires       *time.Time `json:"expires,omitempty"`
	Uses          *int       `json:"uses,omitempty"`
	// TemporaryPassRevoked is true after a revoke: no pass of the user
	// is left (whether or not one was).
	TemporaryPassRevoked *bool `json:"temporary_pass_revoked,omitempty"`
}

const adminUsage = "use GET /mfa/users, or POST /mfa/unlock/<user>, /mfa/sessions/revoke/<user>, /mfa/reset/<user>, /mfa/bypass/<user>?for=<duration>, " +
	"/mfa/temporary-pass/<user>?for=<duration>&uses=<n> or /mfa/temporary-pass/revoke/<user>"

func (adminAPI) serve(w http.ResponseWriter, r *http.Request) error {
	action, user, ok := parseAdminPath(r.URL.Path)
	if !ok {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("unknown mfa action %q; %s", r.URL.Path, adminUsage)}
	}
	want := http.MethodPost
	if action == "users" {
		want = http.MethodGet
	}
	if r.Method != want {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("use %s", want)}
	}
	appIface, err := caddy.ActiveContext().AppIfConfigured("mfa")
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("the running config has no mfa app: %w", err)}
	}
	app := appIface.(*App)
	if held := app.gate.held(); held != nil {
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: held.error()}
	}
	var res any
	if action == "users" {
		list, err := app.engine.UserList(r.Context(), portal.LimitKey)
		if err != nil {
			return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("listing users: %w", err)}
		}
		res = list
	} else {
		if res, err = app.adminAction(r, action, user); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", "application/json")
	// A temporary access pass is in the answer: no cache keeps it.
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(res)
}

// adminAction carries out an action on user, logging it as a security event.
func (a *App) adminAction(r *http.Request, action, user string) (adminResult, error) {
	e, ctx := a.engine, r.Context()
	// The user the name stands for, as at the sign-in page: with
	// case_insensitive or search_email, "alice" unlocks Alice. A name
	// that stands for no user of the file is acted on as typed (a user
	// removed from the file keeps their data under their own name; the
	// folded form of it could be someone else's).
	if c := e.Users.Canonical(user); e.Users.Lookup(c) != nil {
		user = c
	}
	res := adminResult{User: user}
	unavailable := func(what string, err error) error {
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("%s %q: %w", what, user, err)}
	}
	switch action {
	case "unlock":
		was, err := e.Regulation.Unlock(ctx, portal.LimitKey(user))
		if err != nil {
			return res, unavailable("unlocking", err)
		}
		res.WasLocked = &was
		a.events.Write(r, events.Unlocked, user, zap.Bool("was_locked", was), zap.String("by", "admin"))
	case "revoke":
		if r.URL.Query().Get("app_passwords") == "revoke" {
			n, err := e.RevokeAllAppPasswords(ctx, user)
			if err != nil {
				return res, unavailable("revoking app passwords of", err)
			}
			res.AppPasswordsRevoked = &n
			a.events.Write(r, events.AppPasswordsRevoked, user, zap.Int("app_passwords", n), zap.String("by", "admin"))
		}
		n, err := e.Sessions.RevokeUser(ctx, user)
		if err == nil {
			err = e.ForgetDevices(ctx, user)
		}
		if err != nil {
			return res, unavailable("ending sessions of", err)
		}
		res.SessionsEnded = &n
		a.events.Write(r, events.SessionsRevoked, user, zap.Int("sessions", n), zap.String("by", "admin"))
	case "reset":
		n, err := e.Reset(ctx, user)
		if err != nil {
			return res, unavailable("resetting", err)
		}
		res.SessionsEnded = &n
		a.events.Write(r, events.UserReset, user, zap.Int("sessions", n), zap.String("by", "admin"))
	case "bypass":
		d, err := caddy.ParseDuration(r.URL.Query().Get("for"))
		if err != nil {
			return res, caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("for=%q is not a duration such as 30m: %w", r.URL.Query().Get("for"), err)}
		}
		err = e.GrantBypass(ctx, user, d)
		switch {
		case errors.Is(err, challenge.ErrNoSuchUser):
			return res, caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("%q: %w", user, err)}
		case errors.Is(err, challenge.ErrBypassDuration):
			return res, caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
		case err != nil:
			return res, unavailable("granting a pass to", err)
		}
		until := e.Now().Add(d).UTC().Truncate(time.Second)
		res.BypassUntil = &until
		a.events.Write(r, events.BypassGranted, user, zap.Duration("for", d), zap.String("by", "admin"))
	case "temporary-pass":
		return a.issueTemporaryPass(r, user)
	case "temporary-pass-revoke":
		return a.revokeTemporaryPass(r, user)
	}
	return res, nil
}

// parseAdminPath splits /mfa/users and /mfa/<action>/<user>.
func parseAdminPath(p string) (action, user string, ok bool) {
	if p == "/mfa/users" {
		return "users", "", true
	}
	for prefix, action := range map[string]string{
		"/mfa/unlock/": "unlock", "/mfa/sessions/revoke/": "revoke", "/mfa/reset/": "reset", "/mfa/bypass/": "bypass",
		"/mfa/temporary-pass/": "temporary-pass", "/mfa/temporary-pass/revoke/": "temporary-pass-revoke",
	} {
		if u, found := strings.CutPrefix(p, prefix); found && u != "" && !strings.Contains(u, "/") {
			return action, u, true
		}
	}
	return "", "", false
}

// Interface guard.
var _ caddy.AdminRouter = adminAPI{}
