// Package store defines where the gateway keeps its state and implements the
// embedded stores: accounts in a bbolt file, short-lived state (sessions,
// lockouts, counters) served from memory and kept in the same file by a
// journal, so that a restart loses none of it. The Redis implementations
// of the same interfaces live beside them.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("not found")

// ErrUnavailable wraps every failure to reach a store, so that callers can
// fail closed with a 503 rather than treat it as a missing record.
var ErrUnavailable = errors.New("store unavailable")

// Account is what the gateway knows of one user beyond the users file: the
// second factors registered. Secrets are sealed; codes are stored as hashes.
type Account struct {
	// User is the user name from the users file.
	User string `json:"user"`
	// TOTP is the registered authenticator app, if any.
	TOTP *TOTP `json:"totp,omitempty"`
	// Phones are the registered phone numbers, for text messages and calls.
	Phones []Phone `json:"phones,omitempty"`
	// Push is the phone registered for app notifications, if any.
	Push *Push `json:"push,omitempty"`
	// Default is the method the user chose to be asked for first at
	// sign-in ("" for the gateway's order).
	Default string `json:"default,omitempty"`
	// Devices are the browsers remembered not to ask for the second factor.
	Devices []Device `json:"devices,omitempty"`
	// AppPasswords are the user's app passwords, for clients that cannot
	// do the second factor.
	AppPasswords []AppPassword `json:"app_passwords,omitempty"`
	// KeyHandle is the WebAuthn user handle: random, made at the first
	// security key, and the same for every key of the user.
	KeyHandle []byte `json:"key_handle,omitempty"`
	// Keys are the user's security keys and passkeys.
	Keys []SecurityKey `json:"keys,omitempty"`
	// RecoveryCodes are keyed hashes of the unused recovery codes.
	RecoveryCodes [][]byte `json:"recovery_codes,omitempty"`
	// Created is when the account record was first written.
	Created time.Time `json:"created"`
	// LastSignIn is the time of the last complete sign-in.
	LastSignIn time.Time `json:"last_sign_in,omitzero"`
}

// TOTP is a registered authenticator app.
type TOTP struct {
	// Secret is the sealed base32 seed.
	Secret []byte `json:"secret"`
	// Algorithm is SHA1, SHA256 or SHA512.
	Algorithm string `json:"algorithm"`
	// Digits is the code length.
	Digits int `json:"digits"`
	// Period is the time step in seconds.
	Period int `json:"period"`
	// LastStep is the last time step whose code was accepted; only later
	// steps are accepted after it, so a code works once.
	LastStep int64 `json:"last_step"`
	// Added is when the app was registered.
	Added time.Time `json:"added"`
	// LastUsed is when a code from it was last accepted.
	LastUsed time.Time `json:"last_used,omitzero"`
}

// Phone is a registered phone number.
type Phone struct {
	// Number is the sealed number (E.164, with ";ext=" if it has one).
	Number []byte `json:"number"`
	// Masked is the number as shown to its user, all but the last digits hidden.
	Masked string `json:"masked"`
	// Mobile reports whether the number can receive text messages.
	Mobile bool `json:"mobile,omitempty"`
	// Added is when the number was registered.
	Added time.Time `json:"added"`
	// LastUsed is when it last completed a sign-in.
	LastUsed time.Time `json:"last_used,omitzero"`
}

// Push is a phone registered for app notifications (sign-in prompts with
// number matching).
type Push struct {
	// Topic is the sealed address the notifier sends the user's prompts to
	// (their ntfy topic): whoever knows it can read the prompts.
	Topic []byte `json:"topic"`
	// Added is when the phone was registered.
	Added time.Time `json:"added"`
	// LastUsed is when it last approved a sign-in.
	LastUsed time.Time `json:"last_used,omitzero"`
}

