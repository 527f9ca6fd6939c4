package challenge

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// The codes of verified_email registration: six digits e-mailed to the
// address the directory has for a user who has no method yet, typed back
// in the same session before registering one. The e-mail is not a way to
// sign in of its own: a right code only lets that session register.

// EmailCodeTTL is how long an e-mailed registration code works.
const EmailCodeTTL = 10 * time.Minute

// ErrCodeExpired is a code asked for too long ago (or never, or used).
var ErrCodeExpired = errors.New("no code is waiting: it expired, was used, or was never sent")

type emailCodeRecord struct {
	Hash    []byte `json:"hash"`
	Expires int64  `json:"expires"`
}

func (r emailCodeRecord) expiry() time.Time { return time.Unix(r.Expires, 0) }

// emailCodes are the e-mailed codes waiting, by session (a code asked for
// in another session of the same user replaces nothing of this one's).
func (e *Engine) emailCodes() record[emailCodeRecord] {
	return record[emailCodeRecord]{kv: e.KV, now: e.Now, prefix: "email-code:", what: "e-mailed code", expires: emailCodeRecord.expiry}
}

// emailCodeHash binds a code to its user, the address it went to and
// the session that asked for it.
func (e *Engine) emailCodeHash(user, address, session, code string) []byte {
	return e.Keys.HashCode("email-code", user+"\x00"+address+"\x00"+session+"\x00"+code)
}

// NewEmailCode makes a code for user to e-mail to address, good for
// EmailCodeTTL and once, in the session tagged session only; a new one
// replaces the session's last. The caller applies the send limits first.
func (e *Engine) NewEmailCode(ctx context.Context, user, address, session string) (string, time.Time, error) {
	code, err := newPhoneCode()
	if err != nil {
		return "", time.Time{}, err
	}
	exp := e.Now().Add(EmailCodeTTL)
	rec := emailCodeRecord{Hash: e.emailCodeHash(user, address, session, code), Expires: exp.Unix()}
	if err := e.emailCodes().Put(ctx, session, rec); err != nil {
		return "", time.Time{}, err
	}
	return code, exp, nil
}

// CheckEmailCode uses up the code waiting for user if code is it, typed
// in the session that asked for it, for the address the user has now: nil.
// ErrBadCode if it is not; ErrCodeExpired if none is waiting. Of two
// requests racing with the right code, one gets nil.
func (e *Engine) CheckEmailCode(ctx context.Context, user, address, session, code string) error {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	h := e.emailCodeHash(user, address, session, code)
	found := false
	_, taken, err := e.emailCodes().TakeIf(ctx, session, func(r emailCodeRecord) bool {
		found = true
		return e.Now().Before(r.expiry()) && subtle.ConstantTimeCompare(r.Hash, h) == 1
	})
	switch {
	case err != nil && !errors.Is(err, errBadRecord):
		return err
	case taken:
		return nil
	case !found:
		return ErrCodeExpired
	}
	return ErrBadCode
}

// CheckEmailSend applies the send limits to an e-mailed code for user to
// address, asked for from ip, and counts it: *Refused if they refuse it.
// They are the limits of texts (per user, per address, per client
// address, a wait before the next), on a channel of its own.
func (e *Engine) CheckEmailSend(ctx context.Context, user, address, ip string) error {
	key := hex.EncodeToString(e.Keys.HashCode("send-email", strings.ToLower(address))[:16])
	v, err := e.Regulation.BeforeSend(ctx, user, PurposeEnrol, regulation.ChannelEmail, key, ip)
	if err != nil {
		return fmt.Errorf("%w: send limits: %w", store.ErrUnavailable, err)
	}
	if !v.Allowed {
		return &Refused{v}
	}
	return nil
}
