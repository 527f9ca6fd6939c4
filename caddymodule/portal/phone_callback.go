package portal

import (
	"errors"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone/twilio"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// The voice callback paths, voice/<provider>: Twilio's (signed), and the
// log provider's of development mode (unsigned).
const (
	callbackTwilio = "twilio"
	callbackLog    = "log"
)

// voiceCallback takes the phone provider's word on a call: the keys the
// callee pressed ("gather") or the end of the call ("status"). It needs no
// session: it is the provider, not a browser, that posts here, so every
// callback must carry the provider's signature (Twilio's
// X-Twilio-Signature over this exact URL and the form). The log provider of
// development mode has no signature to check.
func (p *Portal) voiceCallback(w http.ResponseWriter, r *http.Request, provider string) {
	ui.SecurityHeaders(w.Header())
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	var digits, ref string
	switch {
	case provider == callbackTwilio && p.providers.Calls != nil:
		form, err := p.providers.Calls.VerifyCallback(r, p.callbackBase(r)+strings.TrimPrefix(r.URL.RequestURI(), p.prefix))
		if err != nil {
			p.events.Write(r, events.CallCallbackRejected, "", zap.Error(err))
			w.WriteHeader(http.StatusForbidden)
			return
		}
		digits, ref = form.Get("Digits"), form.Get("CallSid")
	case provider == callbackLog && p.providers.Calls == nil && p.engine.Phone.Voice != nil && p.opts.Development:
		if err := r.ParseForm(); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		digits = r.PostForm.Get("Digits")
	default:
		w.WriteHeader(http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	id, event, lang := q.Get("call"), q.Get("event"), q.Get("lang")
	e := p.engine
	var (
		status challenge.CallStatus
		user   string
		err    error
	)
	err = e.CallFromProvider(r.Context(), id, ref)
	switch {
	case err != nil:
	case event == "gather":
		status, user, err = e.CallAnswered(r.Context(), id, digits)
	case event == "status":
		user, err = e.CallEnded(r.Context(), id)
		status = challenge.CallDenied
	default:
		err = challenge.ErrCallUnknown
	}
	switch {
	case errors.Is(err, challenge.ErrCallUnknown), errors.Is(err, challenge.ErrCallAnswered):
		p.events.Write(r, events.CallCallbackRefused, "", events.Reason(err.Error()), zap.String("call", id))
		w.WriteHeader(http.StatusConflict)
		return
	case errors.Is(err, store.ErrUnavailable):
		p.pages.Unavailable(w, r, err)
		return
	case err != nil:
		p.logger.Error("handling call callback", zap.Error(err))
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	if event == "status" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	// A registration call confirms a phone: nobody is signed in by it.
	enrol := false
	if purpose, err := e.CallPurpose(r.Context(), id); err == nil {
		enrol = purpose == challenge.PurposeEnrol
	} else {
		p.logger.Error("reading the purpose of an answered call", zap.Error(err))
	}
	reply := ui.VoiceDenied
	if enrol {
		reply = ui.VoiceDeniedEnrol
	}
	switch status {
	case challenge.CallApproved:
		reply = ui.VoiceApproved
		if enrol {
			reply = ui.VoiceApprovedEnrol
		}
		p.events.Write(r, events.CallApproved, user)
	case challenge.CallFraud:
		reply = ui.VoiceFraud
		info, err := e.CallInfo(r.Context(), id)
		if err != nil {
			// The block is made; the report goes out with what is known.
			p.logger.Error("reading the reported call", zap.Error(err))
			info = challenge.SignInInfo{Time: e.Now()}
		}
		p.fraudReported(r, user, challenge.MethodVoice, info)
	default:
		p.events.Write(r, events.CallDenied, user)
	}
	text, err := p.renderer.LocalizeIn(lang, reply, nil)
	if err != nil {
		text = ""
	}
	voiceLang, err := p.renderer.LocalizeIn(lang, ui.VoiceLanguage, nil)
	if err != nil {
		voiceLang = "en-US"
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write(twilio.Reply(text, voiceLang))
}
