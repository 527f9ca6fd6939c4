package challenge

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// Phone methods.
const (
	// MethodSMS is a code sent by text message.
	MethodSMS = "sms"
	// MethodVoice is a phone call that asks to press #.
	MethodVoice = "voice"
)

// Purposes of a text or call: proving a registered number at sign-in, or
// confirming a number being registered.
const (
	PurposeSignIn = "sign-in"
	PurposeEnrol  = "enrol"
)

// PhoneCodeTTL is how long a texted code, or the answer of a call, stays
// good: NIST SP 800-63B allows out-of-band secrets at most 10 minutes.
const PhoneCodeTTL = 5 * time.Minute

// Phone is what the phone methods need beyond the Engine.
type Phone struct {
	// Text sends text messages; nil when no provider is configured.
	Text phone.TextSender
	// Voice places calls; nil when no provider is configured.
	Voice phone.Caller
	// Countries are the country calling codes texts and calls may go to.
	Countries phone.Countries
}

// ErrCountry is a number in a country the operator does not send to.
var ErrCountry = errors.New("texts and calls to this country are not allowed")

// ErrNotMobile is a number that cannot receive text messages.
var ErrNotMobile = errors.New("this number cannot receive text messages")

// Refused is a text or call that the send limits did not allow.
type Refused struct{ regulation.Verdict }

func (r *Refused) Error() string { return "send refused: " + r.Reason.String() }

// phoneContext binds a sealed number to its user.
func phoneContext(user string) string { return user + "\x00phone" }

// SealNumber seals n for user: how numbers are stored.
func (e *Engine) SealNumber(user string, n phone.Number) ([]byte, error) {
	b, err := e.Keys.Seal([]byte(n.String()), phoneContext(user))
	if err != nil {
		return nil, fmt.Errorf("sealing phone number: %w", err)
	}
	return b, nil
}

// OpenNumber opens a number sealed by SealNumber.
func (e *Engine) OpenNumber(user string, sealed []byte) (phone.Number, error) {
	b, err := e.Keys.Open(sealed, phoneContext(user))
	if err != nil {
		return phone.Number{}, fmt.Errorf("opening phone number of %q (was storage_key changed?): %w", user, err)
	}
	return phone.ParseStored(string(b))
}

// PhoneFor returns the registered phone of user that can take method (a
// text needs a mobile number), with its number opened; ok is false if none.
func (e *Engine) PhoneFor(a *store.Account, method string) (store.Phone, phone.Number, bool, error) {
	if a == nil {
		return store.Phone{}, phone.Number{}, false, nil
	}
	for _, p := range a.Phones {
		if method == MethodSMS && !p.Mobile {
			continue
		}
		n, err := e.OpenNumber(a.User, p.Number)
		if err != nil {
			return store.Phone{}, phone.Number{}, false, err
		}
		return p, n, true, nil
	}
	return store.Phone{}, phone.Number{}, false, nil
}

// PhoneMethods are the phone methods user a can sign in with now: those the
// operator allows, that have a provider, and that a registered number takes.
func (e *Engine) PhoneMethods(a *store.Account) []string {
	var out []string
	for _, m := range []string{MethodSMS, MethodVoice} {
		if !e.PhoneMethodReady(m) || a == nil {
			continue
		}
		if slices.ContainsFunc(a.Phones, func(p store.Phone) bool { return m == MethodVoice || p.Mobile }) {
			out = append(out, m)
		}
	}
	return out
}

// PhoneMethodReady reports whether method m is allowed and has a provider.
func (e *Engine) PhoneMethodReady(m string) bool {
	switch m {
	case MethodSMS:
		return e.MethodEnabled(m) && e.Phone.Text != nil
	case MethodVoice:
		return e.MethodEnabled(m) && e.Phone.Voice != nil
	}
	return false
}

// checkSend applies the country allow-list and the send limits to a send
// on channel (regulation.ChannelText or ChannelCall).
func (e *Engine) checkSend(ctx context.Context, user, purpose, channel, ip string, to phone.Number) error {
	if !e.Phone.Countries.AllowsNumber(to) {
		return ErrCountry
	}
	numberKey := hex.EncodeToString(e.Keys.HashCode("send-number", to.E164)[:16])
	v, err := e.Regulation.BeforeSend(ctx, user, purpose, channel, numberKey, ip)
	if err != nil {
		return fmt.Errorf("%w: send limits: %w", store.ErrUnavailable, err)
	}
	if !v.Allowed {
		return &Refused{v}
	}
	return nil
}

// AddPhone registers n for user, with Added and LastUsed now. If it is the
// user's first second factor, recovery codes are made too and returned, to
// be shown once; an existing registration of the same number is replaced.
func (e *Engine) AddPhone(ctx context.Context, user string, n phone.Number, firstOnly bool) ([]string, error) {
	sealed, err := e.SealNumber(user, n)
	if err != nil {
		return nil, err
	}
	now := e.Now()
	return e.addMethod(ctx, user, firstOnly, "phone number", func(a *store.Account) error {
		a.Phones = slices.DeleteFunc(a.Phones, func(p store.Phone) bool {
			old, err := e.OpenNumber(user, p.Number)
			return err == nil && old.String() == n.String()
		})
		a.Phones = append(a.Phones, store.Phone{Number: sealed, Masked: n.Masked(), Mobile: n.Mobile, Added: now, LastUsed: now})
		return nil
	})
}

// provedNumber opens the sealed number a code or call has just proved,
// and for a sign-in records its use.
func (e *Engine) provedNumber(ctx context.Context, user, purpose string, sealed []byte) (phone.Number, error) {
	n, err := e.OpenNumber(user, sealed)
	if err != nil {
		return phone.Number{}, err
	}
	if purpose == PurposeSignIn {
		if err := e.phoneUsed(ctx, user, n); err != nil {
			return phone.Number{}, err
		}
	}
	return n, nil
}

// phoneUsed records a sign-in with the registered number n of user.
func (e *Engine) phoneUsed(ctx context.Context, user string, n phone.Number) error {
	now := e.Now()
	return e.updateAccount(ctx, user, "recording phone sign-in", func(a *store.Account) error {
		for i, p := range a.Phones {
			if got, err := e.OpenNumber(user, p.Number); err == nil && got.String() == n.String() {
				a.Phones[i].LastUsed, a.LastSignIn = now, now
				return nil
			}
		}
		return ErrBadCode // removed between the send and the answer
	})
}
