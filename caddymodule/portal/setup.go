package portal

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/totp"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// mayEnrol lets a user register a method: a first one after the password
// while they have none, or another one, from the security-info page, when
// fully signed in (with recent: with a recent second factor; an older one
// is asked for again first). Otherwise it redirects.
func (p *Portal) mayEnrol(q *request, recent bool) (bool, error) {
	if q.data.Level < session.OneFactor {
		return false, p.redirect(q, p.prefix+"login")
	}
	if p.adding(q) {
		if !recent {
			return true, nil
		}
		return p.freshOrStepUp(q)
	}
	acct, err := p.engine.Account(q.r.Context(), q.data.User)
	if err != nil {
		return false, err
	}
	if acct.HasSecondFactor() {
		return false, p.redirect(q, p.prefix+"challenge")
	}
	if u := p.engine.Users.Lookup(q.data.User); u != nil && p.refusedAt(q.r, p.returnPath(q.data.Return), u) {
		// Nothing to register for: the route the user came for refuses
		// them (forbidden.go).
		p.renderForbidden(q.w, q.r, "s:"+q.sess.ID, u, ui.MsgForbiddenBeforeSetup, p.returnPath(q.data.Return))
		return false, nil
	}
	// The registration policy: not from here, not now, or not yet
	// proven with a temporary access pass or an e-mailed code.
	if ok, err := p.mayRegister(q); err != nil || !ok {
		if err != nil {
			return false, err
		}
		return false, p.redirect(q, p.prefix+registerPath)
	}
	return true, nil
}

// adding reports a registration by a fully signed-in user: another method,
// from the security-info page.
func (p *Portal) adding(q *request) bool { return q.data.Level == session.TwoFactor }

// methodAdded completes the registration of another method: it logs it
// and goes back to the security-info page, which says so.
func (p *Portal) methodAdded(q *request, method string) error {
	p.events.Write(q.r, events.MethodAdded, q.data.User, events.Method(method))
	if err := p.registeredBy(q, method); err != nil {
		return err
	}
	return p.redirect(q, p.prefix+securityPath+"?added=1")
}

// addedNumber is the security-info page's "added" value after a change of
// number (the new one proved, the old one removed).
const addedNumber = "number"

// addedNotice is the security-info page's notice for its "added" value:
// none, a method added, or a number changed.
func addedNotice(added string) string {
	switch added {
	case "":
		return ""
	case addedNumber:
		return ui.MsgNumberChanged
	}
	return ui.MsgMethodAdded
}

// setupPage lets the user choose a method to register.
func (p *Portal) setupPage(q *request) error {
	title := ui.TitleSetup
	if p.adding(q) {
		title = ui.TitleSetupAdd
	}
	pg := p.page(q, title)
	a, err := p.engine.Account(q.r.Context(), q.data.User)
	if err != nil {
		return err
	}
	for _, m := range challenge.KnownMethods {
		// An app and a phone for notifications are one each; phones for
		// texts and calls, and security keys, may be several.
		has := a != nil && (m == challenge.MethodTOTP && a.TOTP != nil || m == challenge.MethodPush && a.Push != nil)
		if p.engine.MethodEnabled(m) && !has {
			pg.Methods = append(pg.Methods, m)
		}
	}
	pg.Adding = p.adding(q)
	return p.render(q, http.StatusOK, "setup", pg)
}

// totpPage shows the QR code, link and key of a new seed.
func (p *Portal) totpPage(q *request) error {
	en, _, _, err := p.pendingTOTP(q)
	if err != nil {
		return err
	}
	return p.renderTOTP(q, http.StatusOK, en, "")
}

func (p *Portal) renderTOTP(q *request, status int, en totp.Enrolment, errID string) error {
	pg := p.page(q, ui.TitleSetupTOTP)
	pg.TOTPSecret = en.GroupedSecret()
	pg.TOTPURL = template.URL(en.URL) // otpauth: is not a scheme html/template trusts by itself
	pg.Error, pg.Adding = errID, p.adding(q)
	return p.render(q, status, "setup_totp", pg)
}

// totpQR serves the QR code of the pending seed as a PNG, to whom the
// registration page is shown (mayEnrol: a recent second factor when
// adding a method).
func (p *Portal) totpQR(q *request) error {
	en, _, ok, err := p.shownTOTP(q)
	if err != nil {
		return err
	}
	if !ok {
		p.pages.Message(q.w, q.r, http.StatusNotFound, ui.TitleBadRequest, ui.MsgBadRequest)
		return nil
	}
	return p.writeQR(q, en.URL)
}

// totpSubmit confirms the new app with its first code, then shows the
// recovery codes once.
func (p *Portal) totpSubmit(q *request) error {
	en, sealed, fresh, err := p.pendingTOTP(q)
	if err != nil {
		return err
	}
	if fresh {
		// The seed the user scanned is gone (session ended or tampered).
		return p.renderTOTP(q, http.StatusConflict, en, ui.ErrEnrolmentExpired)
	}
	if !p.csrfOK(q.r, q.sess) {
		p.events.Write(q.r, events.CSRFRejected, q.data.User)
		return p.renderTOTP(q, http.StatusForbidden, en, ui.ErrCSRF)
	}
	if ok, err := p.codeAllowed(q); !ok {
		return err
	}
	if taken, err := p.takeTOTP(q, sealed); err != nil || !taken {
		if err != nil {
			return err
		}
		// Registered (or replaced) by another submit of this session meanwhile.
		return p.renderTOTP(q, http.StatusConflict, en, ui.ErrEnrolmentExpired)
	}
	confirm := p.engine.ConfirmTOTP
	if p.adding(q) {
		confirm = p.engine.AddTOTP
	}
	codes, err := confirm(q.r.Context(), q.data.User, sealed, q.r.PostFormValue("code"))
	if err != nil && !errors.Is(err, challenge.ErrAlreadyEnrolled) {
		if err := p.restoreTOTP(q, sealed); err != nil {
			return err
		}
	}
	if errors.Is(err, challenge.ErrBadCode) {
		p.events.Write(q.r, events.EnrolmentCodeRejected, q.data.User, events.Method("totp"))
		if err := p.codeFailed(q); err != nil {
			return err
		}
		return p.renderTOTP(q, http.StatusUnprocessableEntity, en, ui.ErrBadCode)
	}
	if errors.Is(err, challenge.ErrAlreadyEnrolled) {
		return p.redirect(q, p.prefix+"challenge")
	}
	if err != nil {
		return err
	}
	if p.adding(q) {
		return p.methodAdded(q, challenge.MethodTOTP)
	}
	return p.firstMethodAdded(q, challenge.MethodTOTP, codes)
}

// firstMethodAdded completes a registration of the user's first method:
// it logs it, completes the sign-in, and redirects to the page that shows
// the new recovery codes.
func (p *Portal) firstMethodAdded(q *request, method string, codes []string) error {
	user := q.data.User
	p.events.Write(q.r, events.MethodAdded, user, events.Method(method))
	p.events.Write(q.r, events.RecoveryCodesCreated, user)
	// Under the session's id of before: the sign-in below rotates it.
	if err := p.registeredBy(q, method); err != nil {
		return err
	}
	if err := p.secondFactorPassed(q, user, method); err != nil {
		return err
	}
	// The page after the redirect shows the codes (the session's tag is
	// the new one: the sign-in rotated its id).
	return p.showOnce(q, challenge.ShownRecovery, recoveryCodesPath, p.returnPath(q.data.Return), codes)
}
