package providers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone/twilio"
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

// Validate checks the account SID, auth token, number and API URL: calls
// need from to be a number (not a Messaging Service SID, an alphanumeric
// sender ID or a short code, which send texts only).
func (v *TwilioVoice) Validate() error {
	if err := v.validate(v); err != nil {
		return err
	}
	if err := twilio.CheckCaller(v.resolved.from); err != nil {
		return fmt.Errorf("%s: %w", label(v), err)
	}
	return nil
}

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
