package challenge

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
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

// ErrBadKeyName is an empty or overlong name of a security key.
var ErrBadKeyName = errors.New("a security key needs a name of 1 to 64 characters")

func ceremonyKey(purpose, session string) string { return "webauthn:" + purpose + ":" + session }

// KeyID is how forms name the key with credential id id.
func KeyID(id []byte) string { return keyIDPrefix + base64.RawURLEncoding.EncodeToString(id) }

// keyAccount is the securitykey view of account a of user, with a fresh
// user handle if a has none yet.
func keyAccount(user, display string, a *store.Account) (*securitykey.Account, error) {
	k := &securitykey.Account{Name: user, Display: display}
	if a != nil {
		k.Handle, k.Keys = a.KeyHandle, a.Keys
	}
	if len(k.Handle) == 0 {
		k.Handle = make([]byte, 32)
		if _, err := rand.Read(k.Handle); err != nil {
			return nil, fmt.Errorf("making a webauthn user handle: %w", err)
		}
	}
	return k, nil
}

// saveCeremony keeps c, replacing any earlier ceremony of the same purpose
// in session, until it expires.
func (e *Engine) saveCeremony(ctx context.Context, purpose, session string, c securitykey.Ceremony) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encoding webauthn ceremony: %w", err)
	}
	if err := e.KV.Set(ctx, ceremonyKey(purpose, session), b, e.SecurityKeys.Timeout); err != nil {
		return fmt.Errorf("%w: saving webauthn ceremony: %w", store.ErrUnavailable, err)
	}
	return nil
}

// takeCeremony takes user's ceremony of purpose in session, once: it is
// gone after this call, whatever its outcome. Missing, expired or of
// another user, it is ErrCeremony.
func (e *Engine) takeCeremony(ctx context.Context, purpose, session, user string) (securitykey.Ceremony, error) {
	var c securitykey.Ceremony
	b, err := e.KV.Take(ctx, ceremonyKey(purpose, session))
	if errors.Is(err, store.ErrNotFound) {
		return c, ErrCeremony
	}
	if err != nil {
		return c, fmt.Errorf("%w: reading webauthn ceremony: %w", store.ErrUnavailable, err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%w: decoding: %w", ErrCeremony, err)
	}
	if c.User != user || !e.Now().Before(c.Expires) {
		return c, ErrCeremony
	}
	return c, nil
}

// BeginKeyRegistration starts registering a security key for user (shown
// to the key as display) in the browser session tagged session, on site.
// It returns the options for navigator.credentials.create.
func (e *Engine) BeginKeyRegistration(ctx context.Context, site securitykey.Site, user, display, session string) (securitykey.Options, error) {
	a, err := e.Account(ctx, user)
	if err != nil {
		return nil, err
	}
	k, err := keyAccount(user, display, a)
	if err != nil {
		return nil, err
	}
	opts, c, err := e.SecurityKeys.BeginRegistration(site, user, k, e.Now())
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
	a, err := e.Account(ctx, user)
	if err != nil {
		return nil, err
	}
	k, err := keyAccount(user, "", a)
	if err != nil {
		return nil, err
	}
	if len(k.Keys) >= MaxKeys {
		return nil, ErrTooManyKeys
	}
	k.Handle = c.Handle
	key, err := e.SecurityKeys.FinishRegistration(site, k, c, response)
	if err != nil {
		return nil, err
	}
	now := e.Now()
	key.Name, key.Added, key.LastUsed = name, now, now
	return e.addMethod(ctx, user, firstOnly, "security key", func(a *store.Account) error {
		switch {
		case len(a.KeyHandle) > 0 && string(a.KeyHandle) != string(c.Handle):
			return ErrCeremony // the user's keys were reset meanwhile
		case len(a.Keys) >= MaxKeys:
			return ErrTooManyKeys
		case slices.ContainsFunc(a.Keys, func(o store.SecurityKey) bool { return string(o.CredentialID) == string(key.CredentialID) }):
			return securitykey.ErrKeyExists
		}
		a.KeyHandle, a.Keys = c.Handle, append(a.Keys, key)
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
	k, err := keyAccount(a.User, "", a)
	if err != nil {
		return nil, false, err
	}
	opts, c, err := e.SecurityKeys.BeginLogin(site, a.User, k, e.Now())
	if err != nil {
		return nil, false, err
	}
	return opts, true, e.saveCeremony(ctx, PurposeSignIn, session, c)
}

// FinishKeySignIn checks the browser's answer to the sign-in under way in
// session, records the key's new counter and use, and returns its name.
// Errors: ErrCeremony, *securitykey.OriginError, securitykey.ErrRejected,
// and securitykey.ErrCloned (with the key's name), which leaves the key
// as it was: a log-worthy security event.
func (e *Engine) FinishKeySignIn(ctx context.Context, site securitykey.Site, user, session string, response []byte) (string, error) {
	c, err := e.takeCeremony(ctx, PurposeSignIn, session, user)
	if err != nil {
		return "", err
	}
	a, err := e.Account(ctx, user)
	if err != nil {
		return "", err
	}
	k, err := keyAccount(user, "", a)
	if err != nil {
		return "", err
	}
	i, key, err := e.SecurityKeys.FinishLogin(site, k, c, response)
	if errors.Is(err, securitykey.ErrCloned) {
		return key.Name, err
	}
	if err != nil {
		return "", err
	}
	now := e.Now()
	var gone bool
	err = e.Accounts.Update(ctx, user, func(a *store.Account) error {
		if i >= len(a.Keys) || string(a.Keys[i].CredentialID) != string(key.CredentialID) {
			j := slices.IndexFunc(a.Keys, func(o store.SecurityKey) bool { return string(o.CredentialID) == string(key.CredentialID) })
			if j < 0 {
				gone = true // removed meanwhile
				return ErrCeremony
			}
			i = j
		}
		if a.Keys[i].SignCount > key.SignCount {
			gone = true // another sign-in with it was recorded meanwhile
			return ErrCeremony
		}
		a.Keys[i].SignCount, a.Keys[i].Flags, a.Keys[i].LastUsed, a.LastSignIn = key.SignCount, key.Flags, now, now
		return nil
	})
	if gone {
		return "", ErrCeremony
	}
	if err != nil {
		return "", fmt.Errorf("%w: recording security key sign-in: %w", store.ErrUnavailable, err)
	}
	return key.Name, nil
}

// RenameKey gives user's key id (as KeyID names it) the name name.
func (e *Engine) RenameKey(ctx context.Context, user, id, name string) error {
	name, ok := cleanName(name)
	if !ok {
		return ErrBadKeyName
	}
	var refused error
	err := e.Accounts.Update(ctx, user, func(a *store.Account) error {
		i := keyIndex(a, id)
		if i < 0 {
			refused = ErrNoSuchMethod
			return refused
		}
		a.Keys[i].Name = name
		return nil
	})
	if refused != nil {
		return refused
	}
	if err != nil {
		return fmt.Errorf("%w: renaming a security key: %w", store.ErrUnavailable, err)
	}
	return nil
}

// keyIndex is the index in a.Keys of the key id (as KeyID names it), or -1.
func keyIndex(a *store.Account, id string) int {
	if !strings.HasPrefix(id, keyIDPrefix) {
		return -1
	}
	return slices.IndexFunc(a.Keys, func(k store.SecurityKey) bool { return KeyID(k.CredentialID) == id })
}
