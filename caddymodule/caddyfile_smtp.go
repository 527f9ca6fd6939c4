package caddymodule

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/notify"
	"github.com/caddy-mfa/caddy-mfa/caddymodule/providers"
)

// unmarshalSMTP reads the global option
//
//	smtp {
//		address  <host:port>                  # required
//		username <user>
//		password <password>                   # e.g. {env.MFA_SMTP_PASSWORD}
//		from     "<Name> <address>"           # required
//		tls      implicit|starttls|none       # default starttls; none only to this machine
//		timeout  <duration>                   # default 10s
//	}
func (a *App) unmarshalSMTP(d *caddyfile.Dispenser) error {
	if a.SMTP != nil {
		return d.Err("smtp may be given only once")
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	c := new(SMTPConfig)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "address":
			err = providers.OneArg(d, &c.Address)
		case "username":
			err = providers.OneArg(d, &c.Username)
		case "password":
			err = providers.OneArg(d, &c.Password)
		case "from":
			err = providers.OneArg(d, &c.From)
		case "tls":
			if err = providers.OneArg(d, &c.TLS); err == nil {
				switch c.TLS {
				case notify.TLSImplicit, notify.TLSStartTLS, notify.TLSNone:
				default:
					return d.Errf("smtp tls %q: want implicit, starttls or none", c.TLS)
				}
			}
		case "timeout":
			err = durationArg(d, &c.Timeout)
		default:
			return d.Errf("unknown smtp option %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	if c.Address == "" || c.From == "" {
		return d.Err(`smtp needs address and from: smtp { address smtp.example.com:587  from "Sign-in <mfa@example.com>" }`)
	}
	a.SMTP = c
	return nil
}

// unmarshalNotify reads the global option
//
//	notify {
//		events  <notice...>                   # default: all notices
//		webhook <url> { secret <16+ bytes> }  # also post each notice, signed
//	}
func (a *App) unmarshalNotify(d *caddyfile.Dispenser) error {
	if a.Notify != nil {
		return d.Err("notify may be given only once")
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	c := new(NotifyConfig)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "events":
			c.Events = append(c.Events, d.RemainingArgs()...)
			if len(c.Events) == 0 {
				return d.Err("notify events needs at least one notice, e.g. events method_added new_browser")
			}
			if _, err := c.kinds(); err != nil {
				return d.Err(err.Error())
			}
		case "webhook":
			if c.Webhook != nil {
				return d.Err("notify webhook may be given only once")
			}
			c.Webhook = new(Webhook)
			if err := c.Webhook.unmarshal(d); err != nil {
				return err
			}
		default:
			return d.Errf("unknown notify option %q", d.Val())
		}
	}
	a.Notify = c
	return nil
}
