package providers

import (
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone/twilio"
)

// TwilioAccount is the Twilio account and number that the twilio
// providers (mfa.sms.twilio, mfa.voice.twilio) send from.
type TwilioAccount struct {
	// AccountSID is the Twilio account SID ("AC" and 32 hexadecimal
	// digits), e.g. {env.TWILIO_SID}. Required.
	AccountSID string `json:"account_sid,omitempty"`
	// AuthToken is the Twilio auth token; it also checks the signature of
	// Twilio's callbacks. Use a placeholder such as {env.TWILIO_TOKEN}.
	// Required.
	AuthToken string `json:"auth_token,omitempty"`
	// From is who texts and calls come from: a Twilio number of the
	// account (E.164, such as +15005550006); or, for texts only, a
	// Messaging Service SID ("MG..."), an alphanumeric sender ID (1 to 11
	// letters, digits and spaces, at least one letter, such as
	// "Example Co"; where the destination country allows them, and
	// registered where it requires) or a short code (5 or 6 digits).
	// Calls need a number. Required.
	From string `json:"from,omitempty"`
	// APIURL replaces Twilio's base URL: for tests and for
	// Twilio-compatible providers. Default: https://api.twilio.com.
	APIURL string `json:"api_url,omitempty"`

	// resolved is the account with its placeholders replaced (Provision).
	resolved struct{ sid, token, from, api string }
	client   *twilio.Client
}

// provision replaces the placeholders.
func (t *TwilioAccount) provision() {
	repl := caddy.NewReplacer()
	r := func(s string) string { return repl.ReplaceKnown(s, "") }
	t.resolved.sid, t.resolved.token, t.resolved.from, t.resolved.api = r(t.AccountSID), r(t.AuthToken), r(t.From), r(t.APIURL)
}

// validate checks the account by building its client; m names it.
func (t *TwilioAccount) validate(m caddy.Module) error {
	c, err := twilio.New(t.resolved.sid, t.resolved.token, t.resolved.from, t.resolved.api)
	if err != nil {
		return fmt.Errorf("%s: %w", label(m), err)
	}
	t.client = c
	return nil
}

// unmarshal reads `twilio { account_sid ...; auth_token ...; from ...;
// api_url ... }` for module m.
func (t *TwilioAccount) unmarshal(d *caddyfile.Dispenser, m caddy.Module) error {
	d.Next() // the provider's name
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch opt := d.Val(); opt {
		case "account_sid":
			err = OneArg(d, &t.AccountSID)
		case "auth_token":
			err = OneArg(d, &t.AuthToken)
		case "from":
			err = OneArg(d, &t.From)
		case "api_url":
			err = OneArg(d, &t.APIURL)
		default:
			return d.Errf("unknown %s option %q", label(m), opt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
