package caddymodule

import (
	"errors"
	"fmt"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/challenge/totp"
)

// The seed of an authenticator app being registered is kept, sealed, in
// the store under the session's tag until its first code is entered, as
// the topic of a phone for notifications and a security key's ceremony
// are: showing the QR code is a GET, and a GET never changes the session
// (or re-issues its cookie). Showing the page again shows the same seed.

// pendingTOTPTTL is how long a shown seed waits for its first code.
const pendingTOTPTTL = 30 * time.Minute

// pendingTOTPKey is the store key of the seed shown to session (its tag).
func pendingTOTPKey(session string) string { return "totp-pending:" + session }

// shownTOTP returns the seed shown to this session, sealed and open, if
// there is one; ok is false if none (or it cannot be opened any more).
func (p *portal) shownTOTP(q *request) (totp.Enrolment, []byte, bool, error) {
	if q.data.Level < session.OneFactor {
		return totp.Enrolment{}, nil, false, nil
	}
	sealed, err := p.app.engine.KV.Get(q.r.Context(), pendingTOTPKey(p.sessionTag(q)))
	if errors.Is(err, store.ErrNotFound) {
		return totp.Enrolment{}, nil, false, nil
	}
	if err != nil {
		return totp.Enrolment{}, nil, false, fmt.Errorf("%w: reading the app being registered: %w", store.ErrUnavailable, err)
	}
	en, err := p.app.engine.PendingTOTP(q.data.User, sealed)
	if err != nil {
		return totp.Enrolment{}, nil, false, nil
	}
	return en, sealed, true, nil
}

// pendingTOTP returns the seed being registered, sealed and open, making
// one if needed (fresh is then true).
func (p *portal) pendingTOTP(q *request) (en totp.Enrolment, sealed []byte, fresh bool, err error) {
	if en, sealed, ok, err := p.shownTOTP(q); ok || err != nil {
		return en, sealed, false, err
	}
	e := p.app.engine
	en, sealed, err = e.BeginTOTP(q.data.User)
	if err != nil {
		return totp.Enrolment{}, nil, false, err
	}
	if err := e.KV.Set(q.r.Context(), pendingTOTPKey(p.sessionTag(q)), sealed, pendingTOTPTTL); err != nil {
		return totp.Enrolment{}, nil, false, fmt.Errorf("%w: saving the app being registered: %w", store.ErrUnavailable, err)
	}
	return en, sealed, true, nil
}

// forgetTOTP drops the seed shown to this session, once registered.
func (p *portal) forgetTOTP(q *request) error {
	if err := p.app.engine.KV.Delete(q.r.Context(), pendingTOTPKey(p.sessionTag(q))); err != nil {
		return fmt.Errorf("%w: forgetting the app being registered: %w", store.ErrUnavailable, err)
	}
	return nil
}
