// Package challenge is the authentication engine, free of Caddy: the first
// factor, the second-factor methods, policy, and the stores they use. The
// Caddy module drives it from HTTP; nothing here knows about HTTP routing.
package challenge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/push"
	"github.com/caddy-mfa/caddy-mfa/challenge/recovery"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
	"github.com/caddy-mfa/caddy-mfa/challenge/seal"
	"github.com/caddy-mfa/caddy-mfa/challenge/securitykey"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/challenge/totp"
)

// MethodTOTP is the method name of authenticator-app codes.
const MethodTOTP = "totp"

// KnownMethods lists every method this build can offer, in the order the
// setup page shows them.
var KnownMethods = []string{MethodWebAuthn, MethodTOTP, MethodPush, MethodSMS, MethodVoice}

// Engine holds what a sign-in needs. It is built once per configuration and
// shared by every route.
type Engine struct {
	// Users is the first factor: the users file or a directory.
	Users Directory
	// Accounts holds registered second factors.
	Accounts store.Accounts
	// Sessions is the session store.
	Sessions *session.Store
	// Keys seals secrets and hashes codes.
	Keys *seal.Keys
	// TOTP configures authenticator-app codes.
	TOTP totp.Config
	// Methods are the methods the operator allows.
	Methods []string
	// Now is the clock.
	Now func() time.Time
	// Regulation rate-limits attempts and locks users out.
	Regulation *regulation.Regulation
	// Phone configures texts and calls.
	Phone Phone
	// KV holds short-lived state: texted codes, calls and prompts under way.
	KV store.KV
	// Notifier sends app notifications; nil when none is configured.
	Notifier push.Notifier
	// SecurityKeys configures security keys and passkeys (validated).
	SecurityKeys securitykey.Config
}

// ErrBadCode is a second-factor code that is wrong, used, or malformed. Users
// see one message for all of these.
var ErrBadCode = errors.New("the code is not right")

// ErrAlreadyEnrolled is returned when a user who already has a second factor
// tries to register a first one again (that needs the existing factor).
var ErrAlreadyEnrolled = errors.New("a second factor is already registered")

// MethodEnabled reports whether the operator allows method m.
func (e *Engine) MethodEnabled(m string) bool { return slices.Contains(e.Methods, m) }

// Account returns the account of user, or nil if there is none yet.
func (e *Engine) Account(ctx context.Context, user string) (*store.Account, error) {
	a, err := e.Accounts.Get(ctx, user)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return a, nil
}

func totpContext(user string) string { return user + "\x00totp" }

// BeginTOTP generates a seed for user to register; the sealed form goes in
// the session until the user confirms it with a code.
func (e *Engine) BeginTOTP(user string) (totp.Enrolment, []byte, error) {
	en, err := e.TOTP.Generate(user)
	if err != nil {
		return totp.Enrolment{}, nil, err
	}
	sealed, err := e.Keys.Seal([]byte(en.Secret), totpContext(user))
	if err != nil {
		return totp.Enrolment{}, nil, fmt.Errorf("sealing totp seed: %w", err)
	}
	return en, sealed, nil
}

// PendingTOTP opens a sealed seed from BeginTOTP.
func (e *Engine) PendingTOTP(user string, sealed []byte) (totp.Enrolment, error) {
	secret, err := e.Keys.Open(sealed, totpContext(user))
	if err != nil {
		return totp.Enrolment{}, fmt.Errorf("opening pending totp seed: %w", err)
	}
	return totp.Enrolment{Secret: string(secret), URL: e.TOTP.URL(user, string(secret))}, nil
}

// ConfirmTOTP checks code against the pending seed and, if right, registers
// the app and a fresh set of recovery codes, which it returns to show once.
func (e *Engine) ConfirmTOTP(ctx context.Context, user string, sealed []byte, code string) ([]string, error) {
	return e.confirmTOTP(ctx, user, sealed, code, true)
}

