package challenge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/securitykey"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// MaxKeyPages is how many security-key ceremonies one session may start
// in the time one lasts (the security-key timeout), so that showing key
// pages again and again cannot fill the store.
const MaxKeyPages = 16

// ceremonies are the security-key ceremonies under way, by purpose and
// the scope the Caddy module names them by (a session and a page of it).
func (e *Engine) ceremonies() record[securitykey.Ceremony] {
	return record[securitykey.Ceremony]{kv: e.KV, now: e.Now, prefix: "webauthn:", what: "webauthn ceremony",
		expires: func(c securitykey.Ceremony) time.Time { return c.Expires }}
}

// saveCeremony keeps c, replacing any earlier ceremony of the same purpose
// in session, until it expires.
func (e *Engine) saveCeremony(ctx context.Context, purpose, session string, c securitykey.Ceremony) error {
	return e.ceremonies().Put(ctx, purpose+":"+session, c)
}

// takeCeremony takes user's ceremony of purpose in session, once: it is
// gone after this call, whatever its outcome. Missing, expired, malformed
// or of another user, it is ErrCeremony.
func (e *Engine) takeCeremony(ctx context.Context, purpose, session, user string) (securitykey.Ceremony, error) {
	c, err := e.ceremonies().Take(ctx, purpose+":"+session)
	switch {
	case errors.Is(err, errNoRecord):
		return c, ErrCeremony
	case errors.Is(err, errBadRecord):
		return c, fmt.Errorf("%w: %w", ErrCeremony, err)
	case err != nil:
		return c, err
	case c.User != user:
		return c, ErrCeremony
	}
	return c, nil
}

// StartKeyPage counts a security-key page opened by the session tagged
// session, whose ceremony lasts the security-key timeout: ok is false once
// the session has opened more than MaxKeyPages in that time.
func (e *Engine) StartKeyPage(ctx context.Context, session string) (bool, error) {
	n, err := e.KV.Incr(ctx, "webauthn-pages:"+session, e.SecurityKeys.Timeout)
	if err != nil {
		return false, fmt.Errorf("%w: counting security-key pages: %w", store.ErrUnavailable, err)
	}
	return n <= MaxKeyPages, nil
}
