package challenge

import (
	"context"
	"errors"
	"fmt"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// errNoChange, returned by the change of an updateAccount, saves nothing
// and is no error: the account is as it should be already.
var errNoChange = errors.New("nothing to save")

// updateAccount applies change to the account of user (a new, empty one if
// there is none) and saves the result in one step of the store. An error
// change returns is the engine's answer (ErrBadCode, ErrNoSuchMethod, ...):
// nothing is saved and it is returned as it is, but for errNoChange, which
// saves nothing and returns nil. Any other failure is the store's, wrapped
// in store.ErrUnavailable with doing ("saving app password"). The store may
// run change more than once (Redis, on contention); the last run counts.
func (e *Engine) updateAccount(ctx context.Context, user, doing string, change func(a *store.Account) error) error {
	var refused error
	err := e.Accounts.Update(ctx, user, func(a *store.Account) error {
		refused = change(a)
		return refused
	})
	switch {
	case errors.Is(refused, errNoChange):
		return nil
	case refused != nil:
		return refused
	case err != nil:
		return fmt.Errorf("%w: %s: %w", store.ErrUnavailable, doing, err)
	}
	return nil
}
