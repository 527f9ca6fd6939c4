package challenge

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// codeRecord is a texted code waiting for its user, in the KV under
// "phone-code:<user>": one at a time per user, a new send replaces it.
type codeRecord struct {
	Purpose string `json:"purpose"`
	Hash    []byte `json:"hash"`
	Number  []byte `json:"number"`
	Masked  string `json:"masked"`
	Expires int64  `json:"expires"`
}

func codeKey(user string) string { return "phone-code:" + user }

func (e *Engine) phoneCodeHash(user, purpose, code string) []byte {
	return e.Keys.HashCode("phone-code", user+"\x00"+purpose+"\x00"+code)
}

// newPhoneCode is six random digits.
func newPhoneCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("making a code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// SendCode texts a new six-digit code to to for user, good for
// PhoneCodeTTL and once, after the country allow-list and the send limits
// (errors ErrCountry, ErrNotMobile, *Refused). body makes the message from
// the code. A provider failure wraps phone.ErrProvider; the code is then
// forgotten.
func (e *Engine) SendCode(ctx context.Context, user, purpose, ip string, to phone.Number, body func(code string) string) error {
	if e.Phone.Text == nil {
		return fmt.Errorf("%w: no text message provider", phone.ErrProvider)
	}
	if !to.Mobile {
		return ErrNotMobile
	}
	if err := e.checkSend(ctx, user, purpose, ip, to); err != nil {
		return err
	}
	code, err := newPhoneCode()
	if err != nil {
		return err
	}
	sealed, err := e.SealNumber(user, to)
	if err != nil {
		return err
	}
	rec, err := json.Marshal(codeRecord{
		Purpose: purpose, Hash: e.phoneCodeHash(user, purpose, code), Number: sealed,
		Masked: to.Masked(), Expires: e.Now().Add(PhoneCodeTTL).Unix(),
	})
	if err != nil {
		return fmt.Errorf("encoding code record: %w", err)
	}
	if err := e.KV.Set(ctx, codeKey(user), rec, PhoneCodeTTL); err != nil {
		return fmt.Errorf("%w: saving code: %w", store.ErrUnavailable, err)
	}
	sctx, cancel := context.WithTimeout(ctx, phone.SendTimeout)
	defer cancel()
	if err := e.Phone.Text.SendText(sctx, phone.Text{To: to, Body: body(code)}); err != nil {
		// The request may be over (the user gave up while the provider
		// hung): forget the code all the same.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), phone.SendTimeout)
		defer cancel()
		if derr := e.KV.Delete(cctx, codeKey(user)); derr != nil {
			err = errors.Join(err, derr)
		}
		return fmt.Errorf("texting a code: %w", err)
	}
	return nil
}

// PendingCode returns the masked number a code for purpose was texted to,
// if one is waiting for user.
func (e *Engine) PendingCode(ctx context.Context, user, purpose string) (string, bool, error) {
	rec, _, err := e.codeRecord(ctx, user)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if rec.Purpose != purpose || e.Now().Unix() >= rec.Expires {
		return "", false, nil
	}
	return rec.Masked, true, nil
}

func (e *Engine) codeRecord(ctx context.Context, user string) (codeRecord, []byte, error) {
	raw, err := e.KV.Get(ctx, codeKey(user))
	if errors.Is(err, store.ErrNotFound) {
		return codeRecord{}, nil, err
	}
	if err != nil {
		return codeRecord{}, nil, fmt.Errorf("%w: reading code: %w", store.ErrUnavailable, err)
	}
	var rec codeRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return codeRecord{}, nil, fmt.Errorf("decoding code record of %q: %w", user, err)
	}
	return rec, raw, nil
}

// CheckCode accepts the texted code of user for purpose once, within
// PhoneCodeTTL, and returns the number it went to. A wrong, used, expired
// or unknown code is ErrBadCode; a wrong code leaves the right one good
// (the code-check limits and lockout bound the guesses).
func (e *Engine) CheckCode(ctx context.Context, user, purpose, code string) (phone.Number, error) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	rec, raw, err := e.codeRecord(ctx, user)
	if errors.Is(err, store.ErrNotFound) {
		return phone.Number{}, ErrBadCode
	}
	if err != nil {
		return phone.Number{}, err
	}
	if rec.Purpose != purpose || e.Now().Unix() >= rec.Expires || len(code) != 6 ||
		subtle.ConstantTimeCompare(rec.Hash, e.phoneCodeHash(user, purpose, code)) != 1 {
		return phone.Number{}, ErrBadCode
	}
	// Deleting the very record checked is what makes the code single use:
	// of two requests racing with it, only one deletes it, and neither
	// deletes a newer code sent meanwhile.
	used, err := e.KV.DeleteIf(ctx, codeKey(user), raw)
	if err != nil {
		return phone.Number{}, fmt.Errorf("%w: using code: %w", store.ErrUnavailable, err)
	}
	if !used {
		return phone.Number{}, ErrBadCode
	}
	return e.provedNumber(ctx, user, purpose, rec.Number)
}
