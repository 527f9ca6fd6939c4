package portal

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
func (p *Portal) shownTOTP(q *request) (totp.Enrolment, []byte, bool, error) {
	if q.data.Level < session.OneFactor {
		return totp.Enrolment{}, nil, false, nil
	}
	sealed, err := p.engine.KV.Get(q.r.Context(), pendingTOTPKey(p.sessionTag(q)))
	if errors.Is(err, store.ErrNotFound) {
		return totp.Enrolment{}, nil, false, nil
	}
	if err != nil {
		return totp.Enrolment{}, nil, false, fmt.Errorf("%w: reading the app being registered: %w", store.ErrUnavailable, err)
	}
	en, err := p.engine.PendingTOTP(q.data.User, sealed)
	if err != nil {
		return totp.Enrolment{}, nil, false, nil
	}
	return en, sealed, true, nil
}

// pendingTOTP returns the seed being registered, sealed and open, making
// one if needed (fresh is then true). Pages opened at once show one seed:
// a new one is stored only if none is (create-if-absent), and the loser of
// that race shows the winner's.
func (p *Portal) pendingTOTP(q *request) (en totp.Enrolment, sealed []byte, fresh bool, err error) {
	e, ctx, key := p.engine, q.r.Context(), pendingTOTPKey(p.sessionTag(q))
	if en, sealed, ok, err := p.shownTOTP(q); ok || err != nil {
		return en, sealed, false, err
	}
	en, sealed, err = e.BeginTOTP(q.data.User)
	if err != nil {
		return totp.Enrolment{}, nil, false, err
	}
	created, err := e.KV.Create(ctx, key, sealed, pendingTOTPTTL)
	if err != nil {
		return totp.Enrolment{}, nil, false, fmt.Errorf("%w: saving the app being registered: %w", store.ErrUnavailable, err)
	}
	if created {
		return en, sealed, true, nil
	}
	// Another page of this session stored one meanwhile: show that.
	if en, sealed, ok, err := p.shownTOTP(q); ok || err != nil {
		return en, sealed, false, err
	}
	// What is stored cannot be opened (or expired just now): replace it.
	if err := e.KV.Set(ctx, key, sealed, pendingTOTPTTL); err != nil {
		return totp.Enrolment{}, nil, false, fmt.Errorf("%w: saving the app being registered: %w", store.ErrUnavailable, err)
	}
	return en, sealed, true, nil
}

// takeTOTP uses up the seed sealed that this session was shown, in one
// step, before it is registered: of two submits at once only one gets it.
// ok is false if it is gone (registered or replaced meanwhile).
func (p *Portal) takeTOTP(q *request, sealed []byte) (bool, error) {
	ok, err := p.engine.KV.DeleteIf(q.r.Context(), pendingTOTPKey(p.sessionTag(q)), sealed)
	if err != nil {
		return false, fmt.Errorf("%w: taking the app being registered: %w", store.ErrUnavailable, err)
	}
	return ok, nil
}

// restoreTOTP puts back a seed taken for a registration that failed (a
// wrong code), so that the user can try another code with the same app;
// a seed shown meanwhile is kept.
func (p *Portal) restoreTOTP(q *request, sealed []byte) error {
	if _, err := p.engine.KV.Create(q.r.Context(), pendingTOTPKey(p.sessionTag(q)), sealed, pendingTOTPTTL); err != nil {
		return fmt.Errorf("%w: keeping the app being registered: %w", store.ErrUnavailable, err)
	}
	return nil
}
