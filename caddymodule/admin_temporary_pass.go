package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
)

// defaultTemporaryPass is how long a temporary access pass lasts when the
// administrator does not say: a working day.
const defaultTemporaryPass = 8 * time.Hour

// findUserTimeout bounds the wait for the directory's answer about a
// user who has never signed in.
const findUserTimeout = 10 * time.Second

// temporaryPassArgs reads for=<duration> and uses=<n> of an issue, with
// their defaults; any other parameter is refused (a mistyped one would
// otherwise give a pass other than the one meant).
func temporaryPassArgs(q url.Values) (time.Duration, int, error) {
	for k := range q {
		if k != "for" && k != "uses" {
			return 0, 0, fmt.Errorf("unknown parameter %q: give for=<duration> and uses=<n>", k)
		}
	}
	d := defaultTemporaryPass
	if s := q.Get("for"); s != "" {
		var err error
		if d, err = caddy.ParseDuration(s); err != nil || d <= 0 || d > challenge.MaxTemporaryPass {
			return 0, 0, fmt.Errorf("for=%q: give a duration such as 8h, more than 0 and at most %s", s, shortDuration(challenge.MaxTemporaryPass))
		}
	}
	uses := 1
	if s := q.Get("uses"); s != "" {
		var err error
		if uses, err = strconv.Atoi(s); err != nil || uses < 1 || uses > challenge.MaxTemporaryPassUses {
			return 0, 0, fmt.Errorf("uses=%q: give a number of sign-ins from 1 to %d", s, challenge.MaxTemporaryPassUses)
		}
	}
	return d, uses, nil
}

// shortDuration writes d as people do: 24h, 90m, 1h30m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// findUser is the enabled user typed stands for, asking the directory
// about one who has never signed in (at most findUserTimeout): the
// administrator's actions that must reach such a user too.
func (a *App) findUser(ctx context.Context, typed string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, findUserTimeout)
	defer cancel()
	u, err := a.engine.FindUser(ctx, typed)
	if err != nil {
		return "", caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("the directory did not answer: %w", err)}
	}
	if u == nil {
		return "", noSuchUser(typed)
	}
	return u.Name, nil
}

// noSuchUser is the answer for a name that stands for no enabled user.
func noSuchUser(typed string) error {
	return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no such user %q, or the user is disabled", typed)}
}

// issueTemporaryPass gives user a temporary access pass (for= and uses=
// of r), answered once in res and never logged: the security event says
// for how long and for how many sign-ins, and sends the user a notice.
func (a *App) issueTemporaryPass(r *http.Request, user string) (adminResult, error) {
	d, uses, err := temporaryPassArgs(r.URL.Query())
	if err != nil {
		return adminResult{User: user}, caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
	}
	name, err := a.findUser(r.Context(), user)
	if err != nil {
		return adminResult{User: user}, err
	}
	res := adminResult{User: name}
	pass, expires, err := a.engine.IssueTemporaryPass(r.Context(), name, d, uses)
	switch {
	case errors.Is(err, challenge.ErrNoSuchUser): // disabled just now
		return res, noSuchUser(user)
	case errors.Is(err, challenge.ErrTemporaryPass):
		return res, caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
	case err != nil:
		return res, caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("issuing a temporary access pass to %q: %w", name, err)}
	}
	res.TemporaryPass, res.Expires, res.Uses = pass, &expires, &uses
	a.events.Write(r, events.TemporaryPassIssued, name, zap.Duration("for", d), zap.Int("uses", uses),
		events.Expires(expires), zap.String("by", "admin"))
	return res, nil
}

// revokeTemporaryPass removes the pass of user, if any. A user the
// directory no longer has, or disables, is acted on as typed: the pass
// they may still hold must not wait for them to be enabled again.
func (a *App) revokeTemporaryPass(r *http.Request, user string) (adminResult, error) {
	if len(r.URL.Query()) > 0 {
		return adminResult{User: user}, caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: errors.New("a revoke takes no parameters")}
	}
	name, err := a.findUser(r.Context(), user)
	var apiErr caddy.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusNotFound:
		name = user
	case err != nil:
		return adminResult{User: user}, err
	}
	res := adminResult{User: name}
	if err := a.engine.RevokeTemporaryPass(r.Context(), name); err != nil {
		return res, caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("revoking the temporary access pass of %q: %w", name, err)}
	}
	revoked := true
	res.TemporaryPassRevoked = &revoked
	a.events.Write(r, events.TemporaryPassRevoked, name, zap.String("by", "admin"))
	return res, nil
}