// Device is a browser remembered not to ask for the second factor.
type Device struct {
	// ID names it in forms (random hex).
	ID string `json:"id"`
	// Name describes the browser ("Firefox on Linux").
	Name string `json:"name"`
	// Hash is a keyed hash of the token in the browser's cookie.
	Hash []byte `json:"hash"`
	// Created is when it was remembered.
	Created time.Time `json:"created"`
	// LastUsed is when it last stood in for the second factor.
	LastUsed time.Time `json:"last_used"`
	// Expires is when it stops.
	Expires time.Time `json:"expires"`
}

// AppPassword is an app password: HTTP Basic auth for one user, on routes
// that allow it.
type AppPassword struct {
	// ID names it in forms (random hex).
	ID string `json:"id"`
	// Name is what the user called it ("Mail on my laptop").
	Name string `json:"name"`
	// Hash is a keyed hash of the password.
	Hash []byte `json:"hash"`
	// Created is when it was made.
	Created time.Time `json:"created"`
	// LastUsed is when it was last accepted (written at most hourly).
	LastUsed time.Time `json:"last_used,omitzero"`
}

// HasSecondFactor reports whether the account has any registered method.
func (a *Account) HasSecondFactor() bool {
	return a != nil && (a.TOTP != nil || len(a.Phones) > 0 || a.Push != nil || len(a.Keys) > 0)
}

// SecurityKey is a registered WebAuthn credential: a security key, or a
// passkey on a phone or computer. Nothing in it is secret.
type SecurityKey struct {
	// CredentialID is the authenticator's id of the credential.
	CredentialID []byte `json:"credential_id"`
	// Name is what the user calls it.
	Name string `json:"name"`
	// PublicKey is the credential's public key (COSE).
	PublicKey []byte `json:"public_key"`
	// AttestationType and AttestationFormat are those of its registration.
	AttestationType   string `json:"attestation_type,omitempty"`
	AttestationFormat string `json:"attestation_format,omitempty"`
	// Transports are how the browser reaches it (usb, nfc, ble, hybrid, internal).
	Transports []string `json:"transports,omitempty"`
	// AAGUID identifies the authenticator's model.
	AAGUID []byte `json:"aaguid,omitempty"`
	// SignCount is the last signature counter seen; it must grow.
	SignCount uint32 `json:"sign_count"`
	// Flags are the authenticator-data flags (UP, UV, BE, BS) on record.
	Flags byte `json:"flags"`
	// Added is when it was registered; LastUsed when it last signed in.
	Added    time.Time `json:"added"`
	LastUsed time.Time `json:"last_used,omitzero"`
}

// Accounts stores accounts by user name.
type Accounts interface {
	// Get returns the account of user, or ErrNotFound.
	Get(ctx context.Context, user string) (*Account, error)
	// Update applies fn to the account of user (a new, empty one if there is
	// none) and saves the result atomically. If fn returns an error nothing is
	// saved and that error is returned.
	Update(ctx context.Context, user string, fn func(*Account) error) error
	// Delete removes the account of user; a missing account is not an error.
	Delete(ctx context.Context, user string) error
}

// applyUpdate is the body of every Accounts.Update: decode the stored record
// (nil: a new account created at now), apply fn, encode the result. The
// stores differ only in how they make this atomic.
func applyUpdate(user string, stored []byte, now time.Time, fn func(*Account) error) ([]byte, error) {
	a := &Account{User: user, Created: now}
	if stored != nil {
		if err := json.Unmarshal(stored, a); err != nil {
			return nil, fmt.Errorf("decoding account %q: %w", user, err)
		}
	}
	if err := fn(a); err != nil {
		return nil, err
	}
	v, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("encoding account %q: %w", user, err)
	}
	return v, nil
}

// decodeAccount decodes a stored account record.
func decodeAccount(user string, v []byte) (*Account, error) {
	a := new(Account)
	if err := json.Unmarshal(v, a); err != nil {
		return nil, fmt.Errorf("decoding account %q: %w", user, err)
	}
	return a, nil
}
