package providers

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// The Caddyfile helpers of the provider modules. Each module's
// UnmarshalCaddyfile is given the tokens from its own name on, e.g.
// `twilio { account_sid ... }` of `sms twilio { ... }`.

// OneArg reads the single value of the Caddyfile option d is on into dst:
// an error if it has none or more than one. The mfa app's own options are
// read with it too.
func OneArg(d *caddyfile.Dispenser, dst *string) error {
	name := d.Val()
	if !d.NextArg() {
		return d.Errf("%s needs a value", name)
	}
	*dst = d.Val()
	if d.NextArg() {
		return d.Errf("%s takes one value", name)
	}
	return nil
}

// channelOf is the Caddyfile option a module of id is given under: "sms",
// "voice" or "push".
func channelOf(id caddy.ModuleID) string {
	return id.Namespace()[len("mfa."):]
}

// label names module m in errors as the Caddyfile writes it, e.g.
// "sms twilio".
func label(m caddy.Module) string {
	id := m.CaddyModule().ID
	return channelOf(id) + " " + id.Name()
}

// noBlock refuses a block after a module that takes none.
func noBlock(d *caddyfile.Dispenser, m caddy.Module) error {
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		return d.Errf("unknown %s option %q", label(m), d.Val())
	}
	return nil
}

// urlAndOption reads `<name> <url> [{ <option> <value> }]` for module m,
// the shape of the push notifiers.
func urlAndOption(d *caddyfile.Dispenser, m caddy.Module, url *string, option string, value *string) error {
	d.Next() // the notifier's name
	if !d.NextArg() {
		return d.Errf("%s needs a URL", label(m))
	}
	*url = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if d.Val() != option {
			return d.Errf("unknown %s option %q", label(m), d.Val())
		}
		if err := OneArg(d, value); err != nil {
			return err
		}
	}
	return nil
}
