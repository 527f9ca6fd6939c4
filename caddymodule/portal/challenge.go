package portal

import (
	"errors"
	"net/http"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// mayChallenge lets a user who gave the password and has a second factor
// prove it; others are sent where they belong.
func (p *Portal) mayChallenge(q *request) (bool, error) { return p.atStep(q, p.prefix+"challenge") }

// renderChallenge asks for a code from the app or a recovery code, with
// links to user a's other ways to sign in.
func (p *Portal) renderChallenge(q *request, status int, a *store.Account, recovery bool, errID string) error {
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
func (p *Portal) challengePage(q *request) error {
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
func (p *Portal) challengeSubmit(q *request) error {
	method, a, err := p.chosenMethod(q, q.r.PostFormValue("method"))
	if err != nil {
		return err
	}
	if method != q.r.PostFormValue("method") || method == challenge.MethodVoice || method == challenge.MethodPush {
		// Not one of this user's methods now (or disabled meanwhile).
		return p.redirect(q, p.prefix+"challenge")
	}
	if method == challenge.MethodWebAuthn {
		return p.challengeKeySubmit(q, a)
	}
	recovery := method == "recovery"
	if !p.csrfOK(q.r, q.sess) {
		p.events.Write(q.r, events.CSRFRejected, q.data.User)
		if method == challenge.MethodSMS {
			return p.renderPhoneChallenge(q, http.StatusForbidden, method, a, ui.ErrCSRF, nil)
		}
		return p.renderChallenge(q, http.StatusForbidden, a, recovery, ui.ErrCSRF)
	}
	e, user, code := p.engine, q.data.User, q.r.PostFormValue("code")
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
		if err := p.secondFactorFailed(q, method); err != nil {
			return err
		}
		return p.renderChallenge(q, http.StatusUnauthorized, a, recovery, errID)
	}
	if err != nil {
		return err
	}
	stepUp := p.inStepUp(q)
	if err := p.secondFactorPassed(q, user, method); err != nil {
		return err
	}
	if recovery && !stepUp {
		// (A step-up goes back to the change on Security info, which shows
		// the count.)
		return p.redirect(q, p.prefix+recoveryLeftPath)
	}
	return p.redirect(q, p.returnPath(q.data.Return))
}

// secondFactorPassed completes a sign-in (or a step-up): it ends the run
// of failures and every code, call and prompt the session has pending,
// raises the session (with a new id), logs the event and makes the browser
// and its address familiar for the user.
func (p *Portal) secondFactorPassed(q *request, user, method string) error {
	if err := p.engine.Regulation.CodeOK(q.r.Context(), LimitKey(user)); err != nil {
		return err
	}
	// Under the session's id of before: promote gives it a new one.
	if err := p.engine.EndSessionPending(q.r.Context(), user, p.sessionTag(q)); err != nil {
		return err
	}
	stepUp := p.inStepUp(q) // not a sign-in: nothing to remember
	if ret := p.carriedReturn(q); ret != "" && !stepUp {
		q.data.Return = ret // saved by promote
	}

	_, familiar := p.engine.FamiliarBrowser(p.familiarToken(q.r), LimitKey(user))
	if err := p.promote(q, user, session.TwoFactor); err != nil {
		return err
	}
	p.events.Write(q.r, events.SignedIn, user, events.Method(method), events.NewBrowser(!familiar && !stepUp))
	if err := p.signedInHere(q, user); err != nil {
		return err
	}
	if stepUp {
		return nil
	}
	return p.rememberIfAsked(q, user)
}

// codeAllowed applies the second-factor rate limit and lockout; when it
// refuses, it has answered the request.
func (p *Portal) codeAllowed(q *request) (bool, error) {
	v, err := p.engine.Regulation.BeforeCode(q.r.Context(), LimitKey(q.data.User))
	if err != nil {
		return false, err
	}
	if !v.Allowed {
		p.events.Write(q.r, events.CodeRefused, q.data.User, events.Reason(v.Reason.String()))
		p.pages.Refused(q.w, q.r, v)
		return false, nil
	}
	return true, nil
}

// secondFactorFailed logs a wrong second factor of method and counts it
// toward the lockout.
func (p *Portal) secondFactorFailed(q *request, method string) error {
	p.events.Write(q.r, events.SignInFailed, q.data.User, events.Reason("second_factor"), events.Method(method))
	return p.codeFailed(q)
}

// codeFailed counts a wrong code toward the lockout.
func (p *Portal) codeFailed(q *request) error {
	locked, err := p.engine.Regulation.CodeFailed(q.r.Context(), LimitKey(q.data.User))
	if locked {
		p.events.Write(q.r, events.LockedOut, q.data.User)
	}
	return err
}
