package challenge

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// The app-password index: one key of the short-lived store per app
// password, named by its keyed hash (which binds the user and the secret).
// A wrong app password then costs one store miss and one keyed hash,
// whoever the user is: known or unknown, with a large account or none;
// only a right one reads the account. Without it, a known name's wrong
// guess decoded the whole account and took longer than an unknown name's,
// more so the more the account held, telling who exists.
//
// The index may hold an app password that is gone (a revocation whose
// delete failed): the account, read on a hit, has the last word. It must
// never lack one that exists, so a new app password is indexed before it
// is saved in the account, and the index of app passwords made before it
// existed is built once at start (BuildAppPasswordIndex); until it is,
// a miss falls back to the account.

// appPasswordIndexPrefix starts every key of the index.
const appPasswordIndexPrefix = "apppw:"

// appPasswordIndexBuilt marks the store's index as complete.
const appPasswordIndexBuilt = "apppw-index:v1"

// appPasswordIndexKey is the index key of the app password whose keyed
// hash is h.
func appPasswordIndexKey(h []byte) string { return appPasswordIndexPrefix + hex.EncodeToString(h) }

// indexAppPassword adds the app password whose keyed hash is h; it lasts
// as long as a block, for good in practice.
func (e *Engine) indexAppPassword(ctx context.Context, h []byte) error {
	if err := e.KV.Set(ctx, appPasswordIndexKey(h), []byte{1}, blockFor); err != nil {
		return fmt.Errorf("%w: indexing an app password: %w", store.ErrUnavailable, err)
	}
	return nil
}

// unindexAppPasswords removes ps from the index.
func (e *Engine) unindexAppPasswords(ctx context.Context, ps []store.AppPassword) error {
	for _, p := range ps {
		if err := e.KV.Delete(ctx, appPasswordIndexKey(p.Hash)); err != nil {
			return fmt.Errorf("%w: removing an app password from the index: %w", store.ErrUnavailable, err)
		}
	}
	return nil
}

// appPasswordMayExist reports whether the app password whose keyed hash
// is h may exist: the index holds it, or the index is not built yet.
func (e *Engine) appPasswordMayExist(ctx context.Context, h []byte) (bool, error) {
	_, err := e.KV.Get(ctx, appPasswordIndexKey(h))
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("%w: reading the app-password index: %w", store.ErrUnavailable, err)
	}
	if e.appPasswordIndexReady.Load() {
		return false, nil
	}
	// Another gateway on the same store may have built it.
	if _, err := e.KV.Get(ctx, appPasswordIndexBuilt); err == nil {
		e.appPasswordIndexReady.Store(true)
		return false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("%w: reading the app-password index: %w", store.ErrUnavailable, err)
	}
	return true, nil
}

// BuildAppPasswordIndex indexes the app passwords of every user of the
// users file (only they can use one), once per store: a store whose index
// is marked built is left alone. It is idempotent, so gateways sharing a
// store may all run it; an error leaves the index unmarked, to try again.
func (e *Engine) BuildAppPasswordIndex(ctx context.Context) error {
	if _, err := e.KV.Get(ctx, appPasswordIndexBuilt); err == nil {
		e.appPasswordIndexReady.Store(true)
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: reading the app-password index: %w", store.ErrUnavailable, err)
	}
	for _, u := range e.Users.All() {
		a, err := e.Account(ctx, u.Name)
		if err != nil {
			return err
		}
		if a == nil {
			continue
		}
		for _, p := range a.AppPasswords {
			if err := e.indexAppPassword(ctx, p.Hash); err != nil {
				return err
			}
		}
	}
	if err := e.KV.Set(ctx, appPasswordIndexBuilt, []byte{1}, blockFor); err != nil {
		return fmt.Errorf("%w: marking the app-password index built: %w", store.ErrUnavailable, err)
	}
	e.appPasswordIndexReady.Store(true)
	return nil
}
