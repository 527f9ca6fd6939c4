package portal

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// The approval page, opened from a prompt on the user's phone. It needs no
// session (the phone has none): the link's token, 256 random bits that the
// gateway keeps only as a keyed hash, works for one answer, before the
// prompt expires, for that prompt only. The token travels in the link's
// fragment, which browsers never send: the page's script posts it, so no
// access log or proxy sees it. The first device to open the link claims
// it with a cookie holding a claim minted for that prompt, and only that
// device may approve or deny.

// maxTokenLen bounds the token read from a link: base64url of 32 bytes.
const maxTokenLen = 43

// pushOpen is the answer that opens (and claims) a prompt.
const pushOpen = "open"

// pushApprove serves the page that opens the link (GET) and takes the
// opening and the answers (POST).
func (p *Portal) pushApprove(w http.ResponseWriter, r *http.Request) {
	if p.engine.Notifier == nil {
		p.pages.Message(w, r, http.StatusNotFound, ui.TitleNotFound, ui.MsgNotFound)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		// The token is in the fragment: the page's script posts it.
		pg := &ui.Page{Org: p.org, Prefix: p.prefix, HelpURL: p.opts.HelpURL, Title: ui.TitlePushApprove}
		if err := p.renderer.Render(w, r, http.StatusOK, "push_open", pg); err != nil {
			p.logger.Error("rendering approval page", zap.Error(err))
		}
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		p.pages.Message(w, r, http.StatusMethodNotAllowed, ui.TitleNotAllowed, ui.MsgNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.pages.Message(w, r, http.StatusBadRequest, ui.TitleBadRequest, ui.MsgBadRequest)
		return
	}
	token, answer := r.PostForm.Get("t"), r.PostForm.Get("answer")
	if len(token) != maxTokenLen {
		p.pushOutcome(w, r, http.StatusGone, ui.MsgPushExpired, true)
		return
	}
	switch answer {
	case pushOpen:
		p.pushOpened(w, r, token)
	case challenge.PushApprove, challenge.PushDeny, challenge.PushReport:
		p.pushAnswered(w, r, token, answer)
	default:
		p.pages.Message(w, r, http.StatusBadRequest, ui.TitleBadRequest, ui.MsgBadRequest)
	}
}

// pushOpened claims the prompt of token for this device and shows it: the
// sign-in, the number field and the answers; or, if another device opened
// it first, only "Deny and report fraud".
func (p *Portal) pushOpened(w http.ResponseWriter, r *http.Request, token string) {
	e := p.engine
	// A new claim for every prompt this device opens first: the claim the
	// browser brings counts only for a prompt it already holds (the page
	// opened again), never to claim one, or a claim planted in the phone's
	// browser would let whoever planted it answer with the number.
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		p.pushAnswerError(w, r, fmt.Errorf("making a push claim: %w", err))
		return
	}
	claim := base64.RawURLEncoding.EncodeToString(b)
	req, mine, err := e.ClaimPush(r.Context(), token, claim)
	if old := p.claimOf(r); err == nil && !mine && old != "" {
		req, mine, err = e.ClaimPush(r.Context(), token, old)
		claim = old
	}
	if err != nil {
		p.pushAnswerError(w, r, err)
		return
	}
	if mine {
		// The claim (claimCookie) follows the cookie policy: SameSite=Strict,
		// Secure when public_url is https.
		c := p.cookies
		c.Set(w, r, &c.Claim, claim, int(challenge.PushTTL.Seconds())+60)
	}
	if !mine {
		p.events.Write(r, events.PushOpenedElsewhere, req.User)
	}
	user := req.User
	if name := p.displayName(req.User); name != req.User {
		// As the notification names them, with the name they sign in with.
		user = name + " (" + req.User + ")"
	}
	title := ui.TitlePushApprove
	if req.Purpose == challenge.PurposeEnrol {
		title = ui.TitlePushApproveEnrol // nobody is signing in
	}
	pg := &ui.Page{Org: p.org, Prefix: p.prefix, HelpURL: p.opts.HelpURL, Title: title, Prompt: &ui.Prompt{
		Token: token, User: user, Site: req.Info.Site, IP: req.Info.IP, Browser: req.Info.Browser,
		Time: req.Info.Time.UTC().Format(displayTime), Expires: req.Expires.UTC().Format(promptTimeSeconds), Enrol: req.Purpose == challenge.PurposeEnrol, Elsewhere: !mine,
	}}
	if err := p.renderer.Render(w, r, http.StatusOK, "push_approve", pg); err != nil {
		p.logger.Error("rendering approval page", zap.Error(err))
	}
}

