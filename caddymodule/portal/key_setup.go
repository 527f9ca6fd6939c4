package portal

import (
	"errors"
	"net/http"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// Registering a security key or passkey: the page names the key and asks
// the browser for a new credential (ui/static/webauthn.js), then posts
// the browser's answer back like any form.

// renderKeySetup shows the registration form with a fresh ceremony, or
// only the error if this site cannot use security keys.
func (p *Portal) renderKeySetup(q *request, status int, name, errID string, data map[string]any) error {
	pg := p.page(q, ui.TitleSetupKey)
	pg.KeyName, pg.SignedIn, pg.Adding = name, p.adding(q), p.adding(q)
	site, siteErr, siteData := p.keySite(q)
	if siteErr != "" || errID == ui.ErrKeyWrongSite {
		// No ceremony that this site could not complete.
		pg.Error, pg.MessageData = errID, data
		if siteErr != "" {
			pg.Error, pg.MessageData, status = siteErr, siteData, http.StatusForbidden
		}
		return p.render(q, status, "setup_key", pg)
	}
	nonce, scope, ok, busy, err := p.newKeyCeremony(q)
	if err != nil {
		return err
	}
	if !ok {
		pg.Error, pg.MessageData = ui.ErrKeyBusy, busy
		return p.render(q, http.StatusTooManyRequests, "setup_key", pg)
	}
	opts, err := p.engine.BeginKeyRegistration(q.r.Context(), site, q.data.User, p.displayName(q.data.User), scope)
	if err != nil {
		return err
	}
	pg.KeyOptions, pg.KeyCeremony, pg.Error, pg.MessageData = string(opts), nonce, errID, data
	return p.render(q, status, "setup_key", pg)
}

// keySetupPage starts a registration.
func (p *Portal) keySetupPage(q *request) error {
	return p.renderKeySetup(q, http.StatusOK, "", "", nil)
}

// keySetupSubmit registers the key the browser answered with.
func (p *Portal) keySetupSubmit(q *request) error {
	name := q.r.PostFormValue("name")
	response, ok, err := p.keyAnswer(q, func(status int, errID string) error {
		return p.renderKeySetup(q, status, name, errID, nil)
	})
	if !ok {
		return err
	}
	site, siteErr, siteData := p.keySite(q)
	if siteErr != "" {
		return p.renderKeySetup(q, http.StatusForbidden, name, siteErr, siteData)
	}
	codes, err := p.engine.FinishKeyRegistration(q.r.Context(), site, q.data.User, p.postedKeyScope(q), name, response, !p.adding(q))
	if errors.Is(err, challenge.ErrAlreadyEnrolled) {
		return p.redirect(q, p.prefix+"challenge")
	}
	out, err := p.keyOutcome(q, "registration", err)
	if err != nil {
		return err
	}
	if out.errID != "" {
		return p.renderKeySetup(q, out.status, name, out.errID, out.data)
	}
	if p.adding(q) {
		return p.methodAdded(q, challenge.MethodWebAuthn)
	}
	return p.firstMethodAdded(q, challenge.MethodWebAuthn, codes)
}
