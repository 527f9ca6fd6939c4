package portal

import (
	"errors"
	"net/http"
	"net/url"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// The security-info page: a signed-in user's methods, with when each was
// added and last used; removing one (never the last), fresh recovery
// codes, and signing out everywhere. Changes need a second factor from the
// last StepUpAge; an older one is asked for again first. Each change
// answers with a redirect to a page that shows its result
// (security_results.go); the destructive ones ask first
// (security_confirm.go).

// securityPath is the page's path under the portal prefix.
const securityPath = "security"

// maySecurity lets a fully signed-in user see the page; others sign in
// first and come back.
func (p *Portal) maySecurity(q *request) bool {
	return q.data.Level == session.TwoFactor
}

// securityPage shows the user's security info.
func (p *Portal) securityPage(q *request) error {
	notice := doneNotice(q.r.URL.Query().Get("done"))
	if added := addedNotice(q.r.URL.Query().Get("added")); added != "" {
		notice = added
	}
	return p.renderSecurity(q, http.StatusOK, notice, "")
}

func (p *Portal) renderSecurity(q *request, status int, notice, errID string) error {
	a, err := p.engine.Account(q.r.Context(), q.data.User)
	if err != nil {
		return err
	}
	pg := p.page(q, ui.TitleSecurity)
	now := p.engine.Now()
	methods := challenge.Registered(a)
	for _, m := range methods {
		row := ui.MethodRow{ID: m.ID, Kind: m.Kind, Name: m.Name, Masked: m.Masked, Mobile: m.Mobile, Added: m.Added.UTC().Format(displayTime)}
		if !m.LastUsed.IsZero() {
			row.LastUsed = m.LastUsed.UTC().Format(displayTime)
		}
		pg.MethodRows = append(pg.MethodRows, row)
	}
	pg.CanRemove = len(methods) > 1
	for _, m := range p.signInMethods(a) {
		if m != "recovery" {
			pg.Methods = append(pg.Methods, m)
		}
	}
	if len(pg.Methods) > 0 {
		pg.DefaultMethod = pg.Methods[0]
	}
	if a != nil {
		pg.RecoveryLeft = len(a.RecoveryCodes)
		for _, d := range a.Devices {
			if !now.Before(d.Expires) {
				continue
			}
			pg.Devices = append(pg.Devices, ui.DeviceRow{ID: d.ID, Name: d.Name, Created: d.Created.UTC().Format(displayTime),
				LastUsed: d.LastUsed.UTC().Format(displayTime), Expires: d.Expires.UTC().Format(displayTime)})
		}
		for _, ap := range a.AppPasswords {
			row := ui.AppPasswordRow{ID: ap.ID, Name: ap.Name, Created: ap.Created.UTC().Format(displayTime)}
			if !ap.LastUsed.IsZero() {
				row.LastUsed = ap.LastUsed.UTC().Format(displayTime)
			}
			pg.AppPasswords = append(pg.AppPasswords, row)
		}
	}
	pg.Message, pg.Error = notice, errID
	pg.SignedIn = true
	return p.render(q, status, "security", pg)
}

// securityChange lets a change through only for a fully signed-in user with
// a recent second factor and a right CSRF token. Otherwise it has answered:
// a stale second factor is asked for again, then the user comes back here.
func (p *Portal) securityChange(q *request) (bool, error) {
	if !p.maySecurity(q) {
		return false, p.toSecurityAfterSignIn(q)
	}
	if !p.csrfOK(q.r, q.sess) {
		p.events.Write(q.r, events.CSRFRejected, q.data.User)
		return false, p.renderSecurity(q, http.StatusForbidden, "", ui.ErrCSRF)
	}
	return p.freshOrStepUp(q)
}

// freshOrStepUp lets a change through when the second factor is recent
// (and forgets the kept change a confirmed POST carries out, stepup.go);
// otherwise, on a POST, it keeps what was asked for, the session goes
// back to one factor until the second is given again, and then to the
// page that shows the change ready to confirm; a GET only shows the
// step-up page (stepup.go).
func (p *Portal) freshOrStepUp(q *request) (bool, error) {
	now := p.engine.Sessions.Now()
	if now.Unix()-q.data.SecondFactorAt < int64(challenge.StepUpAge.Seconds()) {
		if q.r.Method == http.MethodPost && p.csrfOK(q.r, q.sess) {
			if err := p.endStepUp(q); err != nil {
				return false, err
			}
		}
		return true, nil
	}
	if q.r.Method != http.MethodPost {
		return false, p.stepUpPage(q, http.StatusOK, "")
	}
	if !p.csrfOK(q.r, q.sess) {
		// Setup forms check the token after this: none changes the session without it.
		p.events.Write(q.r, events.CSRFRejected, q.data.User)
		return false, p.stepUpPage(q, http.StatusForbidden, ui.ErrCSRF)
	}
	user := q.data.User
	ret, err := p.keepStepUp(q)
	if err != nil {
		return false, err
	}
	q.data.Return = ret
	if q.data.SecondFactorAt == 0 {
		// Signed in on a remembered device: no second factor given yet,
		// but the pages must know this is a step-up (inStepUp).
		q.data.SecondFactorAt = 1
	}
	if err := p.promote(q, user, session.OneFactor); err != nil {
		return false, err
	}
	p.events.Write(q.r, events.StepUpRequired, user)
	return false, p.redirect(q, p.prefix+"challenge")
}

// securityRemove removes one method, never the last, once confirmed.
func (p *Portal) securityRemove(q *request) error {
	id := q.r.PostFormValue("id")
	if !confirmed(q) {
		return p.askFirst(q, "security/remove", url.Values{"id": {id}})
	}
	err := p.engine.RemoveMethod(q.r.Context(), q.data.User, id, q.r.PostFormValue("masked"))
	switch {
	case errors.Is(err, challenge.ErrLastMethod):
		return p.renderSecurity(q, http.StatusConflict, "", ui.ErrLastMethod)
	case errors.Is(err, challenge.ErrNoSuchMethod):
		return p.renderSecurity(q, http.StatusConflict, "", ui.ErrNoSuchMethod)
	case err != nil:
		return err
	}
	p.events.Write(q.r, events.MethodRemoved, q.data.User, events.Method(id))
	return p.done(q, "removed")
}

// securityRecovery replaces the recovery codes, once confirmed, and
// shows the new ones on their own page.
func (p *Portal) securityRecovery(q *request) error {
	if !confirmed(q) {
		return p.askFirst(q, "security/recovery", nil)
	}
	codes, err := p.engine.RegenerateRecovery(q.r.Context(), q.data.User)
	if errors.Is(err, challenge.ErrNoSuchMethod) {
		return p.renderSecurity(q, http.StatusConflict, "", ui.ErrNoSuchMethod)
	}
	if err != nil {
		return err
	}
	p.events.Write(q.r, events.RecoveryCodesCreated, q.data.User)
	return p.showOnce(q, challenge.ShownRecovery, recoveryCodesPath, p.prefix+securityPath, codes)
}

// signedOutPath is the page that says what "sign out everywhere" did.
const signedOutPath = "signed-out"

// securitySignOut ends every session of the user, this one included, and
// forgets their remembered devices. App passwords go on working, unless the
// form's box "and revoke app passwords" (app_passwords=revoke) is ticked:
// then every one is revoked too. It asks first (confirmed), and answers with a redirect to the page
// that says which it was.
func (p *Portal) securitySignOut(q *request) error {
	user, ctx := q.data.User, q.r.Context()
	revoke := q.r.PostFormValue("app_passwords") == "revoke"
	if !confirmed(q) {
		var query url.Values
		if revoke {
			query = url.Values{"app_passwords": {"revoke"}}
		}
		return p.askFirst(q, "security/signout", query)
	}
	if revoke {
		n, err := p.engine.RevokeAllAppPasswords(ctx, user)
		if err != nil {
			return err
		}
		p.events.Write(q.r, events.AppPasswordsRevoked, user, zap.Int("app_passwords", n))
	}
	n, err := p.engine.Sessions.RevokeUser(ctx, user)
	if err != nil {
		return err
	}
	if err := p.engine.ForgetDevices(ctx, user); err != nil {
		return err
	}
	p.events.Write(q.r, events.SessionsRevoked, user, zapSessions(n))
	q.sess.Options.MaxAge = -1
	if err := p.engine.Sessions.Save(q.r, q.w, q.sess); err != nil {
		return err
	}
	to := p.prefix + signedOutPath
	if revoke {
		to += "?app_passwords=revoked"
	}
	return p.redirect(q, to)
}

// signedOutPage says that the user is signed out (here=1: in this
// browser; else everywhere, and whether their app passwords still work). A browser still signed in (who opened
// the address by hand) goes to the portal's start page instead, so that the
// page never says something untrue there.
func (p *Portal) signedOutPage(q *request) error {
	if q.data.User != "" {
		return p.redirect(q, p.prefix)
	}
	msg := ui.MsgSignedOutEverywhere
	switch {
	case q.r.URL.Query().Get("here") != "":
		msg = ui.MsgSignedOut // this browser only (logout)
	case q.r.URL.Query().Get("app_passwords") == "revoked":
		msg = ui.MsgSignedOutRevoked
	}
	p.pages.Message(q.w, q.r, http.StatusOK, ui.TitleSignedOut, msg)
	return nil
}

// securityAppPassword makes an app password and shows it on its own page.
func (p *Portal) securityAppPassword(q *request) error {
	name := q.r.PostFormValue("name")
	secret, err := p.engine.CreateAppPassword(q.r.Context(), q.data.User, name)
	switch {
	case errors.Is(err, challenge.ErrBadAppPasswordName):
		return p.renderSecurity(q, http.StatusUnprocessableEntity, "", ui.ErrAppPasswordName)
	case errors.Is(err, challenge.ErrTooManyAppPasswords):
		return p.renderSecurity(q, http.StatusConflict, "", ui.ErrAppPasswordLimit)
	case err != nil:
		return err
	}
	p.events.Write(q.r, events.AppPasswordCreated, q.data.User, zap.String("app_password", name))
	return p.showOnce(q, challenge.ShownAppPassword, newAppPasswordPath, p.prefix+securityPath, []string{secret})
}

// securityAppPasswordRevoke removes an app password, once confirmed.
func (p *Portal) securityAppPasswordRevoke(q *request) error {
	id := q.r.PostFormValue("id")
	if !confirmed(q) {
		return p.askFirst(q, "security/app-passwords/revoke", url.Values{"id": {id}})
	}
	found, err := p.engine.RevokeAppPassword(q.r.Context(), q.data.User, id)
	if err != nil {
		return err
	}
	if !found {
		return p.renderSecurity(q, http.StatusConflict, "", ui.ErrNoSuchMethod)
	}
	p.events.Write(q.r, events.AppPasswordRevoked, q.data.User)
	return p.done(q, "revoked")
}

// securityDefault sets the method asked for first at sign-in.
func (p *Portal) securityDefault(q *request) error {
	m := q.r.PostFormValue("method")
	err := p.engine.SetDefaultMethod(q.r.Context(), q.data.User, m)
	if errors.Is(err, challenge.ErrNoSuchMethod) {
		return p.renderSecurity(q, http.StatusConflict, "", ui.ErrNoSuchMethod)
	}
	if err != nil {
		return err
	}
	p.events.Write(q.r, events.DefaultMethodChanged, q.data.User, events.Method(m))
	return p.done(q, "default")
}

// securityForgetDevice forgets a remembered device, once confirmed.
func (p *Portal) securityForgetDevice(q *request) error {
	id := q.r.PostFormValue("id")
	if !confirmed(q) {
		return p.askFirst(q, "security/devices/forget", url.Values{"id": {id}})
	}
	found, err := p.engine.ForgetDevice(q.r.Context(), q.data.User, id)
	if err != nil {
		return err
	}
	if !found {
		return p.renderSecurity(q, http.StatusConflict, "", ui.ErrNoSuchMethod)
	}
	p.events.Write(q.r, events.DeviceForgotten, q.data.User)
	return p.done(q, "forgotten")
}

// securityRenameKey renames a security key.
func (p *Portal) securityRenameKey(q *request) error {
	err := p.engine.RenameKey(q.r.Context(), q.data.User, q.r.PostFormValue("id"), q.r.PostFormValue("name"))
	switch {
	case errors.Is(err, challenge.ErrBadKeyName):
		return p.renderSecurity(q, http.StatusUnprocessableEntity, "", ui.ErrKeyName)
	case errors.Is(err, challenge.ErrNoSuchMethod):
		return p.renderSecurity(q, http.StatusConflict, "", ui.ErrNoSuchMethod)
	case err != nil:
		return err
	}
	p.events.Write(q.r, events.KeyRenamed, q.data.User, events.Method(q.r.PostFormValue("id")))
	return p.done(q, "renamed")
}
