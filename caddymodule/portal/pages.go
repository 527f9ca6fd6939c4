package portal

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
	"github.com/caddy-mfa/caddy-mfa/challenge/seal"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// Pages are the message pages every part of the gateway answers with when
// it cannot let a request through: forbidden, too many attempts, busy,
// unavailable, a secret that does not open. The portal and the Caddy
// handler's hot path share one.
type Pages struct {
	// Renderer renders the pages.
	Renderer *ui.Renderer
	// Org and Prefix are the organisation name and portal prefix the
	// pages show and link to; HelpURL the operator's help link ("" none).
	Org, Prefix, HelpURL string
	// Logger logs what the operator must know (an outage, a secret that
	// does not open).
	Logger *zap.Logger
	// BusyRetry is how long a client refused by the password-check gate
	// should wait.
	BusyRetry func() time.Duration
	// Outage, if set, is told of every request Unavailable fails closed,
	// with its error (the metrics count them by store).
	Outage func(err error)
}

// WantsHTML reports whether r is a browser navigation.
func WantsHTML(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Mode") == "navigate" {
		return true
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

func zapSessions(n int) zap.Field { return zap.Int("sessions", n) }

// Message renders a message page (forbidden, unavailable, signed out)
// for browsers, and a short text for other clients.
func (pg *Pages) Message(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	if !WantsHTML(r) {
		ui.SecurityHeaders(w.Header())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(http.StatusText(status) + "\n"))
		return
	}
	pg.render(w, r, status, &ui.Page{Org: pg.Org, Prefix: pg.Prefix, HelpURL: pg.HelpURL, Title: title, Message: msg})
}

func (pg *Pages) render(w http.ResponseWriter, r *http.Request, status int, page *ui.Page) {
	if err := pg.Renderer.Render(w, r, status, "message", page); err != nil {
		pg.Logger.Error("rendering message page", zap.Error(err))
	}
}

// tooMany answers 429 with Retry-After and the page msg, which says in
// how many minutes to try again.
func (pg *Pages) tooMany(w http.ResponseWriter, r *http.Request, retry time.Duration, msg string) {
	secs := int(math.Ceil(retry.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	pg.render(w, r, http.StatusTooManyRequests, &ui.Page{Org: pg.Org, Prefix: pg.Prefix, HelpURL: pg.HelpURL, Title: ui.TitleTooMany, Message: msg,
		MessageData: map[string]any{"Minutes": max(1, (secs+59)/60)}})
}

// Limited answers an attempt that a rate limit or lockout refused: 429,
// Retry-After, and a page that says when to try again (and nothing about
// whether the password or code was right).
func (pg *Pages) Limited(w http.ResponseWriter, r *http.Request, retry time.Duration) {
	pg.tooMany(w, r, retry, ui.MsgTooMany)
}

// PasswordLocked answers a password attempt from a source that is locked
// out for the user: 429, Retry-After, and a page that says when to try
// again and that a browser where the user signed in before still works. A
// right and a wrong password, a known and an unknown name, get the same
// page.
func (pg *Pages) PasswordLocked(w http.ResponseWriter, r *http.Request, retry time.Duration) {
	pg.tooMany(w, r, retry, ui.MsgTooManyPasswords)
}

// Refused answers an attempt that v refused: a user blocked after a fraud
// report is told to ask an administrator (403); others are rate limited.
func (pg *Pages) Refused(w http.ResponseWriter, r *http.Request, v regulation.Verdict) {
	if v.Reason == regulation.ReasonBlocked {
		pg.Message(w, r, http.StatusForbidden, ui.TitleBlocked, ui.MsgBlocked)
		return
	}
	pg.Limited(w, r, v.RetryAfter)
}

// Unavailable fails closed: a store could not be reached, so nothing
// passes; the user sees a 503 page and the log says why.
func (pg *Pages) Unavailable(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, seal.ErrOpen) {
		// Not an outage, though a caller may have wrapped it as one.
		pg.SealUnreadable(w, r, "", err)
		return
	}
	pg.Logger.Error("sign-in store unavailable; failing closed", zap.Error(err), zap.String("path", r.URL.Path))
	if pg.Outage != nil {
		pg.Outage(err)
	}
	w.Header().Set("Retry-After", "30")
	pg.Message(w, r, http.StatusServiceUnavailable, ui.TitleUnavailable, ui.MsgUnavailable)
}

// Held answers a request while the gateway holds every request (its
// storage failed a start-up check): the 503 page users meet when storage
// cannot be reached, with Retry-After when a retry may help.
func (pg *Pages) Held(w http.ResponseWriter, r *http.Request, retry bool) {
	if retry {
		w.Header().Set("Retry-After", "5")
	}
	pg.Message(w, r, http.StatusServiceUnavailable, ui.TitleUnavailable, ui.MsgUnavailable)
}
