package portal

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/cookies"
	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// Config is everything the portal is built from.
type Config struct {
	// Engine does the sign-in work: users, accounts, methods, limits.
	Engine *challenge.Engine
	// Renderer renders the pages, in the visitor's language.
	Renderer *ui.Renderer
	// Pages are the message pages, shared with the hot path.
	Pages *Pages
	// Events writes the security events.
	Events *events.Writer
	// Logger logs what is not a security event (a failed send, a page
	// that would not render).
	Logger *zap.Logger
	// Prefix is the path under which the portal is served, ending in
	// "/", e.g. "/mfa/".
	Prefix string
	// Org is the organisation name the pages, texts and prompts show.
	Org string
	// PublicURL is the https URL at which phones and outside services
	// reach the portal ("" if not configured).
	PublicURL string
	// ReturnHosts are the other hosts to which sign-in may go back with an
	// absolute URL (a verify endpoint's sites); none if empty.
	ReturnHosts challenge.ReturnHosts
	// Cookies is the gateway's cookie policy.
	Cookies *cookies.Policy
	// Providers are the outside services the portal itself talks to.
	Providers Providers
	// Options are the operator's choices the pages follow.
	Options Options
	// Held answers a request while the gateway holds every request (its
	// storage failed a check, or its checks have not run yet) and reports
	// whether it did. Required: a gateway without such checks passes one
	// that always reports false.
	Held func(http.ResponseWriter, *http.Request) bool
	// StoreUp reports whether the shared stores answer, for a page whose
	// request read nothing from them (a visitor without a session), so
	// that it answers the 503 page at once while they are down rather
	// than after the form is filled in. It should cost no round trip
	// while they answer other calls. Default (nil): no check, as for the
	// embedded stores.
	StoreUp func(context.Context) error
	// Owner is the Caddy handler that serves this portal: the route that
	// holds it names the site in prompts and calls (site.go).
	Owner caddyhttp.MiddlewareHandler
}

// Providers are the outside services the portal talks to directly (the
// engine holds the senders of texts, calls and prompts).
type Providers struct {
	// Calls checks the callbacks of the voice provider that places calls
	// through the internet (Twilio); nil if calls are not placed so.
	Calls CallbackVerifier
	// Fraud is told of every fraud report; nil if no fraud_webhook.
	Fraud FraudNotifier
}

// CallbackVerifier checks that a callback of a voice provider really
// comes from it (for Twilio: X-Twilio-Signature over the callback URL and
// the form) and returns its form.
type CallbackVerifier = phone.CallbackVerifier

// CodeMailer e-mails a one-time code to a user who registers with
// verified_email. It must not block the page: a slow mail server delays
// the e-mail, not the answer.
type CodeMailer interface {
	// SendCode e-mails code to the address to of user (display name
	// name) in language lang.
	SendCode(ctx context.Context, m CodeMail) error
}

// CodeMail is one e-mailed registration code.
type CodeMail struct {
	User, To, Name, Lang, Code string
	// Expires is when the code stops working; IP and Browser are where
	// the request for it came from.
	Expires     time.Time
	IP, Browser string
}

// FraudNotifier posts a fraud report as JSON.
type FraudNotifier interface {
	PostJSON(ctx context.Context, v any) error
}

// Options are the operator's choices the pages follow.
type Options struct {
	// RememberDevice is how long "Don't ask again on this device" lasts;
	// 0 does not offer it.
	RememberDevice time.Duration
	// Development allows the log phone provider's callbacks.
	Development bool
	// HelpURL is the operator's help link, shown on every page; "" for
	// none.
	HelpURL string
	// Registration is who may register a first method right after the
	// password; nil lets everyone (open registration).
	Registration *Registration
	// CodeMail sends the codes of verified_email registration; nil if the
	// gateway has no smtp (then Registration has no VerifiedEmail).
	CodeMail CodeMailer
}

// New builds the portal from cfg.
func New(cfg Config) (*Portal, error) {
	switch {
	case cfg.Engine == nil:
		return nil, errors.New("portal: no engine")
	case cfg.Renderer == nil:
		return nil, errors.New("portal: no renderer")
	case cfg.Pages == nil:
		return nil, errors.New("portal: no message pages")
	case cfg.Events == nil:
		return nil, errors.New("portal: no security-event writer")
	case cfg.Cookies == nil:
		return nil, errors.New("portal: no cookie policy")
	case cfg.Held == nil:
		return nil, errors.New("portal: no check of whether the gateway holds requests")
	case !strings.HasPrefix(cfg.Prefix, "/") || !strings.HasSuffix(cfg.Prefix, "/"):
		return nil, errors.New("portal: the prefix must start and end with /, e.g. /mfa/")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	p := &Portal{engine: cfg.Engine, renderer: cfg.Renderer, pages: cfg.Pages, events: cfg.Events, logger: logger,
		prefix: cfg.Prefix, org: cfg.Org, public: cfg.PublicURL, returnHosts: cfg.ReturnHosts, cookies: cfg.Cookies, providers: cfg.Providers,
		opts: cfg.Options, held: cfg.Held, storeUp: cfg.StoreUp, owner: cfg.Owner}
	p.routes = p.routeTable()
	return p, nil
}
