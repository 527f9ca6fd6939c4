package challenge

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
)

// codeRecord is a texted code waiting for its user, in the KV under
// "phone-code:<user>": one at a time per user, a new send replaces it. It
// is good only in the session it was texted for (Session, a SessionTag),
// so that it ends with that sign-in: a sign-out, or a sign-in finished
// another way (EndSessionPending), leaves nothing to enter later.
type codeRecord struct {
	Purpose string `json:"purpose"`
	Session string `json:"session"`
	Hash    []byte `json:"hash"`
	Number  []byte `json:"number"`
	Masked  string `json:"masked"`
	Expires int64  `json:"expires"`
}

// codes are the texted codes waiting, by user.
func (e *Engine) codes() record[codeRecord] {
	return record[codeRecord]{kv: e.KV, now: e.Now, prefix: "phone-code:", what: "texted code", expires: codeRecord.expiry}
}

func (r codeRecord) expiry() time.Time { return time.Unix(r.Expires, 0) }

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
// PhoneCodeTTL and once, in the session tagged session only, after the country allow-list and the send limits
// (errors ErrCountry, ErrNotMobile, *Refused). body makes the message from
// the code. A provider failure wraps phone.ErrProvider; the code is then
// forgotten.
func (e *Engine) SendCode(ctx context.Context, user, purpose, session, ip string, to phone.Number, body func(code string) string) error {
	if e.Phone.Text == nil {
		return fmt.Errorf("%w: no text message provider", phone.ErrProvider)
	}
	if !to.Mobile {
		return ErrNotMobile
	}
	if err := e.checkSend(ctx, user, purpose, regulation.ChannelText, ip, to); err != nil {
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
	rec := codeRecord{
		Purpose: purpose, Session: session, Hash: e.phoneCodeHash(user, purpose, code), Number: sealed,
		Masked: to.Masked(), Expires: e.Now().Add(PhoneCodeTTL).Unix(),
	}
	if err := e.codes().Put(ctx, user, rec); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, phone.SendTimeout)
	defer cancel()
	if err := e.Phone.Text.SendText(sctx, phone.Text{To: to, Body: body(code)}); err != nil {
		// The request may be over (the user gave up while the provider
		// hung): forget the code all the same.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), phone.SendTimeout)
		defer cancel()
		if derr := e.codes().Delete(cctx, user); derr != nil {
			err = errors.Join(err, derr)
		}
		return fmt.Errorf("texting a code: %w", err)
	}
	return nil
}

// PendingCode returns the masked number a code for purpose was texted to,
// if one is waiting for user in the session tagged session.
func (e *Engine) PendingCode(ctx context.Context, user, purpose, session string) (string, bool, error) {
	rec, err := e.codes().Get(ctx, user)
	if errors.Is(err, errNoRecord) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if rec.Purpose != purpose || rec.Session != session {
		return "", false, nil
	}
	return rec.Masked, true, nil
}

// CheckCode accepts the texted code of user for purpose once, within
// PhoneCodeTTL, in the session tagged session it was texted for, and
// returns the number it went to. A wrong, used, expired or unknown code,
// or one texted for another session, is ErrBadCode; a wrong code leaves the right one good
// (the code-check limits and lockout bound the guesses).
func (e *Engine) CheckCode(ctx context.Context, user, purpose, session, code string) (phone.Number, error) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	// Deleting the very record checked is what makes the code single use:
	// of two requests racing with it, only one deletes it, and neither
	// deletes a newer code sent meanwhile. A wrong code leaves it.
	rec, used, err := e.codes().TakeIf(ctx, user, func(rec codeRecord) bool {
		return rec.Purpose == purpose && rec.Session == session && len(code) == 6 &&
			subtle.ConstantTimeCompare(rec.Hash, e.phoneCodeHash(user, purpose, code)) == 1
	})
	if err != nil {
		return phone.Number{}, err
	}
	if !used {
		return phone.Number{}, ErrBadCode
	}
	return e.provedNumber(ctx, user, purpose, rec.Number)
}