// claimOf is this device's claim cookie, if it has a well-formed one.
func (p *Portal) claimOf(r *http.Request) string {
	v := p.cookies.Value(r, &p.cookies.Claim)
	if len(v) != maxTokenLen {
		return ""
	}
	return v
}

// pushAnswered takes the answer on the prompt of token.
func (p *Portal) pushAnswered(w http.ResponseWriter, r *http.Request, token, answer string) {
	st, req, err := p.engine.AnswerPush(r.Context(), token, answer, r.PostForm.Get("number"), p.claimOf(r))
	if st == challenge.PushFraud {
		// The block is made: it is logged and reported even if recording
		// the answer failed after it.
		p.fraudReported(r, req.User, challenge.MethodPush, req.Info)
	}
	if err != nil {
		p.pushAnswerError(w, r, err)
		return
	}
	switch {
	case st == challenge.PushApproved:
		p.events.Write(r, events.PushApproved, req.User)
		p.pushOutcome(w, r, http.StatusOK, ui.MsgPushApproved, false)
	case st == challenge.PushFraud:
		p.pushOutcome(w, r, http.StatusOK, ui.MsgPushFraud, false)
	case answer == challenge.PushApprove:
		p.events.Write(r, events.PushDenied, req.User, events.Reason("wrong_number"))
		p.pushOutcome(w, r, http.StatusUnprocessableEntity, ui.MsgPushMismatch, true)
	default:
		p.events.Write(r, events.PushDenied, req.User, events.Reason("denied"))
		p.pushOutcome(w, r, http.StatusOK, ui.MsgPushDenied, false)
	}
}

// pushAnswerError answers a link that cannot be used.
func (p *Portal) pushAnswerError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, challenge.ErrPushUnknown):
		p.pushOutcome(w, r, http.StatusGone, ui.MsgPushExpired, true)
	case errors.Is(err, challenge.ErrPushAnswered):
		p.events.Write(r, events.PushLinkReused, "")
		p.pushOutcome(w, r, http.StatusGone, ui.MsgPushAnswered, true)
	case errors.Is(err, challenge.ErrPushClaimed):
		p.events.Write(r, events.PushAnswerFromOtherDevice, "")
		p.pushOutcome(w, r, http.StatusConflict, ui.MsgPushElsewhere, true)
	case errors.Is(err, store.ErrUnavailable):
		p.pages.Unavailable(w, r, err)
	default:
		p.logger.Error("answering a push prompt", zap.Error(err))
		p.pages.Message(w, r, http.StatusInternalServerError, ui.TitleUnavailable, ui.MsgUnavailable)
	}
}

// pushOutcome shows the phone what became of its answer.
func (p *Portal) pushOutcome(w http.ResponseWriter, r *http.Request, status int, msg string, isErr bool) {
	pg := &ui.Page{Org: p.org, Prefix: p.prefix, HelpURL: p.opts.HelpURL, Title: ui.TitlePushDone, Message: msg}
	if isErr {
		pg.Error = msg
	}
	if err := p.renderer.Render(w, r, status, "push_approve", pg); err != nil {
		p.logger.Error("rendering approval page", zap.Error(err))
	}
}
