package caddymodule

import (
	"errors"
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone/twilio"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone/webhook"
)

// Phone providers.
const (
	providerTwilio  = "twilio"
	providerWebhook = "webhook"
	providerLog     = "log"
)

// PhoneProvider says who sends text messages or places calls.
type PhoneProvider struct {
	// Provider is "twilio" (texts and calls), "webhook" (texts: a signed
	// JSON POST to URL, for any SMS gateway) or "log" (writes codes to
	// Caddy's log; only with `development`).
	Provider string `json:"provider"`

	// AccountSID is the Twilio account SID ("AC..."), e.g. {env.TWILIO_SID}.
	AccountSID string `json:"account_sid,omitempty"`
	// AuthToken is the Twilio auth token; it also checks the signature of
	// Twilio's callbacks. Use a placeholder such as {env.TWILIO_TOKEN}.
	AuthToken string `json:"auth_token,omitempty"`
	// From is the Twilio number texts and calls come from (E.164), or for
	// texts a Messaging Service SID ("MG...").
	From string `json:"from,omitempty"`
	// APIURL replaces Twilio's base URL, https://api.twilio.com: for tests
	// and for Twilio-compatible providers.
	APIURL string `json:"api_url,omitempty"`

	// URL is where the webhook provider posts texts.
	URL string `json:"url,omitempty"`
	// Secret signs the webhook's requests (HMAC-SHA256, header
	// X-MFA-Signature); at least 16 bytes, e.g. {env.MFA_WEBHOOK_SECRET}.
	Secret string `json:"secret,omitempty"`
}

// phoneProviders are the senders built from the configuration.
type phoneProviders struct {
	text   phone.TextSender
	voice  phone.Caller
	twilio *twilio.Client // the voice provider, for its callbacks
}

// build makes the provider of channel ("sms" or "voice").
func (p *PhoneProvider) build(channel string, repl *caddy.Replacer, logger *zap.Logger, development bool) (any, error) {
	r := func(s string) string { return repl.ReplaceKnown(s, "") }
	switch p.Provider {
	case providerTwilio:
		c, err := twilio.New(r(p.AccountSID), r(p.AuthToken), r(p.From), r(p.APIURL))
		if err != nil {
			return nil, fmt.Errorf("%s twilio: %w", channel, err)
		}
		return c, nil
	case providerWebhook:
		if channel != challenge.MethodSMS {
			return nil, fmt.Errorf("%s: the webhook provider sends texts only; use twilio or log for calls", channel)
		}
		c, err := webhook.New(r(p.URL), []byte(r(p.Secret)))
		if err != nil {
			return nil, fmt.Errorf("%s webhook: %w", channel, err)
		}
		return c, nil
	case providerLog:
		if !development {
			return nil, fmt.Errorf("%s log: the log provider writes codes to the log, which is for development only; add `development` to the global mfa block to allow it", channel)
		}
		return &logSender{logger: logger}, nil
	case "":
		return nil, fmt.Errorf("%s: a provider is required: twilio, webhook or log", channel)
	}
	return nil, fmt.Errorf("%s: unknown provider %q; known: twilio, webhook, log", channel, p.Provider)
}

// phoneProviders builds the configured providers and says so in the log.
func (a *App) phoneProviders(repl *caddy.Replacer) (phoneProviders, error) {
	var out phoneProviders
	if a.Development && (a.SMS != nil && a.SMS.Provider == providerLog || a.Voice != nil && a.Voice.Provider == providerLog) {
		a.logger.Warn("development mode: text-message codes and calls are written to the log and never sent; never use this in production")
	}
	if a.SMS != nil {
		s, err := a.SMS.build(challenge.MethodSMS, repl, a.logger, a.Development)
		if err != nil {
			return out, err
		}
		out.text = s.(phone.TextSender)
	}
	if a.Voice != nil {
		v, err := a.Voice.build(challenge.MethodVoice, repl, a.logger, a.Development)
		if err != nil {
			return out, err
		}
		c, ok := v.(phone.Caller)
		if !ok {
			return out, errors.New("voice: this provider cannot place calls")
		}
		out.voice = c
		out.twilio, _ = v.(*twilio.Client)
	}
	return out, nil
}

// checkPublicURL checks public_url and returns it without a trailing slash.
func (a *App) checkPublicURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := phone.CheckURL(raw)
	if err != nil || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("public_url %q must be an https URL such as https://login.example.com (http only to this machine)", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// unmarshal reads `sms|voice <provider> [url] [{ ... }]`.
func (p *PhoneProvider) unmarshal(d *caddyfile.Dispenser) error {
	channel := d.Val()
	if !d.NextArg() {
		return d.Errf("%s needs a provider: twilio, webhook or log", channel)
	}
	p.Provider = d.Val()
	switch p.Provider {
	case providerWebhook:
		if !d.NextArg() {
			return d.Errf("%s webhook needs the URL to post to", channel)
		}
		p.URL = d.Val()
	case providerTwilio, providerLog:
	default:
		return d.Errf("%s: unknown provider %q; known: twilio, webhook, log", channel, p.Provider)
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch opt := d.Val(); {
		case p.Provider == providerTwilio && opt == "account_sid":
			err = oneArg(d, &p.AccountSID)
		case p.Provider == providerTwilio && opt == "auth_token":
			err = oneArg(d, &p.AuthToken)
		case p.Provider == providerTwilio && opt == "from":
			err = oneArg(d, &p.From)
		case p.Provider == providerTwilio && opt == "api_url":
			err = oneArg(d, &p.APIURL)
		case p.Provider == providerWebhook && opt == "secret":
			err = oneArg(d, &p.Secret)
		default:
			return d.Errf("unknown %s %s option %q", channel, p.Provider, opt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
