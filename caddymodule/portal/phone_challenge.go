package portal

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// Signing in with a registered phone: "Text me a code" or "Call me", and
// the links to the user's other methods.

// signInMethods are the methods user can sign in with now, the default
// first: the one the user chose, else security keys (the one method that
// phishing cannot get round), app notifications, the authenticator app,
// texts, calls; and a recovery code last.
func (p *Portal) signInMethods(a *store.Account) []string {
	var out []string
	if a != nil && len(a.Keys) > 0 && p.engine.MethodEnabled(challenge.MethodWebAuthn) {
		out = append(out, challenge.MethodWebAuthn)
	}
	if a != nil && a.Push != nil && p.engine.PushReady() {
		out = append(out, challenge.MethodPush)
	}
	if a != nil && a.TOTP != nil && p.engine.MethodEnabled(challenge.MethodTOTP) {
		out = append(out, challenge.MethodTOTP)
	}
	out = append(out, p.engine.PhoneMethods(a)...)
	if a != nil && a.Default != "" {
		// The user's choice first, if it is still one of their ways.
		if i := slices.Index(out, a.Default); i > 0 {
			out = append([]string{a.Default}, slices.Delete(out, i, i+1)...)
		}
	}
	return append(out, "recovery")
}

// others are the ways user a can sign in other than current, for links.
func (p *Portal) others(a *store.Account, current string) ([]ui.Other, error) {
	var out []ui.Other
	for _, m := range p.signInMethods(a) {
		if m == current {
			continue
		}
		o := ui.Other{Method: m}
		if m == challenge.MethodSMS || m == challenge.MethodVoice {
			ph, _, ok, err := p.engine.PhoneFor(a, m)
			if err != nil {
				return nil, err
			}
			if ok {
				o.Masked = ph.Masked
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// chosenMethod is the method a challenge request asks for, if the user
// may use it, else the default one.
func (p *Portal) chosenMethod(q *request, asked string) (string, *store.Account, error) {
	a, err := p.engine.Account(q.r.Context(), q.data.User)
	if err != nil {
		return "", nil, err
	}
	methods := p.signInMethods(a)
	for _, m := range methods {
		if m == asked {
			return m, a, nil
		}
	}
	return methods[0], a, nil
}

// renderPhoneChallenge shows the page of a phone method: the code form if
// a code is waiting, else the button that sends one (or places the call).
func (p *Portal) renderPhoneChallenge(q *request, status int, method string, a *store.Account, errID string, data map[string]any) error {
	ph, _, ok, err := p.engine.PhoneFor(a, method)
	if err != nil {
		return err
	}
	if !ok {
		return p.redirect(q, p.prefix+"challenge")
	}
	if method == challenge.MethodSMS {
		masked, waiting, err := p.engine.PendingCode(q.r.Context(), q.data.User, challenge.PurposeSignIn, p.sessionTag(q))
		if err != nil {
			return err
		}
		if waiting {
			return p.renderOthers(q, status, "phone_code", ui.TitlePhoneCode, method, masked, a, errID, data)
		}
	}
	return p.renderOthers(q, status, "phone_start", ui.TitlePhoneStart, method, ph.Masked, a, errID, data)
}

// renderOthers renders a sign-in page of a phone method that also links
// the user's other ways to sign in.
func (p *Portal) renderOthers(q *request, status int, name, title, method, masked string, a *store.Account, errID string, data map[string]any) error {
	pg, err := p.othersPage(q, title, method, a, errID, data)
	if err != nil {
		return err
	}
	pg.Masked = masked
	return p.render(q, status, name, pg)
}

// othersPage is the page data of a sign-in page of method, with links to
// user a's other ways to sign in.
func (p *Portal) othersPage(q *request, title, method string, a *store.Account, errID string, data map[string]any) (*ui.Page, error) {
	others, err := p.others(a, method)
	if err != nil {
		return nil, err
	}
	pg := p.page(q, title)
	pg.Method, pg.Error, pg.MessageData, pg.Others = method, errID, data, others
	return pg, nil
}

// challengeSend texts a code or places a call to the registered phone.
func (p *Portal) challengeSend(q *request) error {
	method, a, err := p.chosenMethod(q, q.r.PostFormValue("method"))
	if err != nil {
		return err
	}
	if method != q.r.PostFormValue("method") || method != challenge.MethodSMS && method != challenge.MethodVoice && method != challenge.MethodPush {
		// Not one of this user's ways now: never text when asked to call.
		return p.redirect(q, p.prefix+"challenge")
	}
	if method == challenge.MethodPush {
		return p.challengeSendPush(q, a)
	}
	if !p.csrfOK(q.r, q.sess) {
		p.events.Write(q.r, events.CSRFRejected, q.data.User)
		return p.renderPhoneChallenge(q, http.StatusForbidden, method, a, ui.ErrCSRF, nil)
	}
	_, n, ok, err := p.engine.PhoneFor(a, method)
	if err != nil {
		return err
	}
	if !ok {
		return p.redirect(q, p.prefix+"challenge")
	}
	e, ctx, user, ip := p.engine, q.r.Context(), q.data.User, IPKey(events.ClientIP(q.r))
	if method == challenge.MethodSMS {
		err = e.SendCode(ctx, user, challenge.PurposeSignIn, p.sessionTag(q), ip, n, p.smsBody(q))
	} else {
		_, err = e.StartCall(ctx, user, challenge.PurposeSignIn, p.sessionTag(q), ip, n, p.signInInfo(q), p.buildCall(q, challenge.PurposeSignIn, n))
	}
	sent, err := p.sendResult(q, method, err)
	if err != nil {
		return err
	}
	if sent.errID != "" {
		return p.renderPhoneChallenge(q, sent.status(), method, a, sent.errID, sent.data)
	}
	if method == challenge.MethodSMS {
		p.events.Write(q.r, events.CodeSent, user, events.Method(method))
		return p.redirect(q, p.withReturn(q, p.prefix+"challenge?method=sms"))
	}
	p.events.Write(q.r, events.CallPlaced, user, events.Method(method))
	return p.redirect(q, p.withReturn(q, p.prefix+"challenge/wait"))
}

// checkSMS checks a texted code at sign-in; bad is true when it was wrong
// (and the page has been answered).
func (p *Portal) checkSMS(q *request, a *store.Account) (bool, error) {
	_, err := p.engine.CheckCode(q.r.Context(), q.data.User, challenge.PurposeSignIn, p.sessionTag(q), q.r.PostFormValue("code"))
	if !errors.Is(err, challenge.ErrBadCode) {
		return false, err
	}
	if err := p.secondFactorFailed(q, challenge.MethodSMS); err != nil {
		return true, err
	}
	_, waiting, err := p.engine.PendingCode(q.r.Context(), q.data.User, challenge.PurposeSignIn, p.sessionTag(q))
	if err != nil {
		return true, err
	}
	errID := ui.ErrBadSMSCode
	if !waiting {
		errID = ui.ErrCodeExpired
	}
	return true, p.renderPhoneChallenge(q, http.StatusUnauthorized, challenge.MethodSMS, a, errID, nil)
}

// renderWait shows the page that waits for a call to be answered.
func (p *Portal) renderWait(q *request, status int, purpose, errID string) error {
	st, masked, ok, err := p.engine.CallState(q.r.Context(), p.sessionTag(q), purpose)
	if err != nil {
		return err
	}
	enrol := purpose == challenge.PurposeEnrol
	if !ok && errID == "" {
		// No call under way (expired, or never placed): start again.
		if enrol {
			return p.redirect(q, p.prefix+"setup/phone?method=voice")
		}
		return p.redirect(q, p.withReturn(q, p.prefix+"challenge?method=voice"))
	}
	if errID == "" && (st == challenge.CallDenied || st == challenge.CallFraud) {
		errID, status = ui.ErrCallNotApproved, http.StatusUnauthorized
	}
	if enrol && errID == ui.ErrCallNotApproved {
		errID = ui.ErrCallNotConfirmed // nobody is signing in here
	}
	// "Answer your phone" only while there is a call to answer.
	title := ui.TitlePhoneWait
	if st != challenge.CallPending && st != challenge.CallApproved {
		title = ui.TitlePhoneStart
		if enrol {
			title = ui.TitleSetupPhone
		}
	}
	pg := p.page(q, title)
	pg.Method, pg.Enrol, pg.Masked, pg.CallStatus, pg.Error = challenge.MethodVoice, enrol, masked, string(st), errID
	pg.Adding = enrol && p.adding(q)
	if enrol {
		if pg.Replace, err = p.pendingReplace(q); err != nil {
			return err
		}
	}
	if st == challenge.CallPending {
		pg.Refresh = 5
	}
	if !enrol {
		a, err := p.engine.Account(q.r.Context(), q.data.User)
		if err != nil {
			return err
		}
		if pg.Others, err = p.others(a, challenge.MethodVoice); err != nil {
			return err
		}
	}
	return p.render(q, status, "phone_wait", pg)
}

// callPending shows the waiting page again, and reports true, when the
// call of this session for purpose has no answer yet: Continue pressed
// too early (without JavaScript) is not a failed sign-in.
func (p *Portal) callPending(q *request, purpose string) (bool, error) {
	st, _, ok, err := p.engine.CallState(q.r.Context(), p.sessionTag(q), purpose)
	if err != nil || !ok || st != challenge.CallPending {
		return false, err
	}
	return true, p.renderWait(q, http.StatusAccepted, purpose, "")
}

// challengeWaitPage waits for the sign-in call to be answered.
func (p *Portal) challengeWaitPage(q *request) error {
	return p.renderWait(q, http.StatusOK, challenge.PurposeSignIn, "")
}

// challengeWaitSubmit completes the sign-in once the call was approved.
func (p *Portal) challengeWaitSubmit(q *request) error {
	if !p.csrfOK(q.r, q.sess) {
		p.events.Write(q.r, events.CSRFRejected, q.data.User)
		return p.renderWait(q, http.StatusForbidden, challenge.PurposeSignIn, ui.ErrCSRF)
	}
	e, user := p.engine, q.data.User
	if waiting, err := p.callPending(q, challenge.PurposeSignIn); waiting || err != nil {
		return err
	}
	if ok, err := p.codeAllowed(q); !ok {
		return err
	}
	_, err := e.FinishCall(q.r.Context(), user, challenge.PurposeSignIn, p.sessionTag(q))
	if errors.Is(err, challenge.ErrBadCode) {
		p.events.Write(q.r, events.SignInFailed, user, events.Reason("call_not_approved"), events.Method(challenge.MethodVoice))
		return p.renderWait(q, http.StatusUnauthorized, challenge.PurposeSignIn, ui.ErrCallNotApproved)
	}
	if err != nil {
		return err
	}
	if err := p.secondFactorPassed(q, user, challenge.MethodVoice); err != nil {
		return err
	}
	return p.redirect(q, p.returnPath(q.data.Return))
}

// callStatus answers the call waiting page's long poll.
func (p *Portal) callStatus(q *request) error {
	return p.longPoll(q, func(ctx context.Context, tag, purpose string) (string, bool, error) {
		st, _, ok, err := p.engine.CallState(ctx, tag, purpose)
		return string(st), ok, err
	})
}

// longPoll answers a waiting page's long poll with the status that state
// gives for this session: as soon as it is no longer "pending", or after
// callStatusWait. "none" is a session with nothing under way. It answers
// a session that may wait for such an answer: one factor (signing in, or
// registering a first method), or a fully signed-in user registering
// another method from the security-info page; others get 401, and the
// page reloads to where it belongs.
func (p *Portal) longPoll(q *request, state func(ctx context.Context, tag, purpose string) (string, bool, error)) error {
	purpose := challenge.PurposeSignIn
	if q.r.URL.Query().Get("purpose") == challenge.PurposeEnrol {
		purpose = challenge.PurposeEnrol
	}
	if q.data.Level != session.OneFactor && (purpose != challenge.PurposeEnrol || !p.adding(q)) {
		ui.SecurityHeaders(q.w.Header())
		q.w.WriteHeader(http.StatusUnauthorized)
		return nil
	}
	ctx, cancel := context.WithTimeout(q.r.Context(), callStatusWait)
	defer cancel()
	tag, status := p.sessionTag(q), "none"
	tick := time.NewTicker(callStatusPoll)
	defer tick.Stop()
	for {
		st, ok, err := state(ctx, tag, purpose)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if err == nil && ok {
			status = st
		}
		if status != "pending" || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	ui.SecurityHeaders(q.w.Header())
	q.w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(q.w).Encode(map[string]string{"status": status})
}
