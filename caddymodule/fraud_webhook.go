package caddymodule

import (
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/providers"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone/webhook"
)

// Webhook is a URL that is posted signed JSON: the fraud_webhook.
type Webhook struct {
	// URL is where the JSON is posted: https, or http only to this machine.
	URL string `json:"url"`
	// Secret signs each request (HMAC-SHA256 over the timestamp and the
	// body, header X-MFA-Signature); at least 16 bytes. Use a placeholder
	// such as {env.MFA_FRAUD_SECRET}.
	Secret string `json:"secret"`
}

// build makes the poster of the webhook named name.
func (w *Webhook) build(name string, repl *caddy.Replacer) (*webhook.Client, error) {
	c, err := webhook.New(repl.ReplaceKnown(w.URL, ""), []byte(repl.ReplaceKnown(w.Secret, "")))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
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
		if err := providers.OneArg(d, &w.Secret); err != nil {
			return err
		}
	}
	if w.Secret == "" {
		return d.Errf("%s needs a secret to sign its requests: %s URL { secret ... }", name, name)
	}
	return nil
}
