package challenge

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/recovery"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// What the security-info page shows and changes: the registered methods,
// their removal, and fresh recovery codes.

// StepUpAge is how recent a second factor must be to change security info.
const StepUpAge = 10 * time.Minute

// ErrLastMethod is a removal that would leave the user no second factor.
var ErrLastMethod = errors.New("the last second factor cannot be removed")

// ErrNoSuchMethod is a removal of a method the user does not have (any more).
var ErrNoSuchMethod = errors.New("no such method")

// MethodInfo is one registered method, as the security-info page lists it.
type MethodInfo struct {
	// ID names it in forms: "totp", "push", "phone-<n>", or "key-<id>"
	// (KeyID).
	ID string
	// Kind is MethodTOTP, MethodPush, MethodWebAuthn, or "phone".
	Kind string
	// Name is the name the user gave a security key.
	Name string
	// Masked is the phone number, masked, for a phone; Mobile whether it
	// takes texts.
	Masked string
	Mobile bool
	// Added is when it was registered; LastUsed when it last signed in.
	Added, LastUsed time.Time
}

// Registered lists the methods account a has, in the order the page shows them.
func Registered(a *store.Account) []MethodInfo {
	var out []MethodInfo
	if a == nil {
		return out
	}
	for _, k := range a.Keys {
		out = append(out, MethodInfo{ID: KeyID(k.CredentialID), Kind: MethodWebAuthn, Name: k.Name, Added: k.Added, LastUsed: k.LastUsed})
	}
	if a.Push != nil {
		out = append(out, MethodInfo{ID: MethodPush, Kind: MethodPush, Added: a.Push.Added, LastUsed: a.Push.LastUsed})
	}
	if a.TOTP != nil {
		out = append(out, MethodInfo{ID: MethodTOTP, Kind: MethodTOTP, Added: a.TOTP.Added, LastUsed: a.TOTP.LastUsed})
	}
	for i, p := range a.Phones {
		out = append(out, MethodInfo{ID: "phone-" + strconv.Itoa(i), Kind: "phone", Masked: p.Masked, Mobile: p.Mobile, Added: p.Added, LastUsed: p.LastUsed})
	}
	return out
}

// RemoveMethod removes the method id of user (as Registered names it, a
// security key by its credential id; a
// phone also by its masked number, so that a list that changed meanwhile
// removes nothing else). It never removes the last one (ErrLastMethod).
func (e *Engine) RemoveMethod(ctx context.Context, user, id, masked string) error {
	return e.updateAccount(ctx, user, "removing a method", func(a *store.Account) error {
		if len(Registered(a)) <= 1 {
			if !slices.ContainsFunc(Registered(a), func(m MethodInfo) bool { return m.ID == id }) {
				return ErrNoSuchMethod
			}
			return ErrLastMethod
		}
		switch {
		case id == MethodTOTP && a.TOTP != nil:
			a.TOTP = nil
		case id == MethodPush && a.Push != nil:
			a.Push = nil
		case keyIndex(a, id) >= 0:
			a.Keys = slices.Delete(a.Keys, keyIndex(a, id), keyIndex(a, id)+1)
		case strings.HasPrefix(id, "phone-"):
			i, err := strconv.Atoi(strings.TrimPrefix(id, "phone-"))
			if err != nil || i < 0 || i >= len(a.Phones) || a.Phones[i].Masked != masked {
				return ErrNoSuchMethod
			}
			a.Phones = slices.Delete(a.Phones, i, i+1)
		default:
			return ErrNoSuchMethod
		}
		return nil
	})
}

// RegenerateRecovery replaces user's recovery codes with fresh ones, which
// it returns to show once; the old ones stop working.
func (e *Engine) RegenerateRecovery(ctx context.Context, user string) ([]string, error) {
	codes, hashes, err := recovery.Generate(e.recoveryHash)
	if err != nil {
		return nil, err
	}
	err = e.updateAccount(ctx, user, "saving recovery codes", func(a *store.Account) error {
		if !a.HasSecondFactor() {
			return ErrNoSuchMethod
		}
		a.RecoveryCodes = hashes
		return nil
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// SetDefaultMethod makes method (webauthn, totp, push, sms, voice) the one user is
// asked for first at sign-in; it must be one they have registered.
func (e *Engine) SetDefaultMethod(ctx context.Context, user, method string) error {
	return e.updateAccount(ctx, user, "saving the default method", func(a *store.Account) error {
		if !slices.Contains(methodNames(a), method) {
			return ErrNoSuchMethod
		}
		a.Default = method
		return nil
	})
}