// AddTOTP is ConfirmTOTP for a user who has other methods already (from
// the security-info page): it registers the app, replacing an earlier
// one, and makes recovery codes only if there were no methods.
func (e *Engine) AddTOTP(ctx context.Context, user string, sealed []byte, code string) ([]string, error) {
	return e.confirmTOTP(ctx, user, sealed, code, false)
}

func (e *Engine) confirmTOTP(ctx context.Context, user string, sealed []byte, code string, firstOnly bool) ([]string, error) {
	en, err := e.PendingTOTP(user, sealed)
	if err != nil {
		return nil, err
	}
	now := e.Now()
	step, err := e.TOTP.Check(code, en.Secret, now, -1)
	if err != nil {
		return nil, ErrBadCode
	}
	return e.addMethod(ctx, user, firstOnly, "authenticator app", func(a *store.Account) error {
		a.TOTP = &store.TOTP{
			Secret: sealed, Algorithm: e.TOTP.Algorithm, Digits: e.TOTP.Digits,
			Period: int(e.TOTP.Period / time.Second), LastStep: step, Added: now, LastUsed: now,
		}
		return nil
	})
}

// addMethod registers a method for user with set, at e.Now(). If it is
// the user's first second factor, recovery codes are made too and
// returned, to be shown once; with firstOnly, a user who has one already
// gets ErrAlreadyEnrolled. An error of set refuses the change and is
// returned as it is. what names the method in errors.
func (e *Engine) addMethod(ctx context.Context, user string, firstOnly bool, what string, set func(a *store.Account) error) ([]string, error) {
	codes, hashes, err := recovery.Generate(e.recoveryHash)
	if err != nil {
		return nil, err
	}
	now := e.Now()
	var fresh bool
	err = e.updateAccount(ctx, user, "saving "+what, func(a *store.Account) error {
		if firstOnly && a.HasSecondFactor() {
			return ErrAlreadyEnrolled
		}
		fresh = !a.HasSecondFactor()
		if err := set(a); err != nil {
			return err
		}
		if fresh {
			a.RecoveryCodes = hashes
		}
		a.LastSignIn = now
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !fresh {
		return nil, nil
	}
	return codes, nil
}

func (e *Engine) recoveryHash(code string) []byte { return e.Keys.HashCode("recovery", code) }

// CheckTOTP verifies a code from user's registered app. The check and the
// record of the used time step happen in one store update, so two requests
// racing with the same code cannot both pass.
func (e *Engine) CheckTOTP(ctx context.Context, user, code string) error {
	now := e.Now()
	return e.updateAccount(ctx, user, "checking totp code", func(a *store.Account) error {
		if a.TOTP == nil {
			return ErrBadCode
		}
		secret, err := e.Keys.Open(a.TOTP.Secret, totpContext(user))
		if err != nil {
			// Not a store outage: the storage key changed or the record
			// was tampered with. Fail, and say so in the log.
			return fmt.Errorf("opening totp seed of %q (was storage_key changed?): %w", user, err)
		}
		cfg := e.TOTP
		cfg.Algorithm, cfg.Digits, cfg.Period = a.TOTP.Algorithm, a.TOTP.Digits, time.Duration(a.TOTP.Period)*time.Second
		step, err := cfg.Check(code, string(secret), now, a.TOTP.LastStep)
		if err != nil {
			return ErrBadCode
		}
		a.TOTP.LastStep, a.TOTP.LastUsed, a.LastSignIn = step, now, now
		return nil
	})
}

// UseRecoveryCode accepts one of user's recovery codes and removes it, so
// it works once.
func (e *Engine) UseRecoveryCode(ctx context.Context, user, code string) error {
	if !recovery.Looks(code) {
		return ErrBadCode
	}
	now := e.Now()
	return e.updateAccount(ctx, user, "using recovery code", func(a *store.Account) error {
		i := recovery.Match(code, e.recoveryHash, a.RecoveryCodes)
		if i < 0 {
			return ErrBadCode
		}
		a.RecoveryCodes = slices.Delete(a.RecoveryCodes, i, i+1)
		a.LastSignIn = now
		return nil
	})
}
