package challenge

import (
	"context"
	"errors"
	"fmt"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// When the users file removes or disables a user (for longer than the
// gateway's grace period: see caddymodule's userEnder), what they hold
// beyond the file ends for good: every session, remembered device and app
// password, and a one-time pass waiting. All are deleted from the store
// (shared by every gateway on Redis, kept across restarts), so putting the
// user back revives none of them: they sign in again with the password and
// a second factor. Their registered second factors and recovery codes stay:
// someone back from leave should not have to register again, and those
// prove nothing without the password; an administrator who wants them gone
// too runs `caddy mfa reset`.

// EndedAccess counts what EndUser removed.
type EndedAccess struct {
	// Sessions is how many live sessions ended.
	Sessions int
	// Devices is how many remembered devices were forgotten.
	Devices int
	// AppPasswords is how many app passwords were revoked.
	AppPasswords int
	// Pass reports that a one-time pass (`caddy mfa bypass`) was waiting.
	Pass bool
}

// Any reports whether anything was removed.
func (x EndedAccess) Any() bool {
	return x.Sessions > 0 || x.Devices > 0 || x.AppPasswords > 0 || x.Pass
}

// EndUser ends every session of user on every gateway sharing the store,
// forgets their remembered devices, revokes their app passwords and drops
// a waiting one-time pass. It is idempotent: on a user with nothing left
// it removes nothing and is no error, so several gateways that each see
// the same change may all run it.
func (e *Engine) EndUser(ctx context.Context, user string) (EndedAccess, error) {
	var x EndedAccess
	var gone []store.AppPassword
	err := e.updateAccount(ctx, user, fmt.Sprintf("ending the devices and app passwords of %q", user), func(a *store.Account) error {
		x.Devices, x.AppPasswords = len(a.Devices), len(a.AppPasswords)
		if x.Devices == 0 && x.AppPasswords == 0 {
			return errNoChange
		}
		gone = a.AppPasswords
		a.Devices, a.AppPasswords = nil, nil
		return nil
	})
	if err != nil {
		return EndedAccess{}, err
	}
	if err := e.unindexAppPasswords(ctx, gone); err != nil {
		return x, err
	}
	if x.Sessions, err = e.Sessions.RevokeUser(ctx, user); err != nil {
		return x, err
	}
	_, err = e.KV.Take(ctx, bypassKey(user))
	switch {
	case err == nil:
		x.Pass = true
	case !errors.Is(err, store.ErrNotFound):
		return x, fmt.Errorf("%w: removing the pass of %q: %w", store.ErrUnavailable, user, err)
	}
	return x, nil
}
