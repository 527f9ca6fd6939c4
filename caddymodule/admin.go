package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(adminAPI{})
}

// adminAPI adds the administrator's actions to Caddy's admin endpoint, so
// that `caddy mfa unlock` and `caddy mfa sessions revoke` reach the running
// gateway (whose embedded stores live in its process) as well as Redis:
//
//	POST /mfa/unlock/<user>
//	POST /mfa/sessions/revoke/<user>
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
}

func (adminAPI) serve(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: errors.New("use POST")}
	}
	action, user, ok := parseAdminPath(r.URL.Path)
	if !ok {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("unknown mfa action %q; use /mfa/unlock/<user> or /mfa/sessions/revoke/<user>", r.URL.Path)}
	}
	appIface, err := caddy.ActiveContext().AppIfConfigured("mfa")
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("the running config has no mfa app: %w", err)}
	}
	app := appIface.(*App)
	res := adminResult{User: user}
	switch action {
	case "unlock":
		was, err := app.engine.Regulation.Unlock(r.Context(), limitKey(user))
		if err != nil {
			return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("unlocking %q: %w", user, err)}
		}
		res.WasLocked = &was
		app.logger.Info("security event", zap.String("event", "unlocked"), zap.String("user", user), zap.Bool("was_locked", was), zap.String("by", "admin"))
	case "revoke":
		n, err := app.engine.Sessions.RevokeUser(r.Context(), user)
		if err != nil {
			return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("ending sessions of %q: %w", user, err)}
		}
		res.SessionsEnded = &n
		app.logger.Info("security event", zap.String("event", "sessions_revoked"), zap.String("user", user), zap.Int("sessions", n), zap.String("by", "admin"))
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(res)
}

// parseAdminPath splits /mfa/unlock/<user> and /mfa/sessions/revoke/<user>.
func parseAdminPath(p string) (action, user string, ok bool) {
	if u, found := strings.CutPrefix(p, "/mfa/unlock/"); found && u != "" && !strings.Contains(u, "/") {
		return "unlock", u, true
	}
	if u, found := strings.CutPrefix(p, "/mfa/sessions/revoke/"); found && u != "" && !strings.Contains(u, "/") {
		return "revoke", u, true
	}
	return "", "", false
}

// Interface guard.
var _ caddy.AdminRouter = adminAPI{}
