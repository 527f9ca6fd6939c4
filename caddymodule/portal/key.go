package portal

import (
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/securitykey"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// What registering a security key and signing in with one share: the
// relying party of the request, and the outcome of a ceremony as the user
// reads it.

// keySite is the relying party of the site q reached. A site outside the
// configured relying-party id, or reached by address, gives a message id
// and its data instead. That is the configuration, not an attack, and is
// not logged on each page.
func (p *Portal) keySite(q *request) (securitykey.Site, string, map[string]any) {
	site, err := p.engine.SecurityKeys.Site(q.r.Host, p.org)
	var oe *securitykey.OriginError
	if errors.As(err, &oe) {
		errID, data := originMessage(oe)
		return site, errID, data
	}
	return site, "", nil
}

// keyOutcome maps an error of a ceremony to the message the user reads
// (with its data), logging what an administrator may want to know. A nil
// outcome with a non-nil error means the caller must return the error (a
// store outage or a bug).
func (p *Portal) keyOutcome(q *request, step string, err error) (keySent, error) {
	var oe *securitykey.OriginError
	switch {
	case err == nil:
		return keySent{}, nil
	case errors.As(err, &oe):
		p.events.Write(q.r, events.KeyWrongOrigin, q.data.User, zap.String("step", step), zap.String("origin", oe.Origin), zap.String("rp_id", oe.RPID))
		errID, data := originMessage(oe)
		return keySent{http.StatusForbidden, errID, data, true}, nil
	case errors.Is(err, challenge.ErrCeremony):
		return keySent{status: http.StatusConflict, errID: ui.ErrKeyExpired}, nil
	case errors.Is(err, securitykey.ErrCloned):
		p.events.Write(q.r, events.KeyCloneWarning, q.data.User, zap.String("step", step), zap.Error(err))
		return keySent{http.StatusUnauthorized, ui.ErrKeyCloned, nil, true}, nil
	case errors.Is(err, securitykey.ErrRejected):
		p.events.Write(q.r, events.KeyRejected, q.data.User, zap.String("step", step), zap.Error(err))
		return keySent{http.StatusUnauthorized, ui.ErrKeyRejected, nil, true}, nil
	case errors.Is(err, challenge.ErrKeyExists):
		return keySent{status: http.StatusConflict, errID: ui.ErrKeyExists}, nil
	case errors.Is(err, challenge.ErrTooManyKeys):
		return keySent{status: http.StatusConflict, errID: ui.ErrKeyLimit, data: map[string]any{"Max": challenge.MaxKeys}}, nil
	case errors.Is(err, challenge.ErrBadKeyName):
		return keySent{status: http.StatusUnprocessableEntity, errID: ui.ErrKeyName}, nil
	}
	return keySent{}, err
}

// keySent is the outcome of a ceremony for the page: its status, message
// and data, and whether it counts as a failed second factor.
type keySent struct {
	status int
	errID  string
	data   map[string]any
	failed bool
}

// originMessage says why a page of oe's origin may not use the keys.
func originMessage(oe *securitykey.OriginError) (string, map[string]any) {
	if oe.Address {
		return ui.ErrKeyAddress, map[string]any{"Origin": oe.Origin}
	}
	return ui.ErrKeyWrongSite, map[string]any{"Origin": oe.Origin, "RPID": oe.RPID}
}

// keyAnswer is the browser's answer that the page's script posted, after
// the form's CSRF check. When ok is false, rerender has answered: a forged
// or stale form, or no answer at all (no JavaScript, or no key support).
func (p *Portal) keyAnswer(q *request, rerender func(status int, errID string) error) ([]byte, bool, error) {
	if !p.csrfOK(q.r, q.sess) {
		p.events.Write(q.r, events.CSRFRejected, q.data.User)
		return nil, false, rerender(http.StatusForbidden, ui.ErrCSRF)
	}
	r := q.r.PostFormValue("response")
	if r == "" {
		return nil, false, rerender(http.StatusUnprocessableEntity, ui.ErrKeyNoScript)
	}
	return []byte(r), true, nil
}
