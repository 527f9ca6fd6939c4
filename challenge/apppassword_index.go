package challenge

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

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
// is saved in the account, and the app passwords of each user of the
// users file made before the index existed are indexed at start
// (BuildAppPasswordIndex), which marks that user's index complete. For a
// user not marked yet (on another gateway's users file, or added since),
// a miss falls back to the account. Every check reads the index entry and
// the user's mark, so known and unknown names do the same reads.

// appPasswordIndexPrefix starts every key of the index.
const appPasswordIndexPrefix = "apppw:"

// appPasswordIndexedPrefix starts the mark of a user whose app passwords
// are all indexed.
const appPasswordIndexedPrefix = "apppw-indexed:"

// appPasswordIndexKey is the index key of the app password whose keyed
// hash is h.
func appPasswordIndexKey(h []byte) string { return appPasswordIndexPrefix + hex.EncodeToString(h) }

// indexFor is how long the keys of the index last: for good, in practice.
const indexFor = 10 * 365 * 24 * time.Hour

// indexAppPassword adds the app password whose keyed hash is h; it lasts
// for good, in practice (indexFor).
func (e *Engine) indexAppPassword(ctx context.Context, h []byte) error {
	if err := e.KV.Set(ctx, appPasswordIndexKey(h), []byte{1}, indexFor); err != nil {
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

// appPasswordMayExist reports whether the app password of user whose
// keyed hash is h may exist: the index holds it, or user's app passwords
// are not all indexed yet. The account no user has (noSuchUser) counts as
// indexed, after the same reads.
func (e *Engine) appPasswordMayExist(ctx context.Context, user string, h []byte) (bool, error) {
	_, err := e.KV.Get(ctx, appPasswordIndexKey(h))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("%w: reading the app-password index: %w", store.ErrUnavailable, err)
	}
	hit := err == nil
	_, err = e.KV.Get(ctx, appPasswordIndexedPrefix+user)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("%w: reading the app-password index: %w", store.ErrUnavailable, err)
	}
	marked := err == nil || user == noSuchUser
	return hit || !marked, nil
}

// markAppPasswordsIndexed marks every app password of user indexed.
func (e *Engine) markAppPasswordsIndexed(ctx context.Context, user string) error {
	if err := e.KV.Set(ctx, appPasswordIndexedPrefix+user, []byte{1}, indexFor); err != nil {
		return fmt.Errorf("%w: marking the app-password index of %q: %w", store.ErrUnavailable, user, err)
	}
	return nil
}

// BuildAppPasswordIndex indexes the app passwords of every user of the
// users file (only they can use one) whose index is not marked complete,
// and marks it. It is idempotent, so gateways sharing a store (with the
// same users file or not) may all run it, at every start and users-file
// reload. An account that cannot be read (it does not decode) is passed to
// skip and left unmarked, and the others go on; a store that cannot be
// reached stops it (ErrUnavailable), leaving the users not reached
// unmarked, to try again.
func (e *Engine) BuildAppPasswordIndex(ctx context.Context, skip func(user string, err error)) error {
	for _, u := range e.Users.All() {
		if _, err := e.KV.Get(ctx, appPasswordIndexedPrefix+u.Name); err == nil {
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: reading the app-password index: %w", store.ErrUnavailable, err)
		}
		a, err := e.Accounts.Get(ctx, u.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			a = nil
		case errors.Is(err, store.ErrUnavailable):
			return err
		case err != nil:
			skip(u.Name, err)
			continue
		}
		if a != nil {
			for _, p := range a.AppPasswords {
				if err := e.indexAppPassword(ctx, p.Hash); err != nil {
					return err
				}
			}
		}
		if err := e.markAppPasswordsIndexed(ctx, u.Name); err != nil {
			return err
		}
	}
	return nil
}
