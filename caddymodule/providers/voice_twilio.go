package providers

import (
	"context"
	"net/http"
	"net/url"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

func init() {
	caddy.RegisterModule(TwilioVoice{})
}

// TwilioVoice places phone calls through Twilio's Calls API and checks the
// signature of Twilio's callbacks with the auth token. The app requires
// public_url with it: Twilio must reach the portal, and its signature
// covers the URL. In the Caddyfile:
//
//	voice twilio {
//		account_sid <AC...>   # e.g. {env.TWILIO_SID}
//		auth_token  <token>   # e.g. {env.TWILIO_TOKEN}
//		from        <+E.164 number>
//		api_url     <url>     # default https://api.twilio.com
//	}
type TwilioVoice struct {
	TwilioAccount
}

// CaddyModule returns the Caddy module information.
func (TwilioVoice) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "mfa.voice.twilio", New: func() caddy.Module { return new(TwilioVoice) }}
}

// Provision replaces the placeholders of the settings.
func (v *TwilioVoice) Provision(caddy.Context) error {
	v.provision()
	return nil
}

// Validate checks the account SID, auth token, number and API URL.
func (v *TwilioVoice) Validate() error { return v.validate(v) }

// PlaceCall implements phone.Caller.
func (v *TwilioVoice) PlaceCall(ctx context.Context, c phone.Call) (string, error) {
	return v.client.PlaceCall(ctx, c)
}

// VerifyCallback implements phone.CallbackVerifier with Twilio's
// X-Twilio-Signature.
func (v *TwilioVoice) VerifyCallback(r *http.Request, callbackURL string) (url.Values, error) {
	return v.client.VerifyCallback(r, callbackURL)
}

// UnmarshalCaddyfile reads `twilio { ... }` (see TwilioVoice).
func (v *TwilioVoice) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	return v.unmarshal(d, v)
}

// Interface guards.
var (
	_ caddy.Provisioner      = (*TwilioVoice)(nil)
	_ caddy.Validator        = (*TwilioVoice)(nil)
	_ caddyfile.Unmarshaler  = (*TwilioVoice)(nil)
	_ phone.Caller           = (*TwilioVoice)(nil)
	_ phone.CallbackVerifier = (*TwilioVoice)(nil)
)
