package challenge

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/caddy-mfa/caddy-mfa/challenge/securitykey"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// MethodWebAuthn is a security key or passkey (WebAuthn).
const MethodWebAuthn = "webauthn"

// MaxKeys is how many security keys one user may register.
const MaxKeys = 20

// keyIDPrefix starts the method ID of a security key on the security-info
// page; the base64url credential id follows.
const keyIDPrefix = "key-"

// ErrCeremony is an answer of a security key with no ceremony of this
// user under way: it expired, was used already, or belongs to another
// user or browser session.
var ErrCeremony = errors.New("the security key request expired or was used already")

// ErrTooManyKeys is a registration beyond MaxKeys.
var ErrTooManyKeys = fmt.Errorf("at most %d security keys can be registered", MaxKeys)

// ErrKeyExists is a registration of a key the user has registered already.
var ErrKeyExists = errors.New("this security key is registered already")

// ErrBadKeyName is an empty or overlong name of a security key.
var ErrBadKeyName = errors.New("a security key needs a name of 1 to 64 characters")

// KeyID is how forms name the key with credential id id.
func KeyID(id []byte) string { return keyIDPrefix + base64.RawURLEncoding.EncodeToString(id) }

// keyAccount is the securitykey view of account a (nil: none yet) of user.
func keyAccount(user, display string, a *store.Account) *securitykey.Account {
	k := &securitykey.Account{Name: user, Display: display}
	if a != nil {
		k.Handle, k.Keys = a.KeyHandle, a.Keys
	}
	return k
}

// sameKey reports whether k is the key with credential id id.
func sameKey(id []byte) func(k store.SecurityKey) bool {
	return func(k store.SecurityKey) bool { return bytes.Equal(k.CredentialID, id) }
}

// BeginKeyRegistration starts registering a security key for user (shown
// to the key as display) in the browser session tagged session, on site.
// It returns the options for navigator.credentials.create.
func (e *Engine) BeginKeyRegistration(ctx context.Context, site securitykey.Site, user, display, session string) (securitykey.Options, error) {
	a, err := e.Account(ctx, user)
	if err != nil {
		return nil, err
	}
	k := keyAccount(user, display, a)
	if len(k.Handle) == 0 {
		// The first key: a user handle of random bytes, saved with the key.
		k.Handle = make([]byte, 32)
		if _, err := rand.Read(k.Handle); err != nil {
			return nil, fmt.Errorf("making a webauthn user handle: %w", err)
		}
	}
	opts, c, err := e.SecurityKeys.BeginRegistration(site, k, e.Now())
	if err != nil {
		return nil, err
	}
	return opts, e.saveCeremony(ctx, PurposeEnrol, session, c)
}

// FinishKeyRegistration checks the browser's answer to the registration
// under way in session and registers the key as name. If it is the user's
// first second factor, recovery codes are made and returned, to show
// once; with firstOnly, a user who has one already gets
// ErrAlreadyEnrolled. Errors: ErrBadKeyName, ErrCeremony, ErrTooManyKeys,
// *securitykey.OriginError, securitykey.ErrRejected and ErrKeyExists.
func (e *Engine) FinishKeyRegistration(ctx context.Context, site securitykey.Site, user, session, name string, response []byte, firstOnly bool) ([]string, error) {
	name, ok := cleanName(name)
	if !ok {
		return nil, ErrBadKeyName
	}
	c, err := e.takeCeremony(ctx, PurposeEnrol, session, user)
	if err != nil {
		return nil, err
	}
	// The checks against the user's keys happen where the key is saved.
	key, err := e.SecurityKeys.FinishRegistration(site, &securitykey.Account{Name: user, Handle: c.Data.UserID}, c, response)
	if err != nil {
		return nil, err
	}
	now := e.Now()
	key.Name, key.Added, key.LastUsed = name, now, now
	return e.addMethod(ctx, user, firstOnly, "security key", func(a *store.Account) error {
		switch {
		case len(a.KeyHandle) > 0 && !bytes.Equal(a.KeyHandle, c.Data.UserID):
			return ErrCeremony // the user's keys were reset meanwhile
		case len(a.Keys) >= MaxKeys:
			return ErrTooManyKeys
		case slices.ContainsFunc(a.Keys, sameKey(key.CredentialID)):
			return ErrKeyExists
		}
		a.KeyHandle, a.Keys = c.Data.UserID, append(a.Keys, key)
		return nil
	})
}

// BeginKeySignIn starts a sign-in of user with one of their keys, in the
// browser session tagged session, on site. It returns the options for
// navigator.credentials.get; ok is false if the user has no key.
func (e *Engine) BeginKeySignIn(ctx context.Context, site securitykey.Site, a *store.Account, session string) (securitykey.Options, bool, error) {
	if a == nil || len(a.Keys) == 0 {
		return nil, false, nil
	}
	opts, c, err := e.SecurityKeys.BeginLogin(site, keyAccount(a.User, "", a), e.Now())
	if err != nil {
		return nil, false, err
	}
	return opts, true, e.saveCeremony(ctx, PurposeSignIn, session, c)
}

// FinishKeySignIn checks the browser's answer to the sign-in under way in
// session and records the key's new counter and use. Errors: ErrCeremony,
// *securitykey.OriginError, securitykey.ErrRejected, and
// securitykey.ErrCloned (naming the key), which leaves the key as it was:
// a log-worthy security event.
func (e *Engine) FinishKeySignIn(ctx context.Context, site securitykey.Site, user, session string, response []byte) error {
	c, err := e.takeCeremony(ctx, PurposeSignIn, session, user)
	if err != nil {
		return err
	}
	a, err := e.Account(ctx, user)
	if err != nil {
		return err
	}
	key, err := e.SecurityKeys.FinishLogin(site, keyAccount(user, "", a), c, response)
	if err != nil {
		return err
	}
	now := e.Now()
	return e.updateAccount(ctx, user, "recording security key sign-in", func(a *store.Account) error {
		i := slices.IndexFunc(a.Keys, sameKey(key.CredentialID))
		// Removed meanwhile, or another sign-in with it recorded meanwhile.
		if i < 0 || a.Keys[i].SignCount > key.SignCount {
			return ErrCeremony
		}
		a.Keys[i].SignCount, a.Keys[i].Flags, a.Keys[i].LastUsed, a.LastSignIn = key.SignCount, key.Flags, now, now
		return nil
	})
}

// RenameKey gives user's key id (as KeyID names it) the name name.
func (e *Engine) RenameKey(ctx context.Context, user, id, name string) error {
	name, ok := cleanName(name)
	if !ok {
		return ErrBadKeyName
	}
	return e.updateAccount(ctx, user, "renaming a security key", func(a *store.Account) error {
		i := keyIndex(a, id)
		if i < 0 {
			return ErrNoSuchMethod
		}
		a.Keys[i].Name = name
		return nil
	})
}

// keyIndex is the index in a.Keys of the key id (as KeyID names it), or -1.
func keyIndex(a *store.Account, id string) int {
	if !strings.HasPrefix(id, keyIDPrefix) {
		return -1
	}
	return slices.IndexFunc(a.Keys, func(k store.SecurityKey) bool { return KeyID(k.CredentialID) == id })
}
