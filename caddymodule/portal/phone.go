package portal

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"time"

	"go.uber.org/zap"
	"golang.org/x/text/language"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// What the portal shares between registering a phone and signing in with
// one: sending texts and calls with the user's language, and turning their
// errors into messages.

// phoneSent is the outcome of a send, for the page: an error message id
// with its data, or "" when the text or call went out.
type phoneSent struct {
	errID string
	data  map[string]any
}

// sendResult maps a send error to what the user reads, logging it. A nil
// phoneSent error means the caller must return err (a store outage).
func (p *Portal) sendResult(q *request, method string, err error) (phoneSent, error) {
	var refused *challenge.Refused
	switch {
	case err == nil:
		return phoneSent{}, nil
	case errors.As(err, &refused):
		p.events.Write(q.r, events.SendRefused, q.data.User, events.Method(method), events.Reason(refused.Reason.String()))
		secs := int(math.Ceil(refused.RetryAfter.Seconds()))
		if refused.Reason == regulation.ReasonBlocked {
			return phoneSent{errID: ui.MsgBlocked}, nil
		}
		if refused.Reason == regulation.ReasonResend {
			id := ui.ErrResendWait
			if method == challenge.MethodVoice {
				id = ui.ErrResendWaitCall
			}
			return phoneSent{errID: id, data: map[string]any{"Seconds": max(secs, 1)}}, nil
		}
		return phoneSent{errID: ui.ErrSendLimited, data: map[string]any{"Minutes": max(1, (secs+59)/60)}}, nil
	case errors.Is(err, challenge.ErrCountry):
		p.events.Write(q.r, events.SendRefused, q.data.User, events.Method(method), events.Reason("country"))
		return phoneSent{errID: ui.ErrPhoneNotAllowed}, nil
	case errors.Is(err, challenge.ErrNotMobile):
		return phoneSent{errID: ui.ErrPhoneNotMobile}, nil
	case errors.Is(err, phone.ErrProvider):
		p.logger.Error("phone provider failed; the user was asked to try again or use another method",
			zap.String("user", q.data.User), events.Method(method), zap.Error(err))
		return phoneSent{errID: ui.ErrSendFailed}, nil
	}
	return phoneSent{}, err
}

// status is the HTTP status of a page that shows a send refused or failed.
func (s phoneSent) status() int {
	switch s.errID {
	case ui.ErrSendLimited, ui.ErrResendWait, ui.ErrResendWaitCall, ui.ErrPushLimited:
		return http.StatusTooManyRequests
	case ui.MsgBlocked:
		return http.StatusForbidden
	case ui.ErrSendFailed, ui.ErrPushFailed:
		return http.StatusServiceUnavailable
	}
	return http.StatusUnprocessableEntity
}

// smsBody makes the text of a code in the user's language. With public_url
// set, it ends with the line that lets browsers fill the code in on that
// site only (WebOTP); the request's Host header is never used for it, as a
// client could point it at another site.
func (p *Portal) smsBody(q *request) func(string) string {
	host := ""
	if u, err := url.Parse(p.public); err == nil {
		host = u.Hostname()
	}
	return func(code string) string {
		s, _, err := p.renderer.Localize(q.r, ui.SMSBody, map[string]any{"Code": code, "Org": p.org, "Host": host})
		if err != nil {
			return code
		}
		return s
	}
}

// callbackBase is the absolute URL of the portal prefix that the phone
// provider calls back: public_url (required for Twilio), else this site's
// configured name or address (the log provider of development mode),
// never the request's Host header.
func (p *Portal) callbackBase(r *http.Request) string {
	if p.public != "" {
		return p.public + p.prefix
	}
	return p.siteBase(r) + p.prefix
}

// callURL is the callback URL of call id for event ("gather" or "status").
func (p *Portal) callURL(r *http.Request, id, event, lang string) string {
	provider := "twilio"
	if p.providers.Calls == nil {
		provider = "log"
	}
	v := url.Values{"call": {id}, "event": {event}, "lang": {lang}}
	return p.callbackBase(r) + "voice/" + provider + "?" + v.Encode()
}

// buildCall makes the call of id in the user's language.
func (p *Portal) buildCall(q *request, purpose string, to phone.Number) func(id string) phone.Call {
	return func(id string) phone.Call {
		say := ui.VoiceSay
		if purpose == challenge.PurposeEnrol {
			say = ui.VoiceSayEnrol
		}
		text, lang, err := p.renderer.Localize(q.r, say, map[string]any{"Org": p.org, "User": p.displayName(q.data.User)})
		if err != nil {
			text, lang = p.org, "en"
		}
		voiceLang, err := p.renderer.LocalizeIn(lang, ui.VoiceLanguage, nil)
		if err != nil {
			voiceLang = "en-US"
		}
		return phone.Call{
			To: to, Say: text, Language: voiceLang,
			GatherURL: p.callURL(q.r, id, "gather", lang),
			StatusURL: p.callURL(q.r, id, "status", lang),
		}
	}
}

// sessionTag is what this request's session is known by to its calls.
func (p *Portal) sessionTag(q *request) string { return p.engine.SessionTag(q.sess.ID) }

// regionsFor fills the country picker in the request's language, the
// region it starts on (the request's own) first.
func (p *Portal) regionsFor(r *http.Request) ([]phone.Region, string) {
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	tag := language.English
	if err == nil && len(tags) > 0 {
		tag = tags[0]
	}
	c := p.engine.Phone.Countries
	def := phone.DefaultRegion(tag, c)
	return phone.WithFirst(phone.Regions(tag, c), def), def
}

// callStatusWait is how long one long poll for a call's status waits.
const callStatusWait = 20 * time.Second

// callStatusPoll is how often a long poll looks at the call.
const callStatusPoll = 500 * time.Millisecond
