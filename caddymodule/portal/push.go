package portal

import (
	"context"
	"errors"
	"math"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/push"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// What registering a phone for app notifications and signing in with one
// share: the prompt, its errors, and the page that waits for its answer.

// promptTimeSeconds is displayTime to the second, for a prompt's expiry.
const promptTimeSeconds = "2006-01-02 15:04:05 UTC"

// maxSiteLen bounds the site name a prompt shows.
const maxSiteLen = 253

// signInInfo describes this request's sign-in, for a prompt or a fraud report.
func (p *Portal) signInInfo(q *request) challenge.SignInInfo {
	site := p.siteName(q.r) // from configuration, never the Host header
	if len(site) > maxSiteLen {
		site = site[:maxSiteLen]
	}
	return challenge.SignInInfo{Site: site, IP: events.ClientIP(q.r), Browser: push.Browser(q.r.UserAgent()), Time: p.engine.Now().UTC()}
}

// approveURL is the approval link of token: on public_url, never on the
// Host header a client sends, with the token in the fragment, which
// browsers do not send (so no log sees it); base64url needs no escaping.
func (p *Portal) approveURL(token string) string {
	return p.public + p.prefix + "push/approve#t=" + token
}

// buildPush makes the prompt, in the language of the browser signing in.
func (p *Portal) buildPush(q *request, info challenge.SignInInfo, enrol bool) func(token string) push.Notification {
	return func(token string) push.Notification {
		user := p.displayName(q.data.User)
		browser := info.Browser
		if browser == "" {
			browser = p.localize(q.r, ui.PushUnknownBrowser, nil)
		} else if _, lang, err := p.renderer.Localize(q.r, ui.DeviceBrowserOn, nil); err == nil {
			browser = p.renderer.LocalizeBrowser(lang, browser) // "Linux 上の Chrome"
		}
		data := map[string]any{"Org": p.org, "User": user, "Site": info.Site, "IP": info.IP,
			"Browser": browser, "Time": info.Time.Format(displayTime)}
		title, message := ui.PushTitle, ui.PushMessage
		if enrol {
			// Nobody is signing in: it is the test that finishes registering.
			title, message = ui.PushTitleTest, ui.PushMessageTest
		}
		return push.Notification{
			Title: p.localize(q.r, title, data), Message: p.localize(q.r, message, data),
			Action: p.localize(q.r, ui.PushAction, nil), URL: p.approveURL(token),
			Site: info.Site, IP: info.IP, Browser: info.Browser,
		}
	}
}

// localize translates id in the language r prefers; the id itself if the
// catalogues lack it (the catalogue tests see that they do not).
func (p *Portal) localize(r *http.Request, id string, data map[string]any) string {
	s, _, err := p.renderer.Localize(r, id, data)
	if err != nil {
		return id
	}
	return s
}

// pushResult maps a StartPush error to what the user reads, logging it. A
// nil phoneSent error means the caller must return err (a store outage).
func (p *Portal) pushResult(q *request, err error) (phoneSent, error) {
	var refused *challenge.Refused
	switch {
	case err == nil:
		return phoneSent{}, nil
	case errors.As(err, &refused):
		p.events.Write(q.r, events.PushRefused, q.data.User, events.Reason(refused.Reason.String()))
		if refused.Reason == regulation.ReasonBlocked {
			return phoneSent{errID: ui.MsgBlocked}, nil
		}
		mins := max(1, int(math.Ceil(refused.RetryAfter.Minutes())))
		return phoneSent{errID: ui.ErrPushLimited, data: map[string]any{"Minutes": mins}}, nil
	case errors.Is(err, push.ErrNotifier):
		p.logger.Error("push notifier failed; the user was asked to try again or use another method",
			zap.String("user", q.data.User), zap.Error(err))
		return phoneSent{errID: ui.ErrPushFailed}, nil
	}
	return phoneSent{}, err
}

// renderPushWait shows the number to pick on the phone while the prompt
// waits for its answer, or what became of it.
func (p *Portal) renderPushWait(q *request, status int, purpose, errID string) error {
	st, number, ok, err := p.engine.PushState(q.r.Context(), p.sessionTag(q), purpose)
	if err != nil {
		return err
	}
	enrol := purpose == challenge.PurposeEnrol
	if !ok && errID == "" {
		// Nothing sent (or long forgotten): start again.
		if enrol {
			return p.redirect(q, p.prefix+"setup/push")
		}
		return p.redirect(q, p.withReturn(q, p.prefix+"challenge?method=push"))
	}
	if errID == "" {
		switch st {
		case challenge.PushDenied, challenge.PushFraud:
			// The same words for a report: whoever is at this browser may
			// be the one it was about.
			errID, status = ui.ErrPushDenied, http.StatusUnauthorized
		case challenge.PushExpired:
			errID, status = ui.ErrPushExpired, http.StatusUnauthorized
		}
	}
	if enrol && errID == ui.ErrPushDenied {
		errID = ui.ErrPushNotConfirmed // nobody is signing in here
	}
	title := ui.TitlePushWait
	if errID != "" {
		title = ui.TitlePushStart
	}
	pg := p.page(q, title)
	pg.Method, pg.Enrol, pg.PushNumber, pg.PushStatus, pg.Error = challenge.MethodPush, enrol, number, string(st), errID
	pg.Adding = enrol && p.adding(q)
	if st == challenge.PushPending {
		pg.Refresh = 5
	}
	if !enrol {
		a, err := p.engine.Account(q.r.Context(), q.data.User)
		if err != nil {
			return err
		}
		if pg.Others, err = p.others(a, challenge.MethodPush); err != nil {
			return err
		}
	}
	return p.render(q, status, "push_wait", pg)
}

// pushPending shows the waiting page again, and reports true, when the
// prompt of this session for purpose has no answer yet: Continue pressed
// too early (without JavaScript) is not a failed sign-in.
func (p *Portal) pushPending(q *request, purpose string) (bool, error) {
	st, _, ok, err := p.engine.PushState(q.r.Context(), p.sessionTag(q), purpose)
	if err != nil || !ok || st != challenge.PushPending {
		return false, err
	}
	return true, p.renderPushWait(q, http.StatusAccepted, purpose, "")
}

// pushStatus answers the push waiting page's long poll.
func (p *Portal) pushStatus(q *request) error {
	return p.longPoll(q, func(ctx context.Context, tag, purpose string) (string, bool, error) {
		st, _, ok, err := p.engine.PushState(ctx, tag, purpose)
		if st == challenge.PushFraud {
			// As on the page: whoever waits may be the one reported.
			st = challenge.PushDenied
		}
		return string(st), ok, err
	})
}

// fraudReport is what the fraud_webhook is told of a report.
type fraudReport struct {
	Type    string `json:"type"`
	User    string `json:"user"`
	Method  string `json:"method"`
	Site    string `json:"site"`
	IP      string `json:"ip"`
	Browser string `json:"browser"`
	Time    string `json:"time"`
}

// fraudWebhookTimeout bounds the call to the fraud_webhook, which runs
// after the answer has gone to the phone.
const fraudWebhookTimeout = 10 * time.Second

// fraudReported logs a fraud report by user at warn level (their sign-ins
// are already blocked) and tells the fraud_webhook, if any, in the
// background. info describes the reported sign-in, as far as known.
func (p *Portal) fraudReported(r *http.Request, user, method string, info challenge.SignInInfo) {
	p.events.Write(r, events.FraudReported, user, events.Method(method), zap.String("sign_in_ip", info.IP), zap.String("sign_in_browser", info.Browser),
		zap.String("site", info.Site), zap.String("action", "sign-ins blocked until `caddy mfa unlock`"))
	if p.providers.Fraud == nil {
		return
	}
	report := fraudReport{Type: "fraud_reported", User: user, Method: method, Site: info.Site, IP: info.IP,
		Browser: info.Browser, Time: info.Time.UTC().Format(time.RFC3339)}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), fraudWebhookTimeout)
	go func() {
		defer cancel()
		if err := p.providers.Fraud.PostJSON(ctx, report); err != nil {
			p.logger.Error("fraud_webhook failed; the report is only in this log", zap.String("user", user), zap.Error(err))
		}
	}()
}
