package providers

import (
	"context"
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone/webhook"
)

func init() {
	caddy.RegisterModule(WebhookSMS{})
}

// WebhookSMS sends each text message as a signed JSON POST, for any SMS
// gateway (see package webhook for the body and the signature). It sends
// texts only, no calls. In the Caddyfile:
//
//	sms webhook <url> {
//		secret <16+ bytes>   # e.g. {env.MFA_WEBHOOK_SECRET}
//	}
type WebhookSMS struct {
	// URL is where texts are posted: https, or http only to this machine.
	// Required.
	URL string `json:"url,omitempty"`
	// Secret signs the requests (HMAC-SHA256, header X-MFA-Signature); at
	// least 16 bytes. Use a placeholder such as {env.MFA_WEBHOOK_SECRET}.
	// Required.
	Secret string `json:"secret,omitempty"`

	url, secret string // with placeholders replaced (Provision)
	client      *webhook.Client
}

// CaddyModule returns the Caddy module information.
func (WebhookSMS) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "mfa.sms.webhook", New: func() caddy.Module { return new(WebhookSMS) }}
}

// Provision replaces the placeholders of the settings.
func (s *WebhookSMS) Provision(caddy.Context) error {
	repl := caddy.NewReplacer()
	s.url, s.secret = repl.ReplaceKnown(s.URL, ""), repl.ReplaceKnown(s.Secret, "")
	return nil
}

// Validate checks the URL and the secret.
func (s *WebhookSMS) Validate() error {
	c, err := webhook.New(s.url, []byte(s.secret))
	if err != nil {
		return fmt.Errorf("%s: %w", label(s), err)
	}
	s.client = c
	return nil
}

// SendText implements phone.TextSender.
func (s *WebhookSMS) SendText(ctx context.Context, t phone.Text) error {
	return s.client.SendText(ctx, t)
}

// UnmarshalCaddyfile reads `webhook <url> { secret <secret> }`.
func (s *WebhookSMS) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the provider's name
	if !d.NextArg() {
		return d.Errf("%s needs the URL to post to", label(s))
	}
	s.URL = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if d.Val() != "secret" {
			return d.Errf("unknown %s option %q", label(s), d.Val())
		}
		if err := OneArg(d, &s.Secret); err != nil {
			return err
		}
	}
	return nil
}

// Interface guards.
var (
	_ caddy.Provisioner     = (*WebhookSMS)(nil)
	_ caddy.Validator       = (*WebhookSMS)(nil)
	_ caddyfile.Unmarshaler = (*WebhookSMS)(nil)
	_ phone.TextSender      = (*WebhookSMS)(nil)
)
