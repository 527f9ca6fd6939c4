package caddymodule

import (
	"errors"
	"net/http"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// mayChallenge lets a user who gave the password and has a second factor
// prove it; others are sent where they belong.
func (p *portal) mayChallenge(q *request) (bool, error) {
	switch q.data.Level {
	case session.Anonymous:
		return false, p.redirect(q, p.app.prefix+"login")
	case session.TwoFactor:
		return false, p.redirect(q, p.returnPath(q.data.Return))
	}
	next, err := p.nextStep(q)
	if err != nil {
		return false, err
	}
	if next != p.app.prefix+"challenge" {
		return false, p.redirect(q, next)
	}
	return true, nil
}

// renderChallenge asks for a code from the app or a recovery code, with
// links to user a's other ways to sign in.
func (p *portal) renderChallenge(q *request, status int, a *store.Account, recovery bool, errID string) error {
	title, current := ui.TitleChallenge, challenge.MethodTOTP
	if recovery {
		title, current = ui.TitleChallengeRecovery, "recovery"
	}
	others, err := p.others(a, current)
	if err != nil {
		return err
	}
	pg := p.page(q, title)
	pg.Recovery, pg.Error, pg.Others = recovery, errID, others
	return p.render(q, status, "challenge", pg)
}

// challengePage asks for the second factor: a code from the app, a texted
// code or a call, or a recovery code (?method= picks one of the user's).
func (p *portal) challengePage(q *request) error {
	if ok, err := p.mayChallenge(q); !ok {
		return err
	}
	method, a, err := p.chosenMethod(q, q.r.URL.Query().Get("method"))
	if err != nil {
		return err
	}
	if method == challenge.MethodSMS || method == challenge.MethodVoice {
		return p.renderPhoneChallenge(q, http.StatusOK, method, a, "", nil)
	}
	if method == challenge.MethodPush {
		return p.renderPushChallenge(q, http.StatusOK, a, "", nil)
	}
	if method == challenge.MethodWebAuthn {
		return p.renderKeyChallenge(q, http.StatusOK, a, "", nil)
	}
	return p.renderChallenge(q, http.StatusOK, a, method == "recovery", "")
}

// challengeSubmit checks the second factor and completes the sign-in.
func (p *portal) challengeSubmit(q *request) error {
	if ok, err := p.mayChallenge(q); !ok {
		return err
	}
	method, a, err := p.chosenMethod(q, q.r.PostFormValue("method"))
	if err != nil {
		return err
	}
	if method != q.r.PostFormValue("method") || method == challenge.MethodVoice || method == challenge.MethodPush {
		// Not one of this user's methods now (or disabled meanwhile).
		return p.redirect(q, p.app.prefix+"challenge")
	}
	if method == challenge.MethodWebAuthn {
		return p.challengeKeySubmit(q, a)
	}
	recovery := method == "recovery"
	if !p.csrfOK(q.r, q.sess) {
		p.event(q.r, "csrf_rejected", q.data.User)
		if method == challenge.MethodSMS {
			return p.renderPhoneChallenge(q, http.StatusForbidden, method, a, ui.ErrCSRF, nil)
		}
		return p.renderChallenge(q, http.StatusForbidden, a, recovery, ui.ErrCSRF)
	}
	e, user, code := p.app.engine, q.data.User, q.r.PostFormValue("code")
	if ok, err := p.codeAllowed(q); !ok {
		return err
	}
	errID := ui.ErrBadCode
	switch method {
	case challenge.MethodSMS:
		if bad, err := p.checkSMS(q, a); bad || err != nil {
			return err
		}
	case "recovery":
		method, errID = "recovery_code", ui.ErrBadRecovery
		err = e.UseRecoveryCode(q.r.Context(), user, code)
	default:
		err = e.CheckTOTP(q.r.Context(), user, code)
	}
	if errors.Is(err, challenge.ErrBadCode) {
		p.event(q.r, "sign_in_failed", user, zapReason("second_factor"), zapMethod(method))
		if err := p.codeFailed(q); err != nil {
			return err
		}
		return p.renderChallenge(q, http.StatusUnauthorized, a, recovery, errID)
	}
	if err != nil {
		return err
	}
	if err := p.secondFactorPassed(q, user, method); err != nil {
		return err
	}
	return p.redirect(q, p.returnPath(q.data.Return))
}

// secondFactorPassed completes a sign-in: it ends the run of failures,
// raises the session (with a new id), logs the event and makes the browser
// and its address familiar for the user.
func (p *portal) secondFactorPassed(q *request, user, method string) error {
	if err := p.app.engine.Regulation.CodeOK(q.r.Context(), limitKey(user)); err != nil {
		return err
	}
	if ret := p.carriedReturn(q); ret != "" {
		q.data.Return = ret // saved by promote
	}
	if err := p.promote(q, user, session.TwoFactor); err != nil {
		return err
	}
	p.event(q.r, "signed_in", user, zapMethod(method))
	if err := p.signedInHere(q, user); err != nil {
		return err
	}
	return p.rememberIfAsked(q, user)
}

// codeAllowed applies the second-factor rate limit and lockout; when it
// refuses, it has answered the request.
func (p *portal) codeAllowed(q *request) (bool, error) {
	v, err := p.app.engine.Regulation.BeforeCode(q.r.Context(), limitKey(q.data.User))
	if err != nil {
		return false, err
	}
	if !v.Allowed {
		p.event(q.r, "code_refused", q.data.User, zapReason(v.Reason))
		p.app.refused(q.w, q.r, v)
		return false, nil
	}
	return true, nil
}

// codeFailed counts a wrong code toward the lockout.
func (p *portal) codeFailed(q *request) error {
	locked, err := p.app.engine.Regulation.CodeFailed(q.r.Context(), limitKey(q.data.User))
	if locked {
		p.lockoutEvent(q.r, q.data.User)
	}
	return err
}
