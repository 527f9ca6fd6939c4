package providers

import (
	"context"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

func init() {
	caddy.RegisterModule(TwilioSMS{})
}

// TwilioSMS sends text messages through Twilio's Messages API. In the
// Caddyfile:
//
//	sms twilio {
//		account_sid <AC...>   # e.g. {env.TWILIO_SID}
//		auth_token  <token>   # e.g. {env.TWILIO_TOKEN}
//		from        <+E.164 number, MG... Messaging Service SID, alphanumeric sender ID or short code>
//		api_url     <url>     # default https://api.twilio.com
//	}
type TwilioSMS struct {
	TwilioAccount
}

// CaddyModule returns the Caddy module information.
func (TwilioSMS) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "mfa.sms.twilio", New: func() caddy.Module { return new(TwilioSMS) }}
}

// Provision replaces the placeholders of the settings.
func (s *TwilioSMS) Provision(caddy.Context) error {
	s.provision()
	return nil
}

// Validate checks the account SID, auth token, sender and API URL.
func (s *TwilioSMS) Validate() error { return s.validate(s) }

// SendText implements phone.TextSender.
func (s *TwilioSMS) SendText(ctx context.Context, t phone.Text) error {
	return s.client.SendText(ctx, t)
}

// UnmarshalCaddyfile reads `twilio { ... }` (see TwilioSMS).
func (s *TwilioSMS) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	return s.unmarshal(d, s)
}

// Interface guards.
var (
	_ caddy.Provisioner     = (*TwilioSMS)(nil)
	_ caddy.Validator       = (*TwilioSMS)(nil)
	_ caddyfile.Unmarshaler = (*TwilioSMS)(nil)
	_ phone.TextSender      = (*TwilioSMS)(nil)
)
