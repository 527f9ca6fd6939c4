package caddymodule

import (
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/providers"
	"github.com/caddy-mfa/caddy-mfa/challenge/securitykey"
)

// WebAuthnConfig configures security keys and passkeys (WebAuthn).
type WebAuthnConfig struct {
	// RPID is the relying-party id: a domain such as example.com. Keys
	// registered on any site under it (a.example.com, b.example.com) work
	// on every one of them. Default: each site's own host name, so a key
	// works only on the site it was registered on.
	RPID string `json:"rp_id,omitempty"`
	// Origins are the origins whose pages may use the keys, such as
	// https://wiki.example.com; each must be on RPID or a subdomain of it.
	// A page of any other origin is refused. Default: the origin of the
	// site the request reached.
	Origins []string `json:"origins,omitempty"`
	// UserVerification asks the key to check that it is its owner (a PIN
	// or a fingerprint): "required", "preferred" or "discouraged".
	// Default: preferred.
	UserVerification string `json:"user_verification,omitempty"`
	// Attestation asks the key to prove its make and model at
	// registration: "none", "indirect" or "direct". Default: none.
	Attestation string `json:"attestation,omitempty"`
	// Timeout is how long the browser waits for the key and the gateway
	// keeps the request open, 30s to 10m. Default: 5m.
	Timeout caddy.Duration `json:"timeout,omitempty"`
}

// build turns the configuration (nil: all defaults), with placeholders
// replaced, into the validated configuration of package securitykey.
func (w *WebAuthnConfig) build(repl *caddy.Replacer) (securitykey.Config, error) {
	var c securitykey.Config
	if w != nil {
		c = securitykey.Config{
			RPID: repl.ReplaceKnown(w.RPID, ""), UserVerification: w.UserVerification,
			Attestation: w.Attestation, Timeout: time.Duration(w.Timeout),
		}
		for _, o := range w.Origins {
			c.Origins = append(c.Origins, repl.ReplaceKnown(o, ""))
		}
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("webauthn: %w", err)
	}
	return c, nil
}

// unmarshal reads the webauthn block:
//
//	webauthn {
//		rp_id             <domain>
//		origins           <origin...>
//		user_verification required|preferred|discouraged
//		attestation       none|indirect|direct
//		timeout           <duration>
//	}
func (w *WebAuthnConfig) unmarshal(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "rp_id":
			err = providers.OneArg(d, &w.RPID)
		case "origins":
			w.Origins = append(w.Origins, d.RemainingArgs()...)
			if len(w.Origins) == 0 {
				return d.Err("origins needs at least one origin, e.g. https://wiki.example.com")
			}
		case "user_verification":
			err = providers.OneArg(d, &w.UserVerification)
		case "attestation":
			err = providers.OneArg(d, &w.Attestation)
		case "timeout":
			err = durationArg(d, &w.Timeout)
		default:
			return d.Errf("unknown webauthn option %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}
