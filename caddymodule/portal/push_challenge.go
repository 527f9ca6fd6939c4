package portal

import (
	"errors"
	"net/http"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// Signing in with an app notification: "Send notification", then the page
// that shows the number to pick on the phone until the prompt is answered.

// renderPushChallenge shows the button that sends a prompt to user a's phone.
func (p *Portal) renderPushChallenge(q *request, status int, a *store.Account, errID string, data map[string]any) error {
	return p.renderOthers(q, status, "push_start", ui.TitlePushStart, challenge.MethodPush, "", a, errID, data)
}

// challengeSendPush sends a prompt to the registered phone of user a.
func (p *Portal) challengeSendPush(q *request, a *store.Account) error {
	if !p.csrfOK(q.r, q.sess) {
		p.events.Write(q.r, events.CSRFRejected, q.data.User)
		return p.renderPushChallenge(q, http.StatusForbidden, a, ui.ErrCSRF, nil)
	}
	e := p.engine
	topic, ok, err := e.PushTopic(a)
	if err != nil {
		return err
	}
	if !ok {
		return p.redirect(q, p.prefix+"challenge")
	}
	info := p.signInInfo(q)
	_, err = e.StartPush(q.r.Context(), q.data.User, challenge.PurposeSignIn, p.sessionTag(q), topic, info, p.buildPush(q, info, false))
	sent, err := p.pushResult(q, err)
	if err != nil {
		return err
	}
	if sent.errID != "" {
		return p.renderPushChallenge(q, sent.status(), a, sent.errID, sent.data)
	}
	p.events.Write(q.r, events.PushSent, q.data.User, events.Method(challenge.MethodPush))
	return p.redirect(q, p.withReturn(q, p.prefix+"challenge/push"))
}

// challengePushPage waits for the sign-in prompt to be answered.
func (p *Portal) challengePushPage(q *request) error {
	return p.renderPushWait(q, http.StatusOK, challenge.PurposeSignIn, "")
}

// challengePushSubmit completes the sign-in once the prompt was approved.
func (p *Portal) challengePushSubmit(q *request) error {
	if !p.csrfOK(q.r, q.sess) {
		p.events.Write(q.r, events.CSRFRejected, q.data.User)
		return p.renderPushWait(q, http.StatusForbidden, challenge.PurposeSignIn, ui.ErrCSRF)
	}
	if waiting, err := p.pushPending(q, challenge.PurposeSignIn); waiting || err != nil {
		return err
	}
	if ok, err := p.codeAllowed(q); !ok {
		return err
	}
	user := q.data.User
	_, err := p.engine.FinishPush(q.r.Context(), user, challenge.PurposeSignIn, p.sessionTag(q))
	if errors.Is(err, challenge.ErrBadCode) {
		p.events.Write(q.r, events.SignInFailed, user, events.Reason("push_not_approved"), events.Method(challenge.MethodPush))
		return p.renderPushWait(q, http.StatusUnauthorized, challenge.PurposeSignIn, ui.ErrPushDenied)
	}
	if err != nil {
		return err
	}
	if err := p.secondFactorPassed(q, user, challenge.MethodPush); err != nil {
		return err
	}
	return p.redirect(q, p.returnPath(q.data.Return))
}
