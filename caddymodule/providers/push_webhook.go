package providers

import (
	"context"
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/challenge/push"
)

func init() {
	caddy.RegisterModule(WebhookPush{})
}

// WebhookPush posts each app notification as signed JSON (see
// push.Webhook for the body), for Gotify, Slack, Teams or a company app.
// In the Caddyfile:
//
//	push webhook <url> {
//		secret <16+ bytes>   # e.g. {env.MFA_PUSH_SECRET}
//	}
type WebhookPush struct {
	// URL is where notifications are posted: https, or http only to this
	// machine. Required.
	URL string `json:"url"`
	// Secret signs the requests (HMAC-SHA256, header X-MFA-Signature); at
	// least 16 bytes. Use a placeholder such as {env.MFA_PUSH_SECRET}.
	// Required.
	Secret string `json:"secret,omitempty"`

	url, secret string // with placeholders replaced (Provision)
	notifier    *push.Webhook
}

// CaddyModule returns the Caddy module information.
func (WebhookPush) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "mfa.push.webhook", New: func() caddy.Module { return new(WebhookPush) }}
}

// Provision replaces the placeholders of the settings.
func (w *WebhookPush) Provision(caddy.Context) error {
	repl := caddy.NewReplacer()
	w.url, w.secret = repl.ReplaceKnown(w.URL, ""), repl.ReplaceKnown(w.Secret, "")
	return nil
}

// Validate checks the URL and the secret.
func (w *WebhookPush) Validate() error {
	n, err := push.NewWebhook(w.url, []byte(w.secret))
	if err != nil {
		return fmt.Errorf("%s: %w", label(w), err)
	}
	w.notifier = n
	return nil
}

// Notify implements push.Notifier.
func (w *WebhookPush) Notify(ctx context.Context, n push.Notification) error {
	return w.notifier.Notify(ctx, n)
}

// UnmarshalCaddyfile reads `webhook <url> { secret <secret> }`.
func (w *WebhookPush) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	return urlAndOption(d, w, &w.URL, "secret", &w.Secret)
}

// Interface guards.
var (
	_ caddy.Provisioner     = (*WebhookPush)(nil)
	_ caddy.Validator       = (*WebhookPush)(nil)
	_ caddyfile.Unmarshaler = (*WebhookPush)(nil)
	_ push.Notifier         = (*WebhookPush)(nil)
)
