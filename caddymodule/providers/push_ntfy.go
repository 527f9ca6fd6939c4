package providers

import (
	"context"
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"

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
//		cache_prompts                     # only for iPhones on a self-hosted server
//	}
//
// Prompts are published with "X-Cache: no": ntfy takes no lifetime per
// message, and would otherwise keep each one for its cache-duration (12 h
// by default), readable to anyone who may read the topic, though a prompt
// lives two minutes. See docs/ntfy.md.
type NtfyPush struct {
	// URL is the ntfy server's base URL, such as https://ntfy.example.com:
	// https, or http only to this machine. Required.
	URL string `json:"url"`
	// Token is the ntfy access token ("tk_...", or "user:password") with
	// write access to the users' topics. Use a placeholder such as
	// {env.NTFY_TOKEN}. Default: none, for an open server.
	Token string `json:"token,omitempty"`
	// CachePrompts lets the ntfy server keep prompts in its cache, for
	// its cache-duration: needed only by phones that fetch each message
	// from the cache, iPhones subscribed to a self-hosted server (woken
	// through its upstream-base-url). Set the server's cache-duration to
	// 2m with it, or prompts stay readable long after they expire.
	// Default: off, prompts are never cached.
	CachePrompts bool `json:"cache_prompts,omitempty"`

	url, token string // with placeholders replaced (Provision)
	logger     *zap.Logger
	client     *ntfy.Client
}

// CaddyModule returns the Caddy module information.
func (NtfyPush) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "mfa.push.ntfy", New: func() caddy.Module { return new(NtfyPush) }}
}

// Provision replaces the placeholders of the settings.
func (n *NtfyPush) Provision(ctx caddy.Context) error {
	repl := caddy.NewReplacer()
	n.url, n.token = repl.ReplaceKnown(n.URL, ""), repl.ReplaceKnown(n.Token, "")
	n.logger = ctx.Logger()
	return nil
}

// Validate checks the server URL and the token.
func (n *NtfyPush) Validate() error {
	c, err := ntfy.New(n.url, n.token)
	if err != nil {
		return fmt.Errorf("%s: %w", label(n), err)
	}
	c.Cache = n.CachePrompts
	n.client = c
	if n.CachePrompts && n.logger != nil {
		n.logger.Warn("push ntfy cache_prompts: the ntfy server keeps every prompt in its cache for its cache-duration (12h by default), readable to anyone who may read the topic; set cache-duration to 2m on that server",
			zap.String("server", n.url))
	}
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

// UnmarshalCaddyfile reads `ntfy <url> [{ token <token>; cache_prompts }]`.
func (n *NtfyPush) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the notifier's name
	if !d.NextArg() {
		return d.Errf("%s needs a URL", label(n))
	}
	n.URL = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch opt := d.Val(); opt {
		case "token":
			if err := OneArg(d, &n.Token); err != nil {
				return err
			}
		case "cache_prompts":
			if d.NextArg() {
				return d.Errf("cache_prompts takes no value")
			}
			n.CachePrompts = true
		default:
			return d.Errf("unknown %s option %q", label(n), opt)
		}
	}
	return nil
}

// Interface guards.
var (
	_ caddy.Provisioner     = (*NtfyPush)(nil)
	_ caddy.Validator       = (*NtfyPush)(nil)
	_ caddyfile.Unmarshaler = (*NtfyPush)(nil)
	_ push.Notifier         = (*NtfyPush)(nil)
	_ push.Subscriber       = (*NtfyPush)(nil)
)
