package providers

import (
	"context"
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/challenge/push"
	"github.com/caddy-mfa/caddy-mfa/challenge/push/ntfy"
)

func init() {
	caddy.RegisterModule(NtfyPush{})
}

// NtfyPush publishes app notifications to an ntfy server, on a random
// topic per user; users subscribe in the ntfy app by scanning a QR code.
// In the Caddyfile:
//
//	push ntfy <server url> {
//		token <tk_... or user:password>   # e.g. {env.NTFY_TOKEN}
//	}
type NtfyPush struct {
	// URL is the ntfy server's base URL, such as https://ntfy.example.com:
	// https, or http only to this machine. Required.
	URL string `json:"url"`
	// Token is the ntfy access token ("tk_...", or "user:password") with
	// write access to the users' topics. Use a placeholder such as
	// {env.NTFY_TOKEN}. Default: none, for an open server.
	Token string `json:"token,omitempty"`

	url, token string // with placeholders replaced (Provision)
	client     *ntfy.Client
}

// CaddyModule returns the Caddy module information.
func (NtfyPush) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "mfa.push.ntfy", New: func() caddy.Module { return new(NtfyPush) }}
}

// Provision replaces the placeholders of the settings.
func (n *NtfyPush) Provision(caddy.Context) error {
	repl := caddy.NewReplacer()
	n.url, n.token = repl.ReplaceKnown(n.URL, ""), repl.ReplaceKnown(n.Token, "")
	return nil
}

// Validate checks the server URL and the token.
func (n *NtfyPush) Validate() error {
	c, err := ntfy.New(n.url, n.token)
	if err != nil {
		return fmt.Errorf("%s: %w", label(n), err)
	}
	n.client = c
	return nil
}

// Notify implements push.Notifier.
func (n *NtfyPush) Notify(ctx context.Context, p push.Notification) error {
	return n.client.Notify(ctx, p)
}

// Subscription implements push.Subscriber: the QR code of the setup page.
func (n *NtfyPush) Subscription(topic string) push.Subscription {
	return n.client.Subscription(topic)
}

// UnmarshalCaddyfile reads `ntfy <url> [{ token <token> }]`.
func (n *NtfyPush) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	return urlAndOption(d, n, &n.URL, "token", &n.Token)
}

// Interface guards.
var (
	_ caddy.Provisioner     = (*NtfyPush)(nil)
	_ caddy.Validator       = (*NtfyPush)(nil)
	_ caddyfile.Unmarshaler = (*NtfyPush)(nil)
	_ push.Notifier         = (*NtfyPush)(nil)
	_ push.Subscriber       = (*NtfyPush)(nil)
)
