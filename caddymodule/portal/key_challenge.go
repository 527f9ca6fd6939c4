package portal

import (
	"net/http"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// Signing in with a security key or passkey: the page asks the browser for
// an assertion (ui/static/webauthn.js) and posts it to the challenge form.

// renderKeyChallenge shows the "Use security key" page with a fresh
// ceremony for user a, or only the error if this site cannot use keys.
func (p *Portal) renderKeyChallenge(q *request, status int, a *store.Account, errID string, data map[string]any) error {
	site, siteErr, siteData := p.keySite(q)
	if siteErr != "" {
		errID, data, status = siteErr, siteData, http.StatusForbidden
	}
	pg, err := p.othersPage(q, ui.TitleKeyChallenge, challenge.MethodWebAuthn, a, errID, data)
	if err != nil {
		return err
	}
	if siteErr == "" && errID != ui.ErrKeyWrongSite {
		// (After a refused origin the key would be refused again here.)
		nonce, scope, ok, busy, err := p.newKeyCeremony(q)
		if err != nil {
			return err
		}
		if !ok {
			pg.Error, pg.MessageData = ui.ErrKeyBusy, busy
			return p.render(q, http.StatusTooManyRequests, "key_challenge", pg)
		}
		opts, ok, err := p.engine.BeginKeySignIn(q.r.Context(), site, a, scope)
		if err != nil {
			return err
		}
		if !ok {
			return p.redirect(q, p.prefix+"challenge")
		}
		pg.KeyOptions, pg.KeyCeremony = string(opts), nonce
	}
	return p.render(q, status, "key_challenge", pg)
}

// challengeKeySubmit checks the browser's answer and completes the sign-in.
func (p *Portal) challengeKeySubmit(q *request, a *store.Account) error {
	response, ok, err := p.keyAnswer(q, func(status int, errID string) error {
		return p.renderKeyChallenge(q, status, a, errID, nil)
	})
	if !ok {
		return err
	}
	if ok, err := p.codeAllowed(q); !ok {
		return err
	}
	site, siteErr, siteData := p.keySite(q)
	if siteErr != "" {
		return p.renderKeyChallenge(q, http.StatusForbidden, a, siteErr, siteData)
	}
	user := q.data.User
	err = p.engine.FinishKeySignIn(q.r.Context(), site, user, p.postedKeyScope(q), response)
	out, err := p.keyOutcome(q, "sign_in", err)
	if err != nil {
		return err
	}
	if out.errID != "" {
		if out.failed {
			if err := p.secondFactorFailed(q, challenge.MethodWebAuthn); err != nil {
				return err
			}
		}
		return p.renderKeyChallenge(q, out.status, a, out.errID, out.data)
	}
	if err := p.secondFactorPassed(q, user, challenge.MethodWebAuthn); err != nil {
		return err
	}
	return p.redirect(q, p.returnPath(q.data.Return))
}
