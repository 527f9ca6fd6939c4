package challenge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// What administrators do to users: list them, reset one who must register
// again, and let one who lost their phone in once without the second factor.

// MaxBypass is the longest a one-time pass without the second factor may
// wait to be used.
const MaxBypass = time.Hour

// ErrBypassDuration is a pass that would wait no time, or more than MaxBypass.
var ErrBypassDuration = fmt.Errorf("a pass must wait more than 0 and at most %v", MaxBypass)

// ErrNoSuchUser is a user name that the users file does not have.
var ErrNoSuchUser = errors.New("no such user in the users file")

// UserSummary is one user as `caddy mfa users` lists them.
type UserSummary struct {
	// User is the user name.
	User string `json:"user"`
	// Disabled reports a user disabled in the users file.
	Disabled bool `json:"disabled,omitempty"`
	// Methods are the registered second factors: totp, push, sms, voice.
	Methods []string `json:"methods"`
	// Locked reports an account-wide lockout (after wrong second-factor
	// codes) or a fraud block in force: every sign-in is stopped.
	Locked bool `json:"locked"`
	// LockedSources lists the password locks of sources in force:
	// "addresses" (one or more addresses are locked for the user),
	// "unfamiliar" (every unfamiliar source is), "familiar" (the user's
	// familiar browsers are). Omitted when there are none.
	LockedSources []regulation.SourceLock `json:"locked_sources,omitempty"`
	// LastSignIn is the last complete sign-in, if any.
	LastSignIn time.Time `json:"last_sign_in,omitzero"`
}

// UserList lists every user of the users file with their methods, whether
// they are locked out, and their last sign-in. limitKey maps a user name to
// the name lockouts count under.
func (e *Engine) UserList(ctx context.Context, limitKey func(string) string) ([]UserSummary, error) {
	var out []UserSummary
	for _, u := range e.Users.All() {
		a, err := e.Account(ctx, u.Name)
		if err != nil {
			return nil, err
		}
		locked, _, err := e.Regulation.Locked(ctx, limitKey(u.Name))
		if err != nil {
			return nil, fmt.Errorf("%w: reading lockout of %q: %w", store.ErrUnavailable, u.Name, err)
		}
		sources, err := e.Regulation.SourceLocks(ctx, limitKey(u.Name))
		if err != nil {
			return nil, fmt.Errorf("%w: reading lockout of %q: %w", store.ErrUnavailable, u.Name, err)
		}
		s := UserSummary{User: u.Name, Disabled: u.Disabled, Methods: methodNames(a), Locked: locked, LockedSources: sources}
		if a != nil {
			s.LastSignIn = a.LastSignIn
		}
		out = append(out, s)
	}
	return out, nil
}

// methodNames names the methods account a has registered, as Registered
// lists them, with phones as the sms and voice methods they take.
func methodNames(a *store.Account) []string {
	out := []string{}
	var sms, voice bool
	for _, m := range Registered(a) {
		if m.Kind != "phone" {
			if !slices.Contains(out, m.Kind) {
				out = append(out, m.Kind) // several keys are one method
			}
			continue
		}
		sms, voice = sms || m.Mobile, true
	}
	if sms {
		out = append(out, MethodSMS)
	}
	if voice {
		out = append(out, MethodVoice)
	}
	return out
}

// Reset removes every method and recovery code of user and ends their
// sessions everywhere, so that they register again at their next sign-in.
// It returns how many sessions ended.
func (e *Engine) Reset(ctx context.Context, user string) (int, error) {
	a, err := e.Account(ctx, user)
	if err != nil {
		return 0, err
	}
	if err := e.Accounts.Delete(ctx, user); err != nil {
		return 0, fmt.Errorf("%w: removing the account of %q: %w", store.ErrUnavailable, user, err)
	}
	if a != nil {
		if err := e.unindexAppPasswords(ctx, a.AppPasswords); err != nil {
			return 0, err
		}
	}
	if err := e.KV.Delete(ctx, bypassKey(user)); err != nil {
		return 0, fmt.Errorf("%w: removing the pass of %q: %w", store.ErrUnavailable, user, err)
	}
	n, err := e.Sessions.RevokeUser(ctx, user)
	if err != nil {
		return 0, err
	}
	return n, nil
}

func bypassKey(user string) string { return "bypass:" + user }

// GrantBypass lets user sign in once, within d (at most MaxBypass),
// with the password alone: for a user who lost their phone and has no
// recovery code at hand. ErrNoSuchUser for a user the users file lacks or
// disables.
func (e *Engine) GrantBypass(ctx context.Context, user string, d time.Duration) error {
	if d <= 0 || d > MaxBypass {
		return fmt.Errorf("%w, not %v", ErrBypassDuration, d)
	}
	if e.Users.Lookup(user) == nil {
		return ErrNoSuchUser
	}
	if err := e.KV.Set(ctx, bypassKey(user), []byte(e.Now().Add(d).UTC().Format(time.RFC3339)), d); err != nil {
		return fmt.Errorf("%w: saving the pass of %q: %w", store.ErrUnavailable, user, err)
	}
	return nil
}

// TakeBypass uses up user's pass, if one is waiting: true means the user,
// whose password was just checked, is in without the second factor.
func (e *Engine) TakeBypass(ctx context.Context, user string) (bool, error) {
	_, err := e.KV.Take(ctx, bypassKey(user))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%w: reading the pass of %q: %w", store.ErrUnavailable, user, err)
	}
	return true, nil
}
