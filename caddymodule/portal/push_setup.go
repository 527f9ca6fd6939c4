package portal

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/push"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// Registering a phone for app notifications as the first second factor:
// the user subscribes to a fresh random topic, and the phone is saved only
// once a first, test prompt to it is approved with the right number.

// pendingTopic is the topic offered to this session's user.
func (p *Portal) pendingTopic(q *request) (string, error) {
	return p.engine.PendingPushTopic(q.r.Context(), q.data.User, p.sessionTag(q))
}

func (p *Portal) renderPushSetup(q *request, status int, errID string, data map[string]any) error {
	topic, err := p.pendingTopic(q)
	if err != nil {
		return err
	}
	pg := p.page(q, ui.TitleSetupPush)
	pg.Method, pg.Enrol, pg.Error, pg.MessageData = challenge.MethodPush, true, errID, data
	pg.Adding = p.adding(q)
	if s, ok := p.engine.Notifier.(push.Subscriber); ok {
		sub := s.Subscription(topic)
		// ntfy: is not a scheme html/template trusts by itself.
		pg.Subscribe = &ui.Subscribe{Link: template.URL(sub.AppLink), Server: sub.Server, Topic: sub.Topic}
	}
	return p.render(q, status, "setup_push", pg)
}

// pushSetupPage shows how to subscribe, and the button that sends the test.
func (p *Portal) pushSetupPage(q *request) error {
	return p.renderPushSetup(q, http.StatusOK, "", nil)
}

// pushQR serves the QR code that subscribes the ntfy app to the topic.
func (p *Portal) pushQR(q *request) error {
	s, ok := p.engine.Notifier.(push.Subscriber)
	if !ok {
		p.pages.Message(q.w, q.r, http.StatusNotFound, ui.TitleBadRequest, ui.MsgBadRequest)
		return nil
	}
	topic, err := p.pendingTopic(q)
	if err != nil {
		return err
	}
	return p.writeQR(q, s.Subscription(topic).AppLink)
}

// pushSetupSubmit sends the test prompt.
func (p *Portal) pushSetupSubmit(q *request) error {
	if !p.csrfOK(q.r, q.sess) {
		p.events.Write(q.r, events.CSRFRejected, q.data.User)
		return p.renderPushSetup(q, http.StatusForbidden, ui.ErrCSRF, nil)
	}
	topic, err := p.pendingTopic(q)
	if err != nil {
		return err
	}
	info := p.signInInfo(q)
	_, err = p.engine.StartPush(q.r.Context(), q.data.User, challenge.PurposeEnrol, p.sessionTag(q), topic, info, p.buildPush(q, info, true))
	sent, err := p.pushResult(q, err)
	if err != nil {
		return err
	}
	if sent.errID != "" {
		return p.renderPushSetup(q, sent.status(), sent.errID, sent.data)
	}
	p.events.Write(q.r, events.PushSent, q.data.User, events.Method(challenge.MethodPush))
	return p.redirect(q, p.prefix+"setup/push/wait")
}

// pushSetupWaitPage shows the number to pick on the phone.
func (p *Portal) pushSetupWaitPage(q *request) error {
	return p.renderPushWait(q, http.StatusOK, challenge.PurposeEnrol, "")
}

// pushSetupWaitSubmit registers the phone once its test prompt was approved.
func (p *Portal) pushSetupWaitSubmit(q *request) error {
	if !p.csrfOK(q.r, q.sess) {
		p.events.Write(q.r, events.CSRFRejected, q.data.User)
		return p.renderPushWait(q, http.StatusForbidden, challenge.PurposeEnrol, ui.ErrCSRF)
	}
	if waiting, err := p.pushPending(q, challenge.PurposeEnrol); waiting || err != nil {
		return err
	}
	if ok, err := p.codeAllowed(q); !ok {
		return err
	}
	e, ctx, user := p.engine, q.r.Context(), q.data.User
	topic, err := e.FinishPush(ctx, user, challenge.PurposeEnrol, p.sessionTag(q))
	if errors.Is(err, challenge.ErrBadCode) {
		return p.renderPushWait(q, http.StatusConflict, challenge.PurposeEnrol, ui.ErrPushDenied)
	}
	if err != nil {
		return err
	}
	codes, err := e.AddPush(ctx, user, topic, !p.adding(q))
	if errors.Is(err, challenge.ErrAlreadyEnrolled) {
		return p.redirect(q, p.prefix+"challenge")
	}
	if err != nil {
		return err
	}
	if p.adding(q) {
		return p.methodAdded(q, challenge.MethodPush)
	}
	return p.firstMethodAdded(q, challenge.MethodPush, codes)
}
