package challenge

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// When the users file removes or disables a user, what they hold beyond
// the file ends for good: every session, remembered device and app
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
	err := e.Accounts.Update(ctx, user, func(a *store.Account) error {
		x.Devices, x.AppPasswords = len(a.Devices), len(a.AppPasswords)
		if x.Devices == 0 && x.AppPasswords == 0 {
			return errNothingToSave
		}
		gone = a.AppPasswords
		a.Devices, a.AppPasswords = nil, nil
		return nil
	})
	if err != nil && !errors.Is(err, errNothingToSave) {
		return EndedAccess{}, fmt.Errorf("%w: ending the devices and app passwords of %q: %w", store.ErrUnavailable, user, err)
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

// GoneUsers lists the users whose access must end when a gateway starts,
// not having seen the users file change: those it disables, and those the
// store holds an account or sessions for that the file no longer lists
// (removed while no gateway ran, or while this one was stopped). Ending
// them is cheap when nothing is left (see EndUser).
func (e *Engine) GoneUsers(ctx context.Context) ([]users.Gone, error) {
	var out []users.Gone
	for _, u := range e.Users.All() {
		if u.Disabled {
			out = append(out, users.Gone{Name: u.Name, Reason: users.GoneDisabled})
		}
	}
	var names []string
	if lister, ok := e.Accounts.(store.AccountLister); ok {
		accounts, err := lister.Users(ctx)
		if err != nil {
			return out, fmt.Errorf("%w: listing accounts: %w", store.ErrUnavailable, err)
		}
		names = append(names, accounts...)
	}
	// A user who never registered a second factor has sessions but no account.
	withSessions, _, err := e.Sessions.Users(ctx)
	if err != nil {
		return out, err
	}
	names = append(names, withSessions...)
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		if !e.Users.Known(name) {
			out = append(out, users.Gone{Name: name, Reason: users.GoneRemoved})
		}
	}
	return out, nil
}
