package caddymodule

import (
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone/webhook"
	"github.com/caddy-mfa/caddy-mfa/challenge/push"
	"github.com/caddy-mfa/caddy-mfa/challenge/push/ntfy"
)

// Notifiers of app notifications.
const (
	notifierNtfy    = "ntfy"
	notifierWebhook = "webhook"
)

// PushNotifier says who delivers app notifications to users' phones.
type PushNotifier struct {
	// Notifier is "ntfy" (publish to a random topic per user on an ntfy
	// server; users subscribe in the ntfy app by scanning a QR code) or
	// "webhook" (a signed JSON POST per prompt, for Gotify, Slack, Teams or
	// a company app).
	Notifier string `json:"notifier"`
	// URL is the ntfy server's base URL, such as https://ntfy.example.com,
	// or the URL the webhook posts to. https, or http only to this machine.
	URL string `json:"url"`
	// Token is the ntfy access token ("tk_...", or "user:password") with
	// write access to the users' topics; optional on an open server. Use a
	// placeholder such as {env.NTFY_TOKEN}.
	Token string `json:"token,omitempty"`
	// Secret signs the webhook's requests (HMAC-SHA256, header
	// X-MFA-Signature); at least 16 bytes, e.g. {env.MFA_PUSH_SECRET}.
	Secret string `json:"secret,omitempty"`
}

// Webhook is a URL that is posted signed JSON.
type Webhook struct {
	// URL is where the JSON is posted: https, or http only to this machine.
	URL string `json:"url"`
	// Secret signs each request (HMAC-SHA256 over the timestamp and the
	// body, header X-MFA-Signature); at least 16 bytes. Use a placeholder
	// such as {env.MFA_FRAUD_SECRET}.
	Secret string `json:"secret"`
}

// build makes the notifier.
func (p *PushNotifier) build(repl *caddy.Replacer) (push.Notifier, error) {
	r := func(s string) string { return repl.ReplaceKnown(s, "") }
	switch p.Notifier {
	case notifierNtfy:
		c, err := ntfy.New(r(p.URL), r(p.Token))
		if err != nil {
			return nil, fmt.Errorf("push ntfy: %w", err)
		}
		return c, nil
	case notifierWebhook:
		c, err := push.NewWebhook(r(p.URL), []byte(r(p.Secret)))
		if err != nil {
			return nil, fmt.Errorf("push webhook: %w", err)
		}
		return c, nil
	}
	return nil, fmt.Errorf("push: unknown notifier %q; known: ntfy, webhook", p.Notifier)
}

// build makes the poster of the webhook named name.
func (w *Webhook) build(name string, repl *caddy.Replacer) (*webhook.Client, error) {
	c, err := webhook.New(repl.ReplaceKnown(w.URL, ""), []byte(repl.ReplaceKnown(w.Secret, "")))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// unmarshal reads `push ntfy URL [{ token T }]` or `push webhook URL { secret S }`.
func (p *PushNotifier) unmarshal(d *caddyfile.Dispenser) error {
	if !d.NextArg() {
		return d.Err("push needs a notifier: ntfy or webhook")
	}
	p.Notifier = d.Val()
	if p.Notifier != notifierNtfy && p.Notifier != notifierWebhook {
		return d.Errf("push: unknown notifier %q; known: ntfy, webhook", p.Notifier)
	}
	if !d.NextArg() {
		return d.Errf("push %s needs a URL", p.Notifier)
	}
	p.URL = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch opt := d.Val(); {
		case p.Notifier == notifierNtfy && opt == "token":
			err = oneArg(d, &p.Token)
		case p.Notifier == notifierWebhook && opt == "secret":
			err = oneArg(d, &p.Secret)
		default:
			return d.Errf("unknown push %s option %q", p.Notifier, opt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// unmarshal reads `<name> URL { secret S }`.
func (w *Webhook) unmarshal(d *caddyfile.Dispenser) error {
	name := d.Val()
	if !d.NextArg() {
		return d.Errf("%s needs a URL", name)
	}
	w.URL = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if d.Val() != "secret" {
			return d.Errf("unknown %s option %q", name, d.Val())
		}
		if err := oneArg(d, &w.Secret); err != nil {
			return err
		}
	}
	if w.Secret == "" {
		return d.Errf("%s needs a secret to sign its requests: %s URL { secret ... }", name, name)
	}
	return nil
}
