package caddymodule

import (
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// The approval page, opened from a prompt on the user's phone. It needs no
// session (the phone has none): the link's token, 256 random bits that the
// gateway keeps only as a keyed hash, is the whole proof, and it works for
// one answer, before the prompt expires, for that prompt only.

// maxTokenLen bounds the token read from a link: base64url of 32 bytes.
const maxTokenLen = 43

// pushApprove serves the approval page (GET) and takes its answer (POST).
func (p *portal) pushApprove(w http.ResponseWriter, r *http.Request) {
	if p.app.engine.Notifier == nil {
		ui.SecurityHeaders(w.Header())
		w.WriteHeader(http.StatusNotFound)
		return
	}
	var token string
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		token = r.URL.Query().Get("t")
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			p.app.renderMessage(w, r, http.StatusBadRequest, ui.TitleBadRequest, ui.MsgBadRequest)
			return
		}
		token = r.PostForm.Get("t")
	default:
		ui.SecurityHeaders(w.Header())
		w.Header().Set("Allow", "GET, HEAD, POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if len(token) != maxTokenLen {
		p.pushOutcome(w, r, http.StatusGone, ui.MsgPushExpired, false)
		return
	}
	e := p.app.engine
	if r.Method != http.MethodPost {
		req, err := e.PushByToken(r.Context(), token)
		if err != nil {
			p.pushAnswerError(w, r, err)
			return
		}
		pg := &ui.Page{Org: p.app.org, Prefix: p.app.prefix, Title: ui.TitlePushApprove, Prompt: &ui.Prompt{
			Token: token, User: req.User, Site: req.Info.Site, IP: req.Info.IP, Browser: req.Info.Browser,
			Time: req.Info.Time.UTC().Format(promptTime), Enrol: req.Purpose == challenge.PurposeEnrol,
		}}
		if err := p.app.renderer.Render(w, r, http.StatusOK, "push_approve", pg); err != nil {
			p.logger.Error("rendering approval page", zap.Error(err))
		}
		return
	}
	answer := r.PostForm.Get("answer")
	if answer != challenge.PushApprove && answer != challenge.PushDeny && answer != challenge.PushReport {
		p.app.renderMessage(w, r, http.StatusBadRequest, ui.TitleBadRequest, ui.MsgBadRequest)
		return
	}
	st, req, err := e.AnswerPush(r.Context(), token, answer, r.PostForm.Get("number"))
	if err != nil {
		p.pushAnswerError(w, r, err)
		return
	}
	switch {
	case st == challenge.PushApproved:
		p.event(r, "push_approved", req.User)
		p.pushOutcome(w, r, http.StatusOK, ui.MsgPushApproved, false)
	case st == challenge.PushFraud:
		p.fraudReported(r, req.User, challenge.MethodPush, req.Info)
		p.pushOutcome(w, r, http.StatusOK, ui.MsgPushFraud, false)
	case answer == challenge.PushApprove:
		p.event(r, "push_denied", req.User, zapReason("wrong_number"))
		p.pushOutcome(w, r, http.StatusUnprocessableEntity, ui.MsgPushMismatch, true)
	default:
		p.event(r, "push_denied", req.User, zapReason("denied"))
		p.pushOutcome(w, r, http.StatusOK, ui.MsgPushDenied, false)
	}
}

// pushAnswerError answers a link that cannot be used.
func (p *portal) pushAnswerError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, challenge.ErrPushUnknown):
		p.pushOutcome(w, r, http.StatusGone, ui.MsgPushExpired, true)
	case errors.Is(err, challenge.ErrPushAnswered):
		p.logger.Warn("security event", zap.String("event", "push_link_reused"), zap.String("client_ip", clientIP(r)))
		p.pushOutcome(w, r, http.StatusGone, ui.MsgPushAnswered, true)
	case errors.Is(err, store.ErrUnavailable):
		p.app.unavailable(w, r, err)
	default:
		p.logger.Error("answering a push prompt", zap.Error(err))
		p.app.renderMessage(w, r, http.StatusInternalServerError, ui.TitleUnavailable, ui.MsgUnavailable)
	}
}

// pushOutcome shows the phone what became of its answer.
func (p *portal) pushOutcome(w http.ResponseWriter, r *http.Request, status int, msg string, isErr bool) {
	pg := &ui.Page{Org: p.app.org, Prefix: p.app.prefix, Title: ui.TitlePushDone, Message: msg}
	if isErr {
		pg.Error = msg
	}
	if err := p.app.renderer.Render(w, r, status, "push_approve", pg); err != nil {
		p.logger.Error("rendering approval page", zap.Error(err))
	}
}
