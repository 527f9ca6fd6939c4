package caddymodule

import (
	"reflect"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

func TestWebAuthnOptionsUnmarshalCaddyfile(t *testing.T) {
	expectGlobalApps(t, []globalCase{
		{"empty block", "mfa {\n\twebauthn\n}", App{WebAuthn: &WebAuthnConfig{}}},
		{"rp_id", "mfa {\n\twebauthn {\n\t\trp_id example.com\n\t}\n}", App{WebAuthn: &WebAuthnConfig{RPID: "example.com"}}},
		{"rp_id placeholder", "mfa {\n\twebauthn {\n\t\trp_id {env.MFA_RP_ID}\n\t}\n}", App{WebAuthn: &WebAuthnConfig{RPID: "{env.MFA_RP_ID}"}}},
		{"origins", "mfa {\n\twebauthn {\n\t\torigins https://a.example.com https://b.example.com\n\t\torigins https://c.example.com\n\t}\n}",
			App{WebAuthn: &WebAuthnConfig{Origins: []string{"https://a.example.com", "https://b.example.com", "https://c.example.com"}}}},
		{"user_verification", "mfa {\n\twebauthn {\n\t\tuser_verification required\n\t}\n}", App{WebAuthn: &WebAuthnConfig{UserVerification: "required"}}},
		{"attestation", "mfa {\n\twebauthn {\n\t\tattestation direct\n\t}\n}", App{WebAuthn: &WebAuthnConfig{Attestation: "direct"}}},
		{"timeout", "mfa {\n\twebauthn {\n\t\ttimeout 2m\n\t}\n}", App{WebAuthn: &WebAuthnConfig{Timeout: caddy.Duration(2 * time.Minute)}}},
		{"methods webauthn only", "mfa {\n\tmethods webauthn\n}", App{Methods: []string{"webauthn"}}},
	})
}

func TestWebAuthnOptionsUnmarshalCaddyfileErrors(t *testing.T) {
	expectGlobalErrors(t, []globalErrorCase{
		{"argument", "mfa {\n\twebauthn example.com\n}", []string{"wrong argument count"}},
		{"unknown option", "mfa {\n\twebauthn {\n\t\trpid example.com\n\t}\n}", []string{`unknown webauthn option "rpid"`}},
		{"rp_id without value", "mfa {\n\twebauthn {\n\t\trp_id\n\t}\n}", []string{"rp_id needs a value"}},
		{"rp_id twice on a line", "mfa {\n\twebauthn {\n\t\trp_id a.example b.example\n\t}\n}", []string{"rp_id takes one value"}},
		{"origins without value", "mfa {\n\twebauthn {\n\t\torigins\n\t}\n}", []string{"origins needs at least one origin"}},
		{"bad timeout", "mfa {\n\twebauthn {\n\t\ttimeout soon\n\t}\n}", []string{"timeout"}},
		{"twice", "mfa {\n\twebauthn\n\twebauthn\n}", []string{"webauthn may be given only once"}},
	})
}

func TestWebAuthnProvision(t *testing.T) {
	t.Setenv("MFA_TEST_RP_ID", "Example.com")
	a := phoneApp(t)
	a.WebAuthn = &WebAuthnConfig{
		RPID: "{env.MFA_TEST_RP_ID}", Origins: []string{"https://wiki.example.com", "https://example.com:8443"},
		UserVerification: "required", Attestation: "indirect", Timeout: caddy.Duration(time.Minute),
	}
	if err := provision(t, a); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	k := a.engine.SecurityKeys
	if k.RPID != "example.com" || !reflect.DeepEqual(k.Origins, []string{"https://wiki.example.com", "https://example.com:8443"}) ||
		k.UserVerification != "required" || k.Attestation != "indirect" || k.Timeout != time.Minute {
		t.Fatalf("security keys = %+v", k)
	}
	site, err := k.Site("wiki.example.com", a.org)
	if err != nil || site.RPID != "example.com" || site.Name != "Caddy MFA" {
		t.Fatalf("site = %+v, %v", site, err)
	}
}

func TestWebAuthnProvisionErrors(t *testing.T) {
	expectProvisionErrors(t, []provisionErrorCase{
		{"rp_id with scheme", func(a *App) { a.WebAuthn = &WebAuthnConfig{RPID: "https://example.com"} }, []string{"webauthn: rp_id", "domain name"}},
		{"rp_id address", func(a *App) { a.WebAuthn = &WebAuthnConfig{RPID: "10.0.0.1"} }, []string{"webauthn: rp_id"}},
		{"origin with path", func(a *App) { a.WebAuthn = &WebAuthnConfig{Origins: []string{"https://example.com/login"}} }, []string{"webauthn: origin", "no path"}},
		{"origin outside rp_id", func(a *App) {
			a.WebAuthn = &WebAuthnConfig{RPID: "example.com", Origins: []string{"https://example.org"}}
		}, []string{"webauthn: origin", "not on example.com"}},
		{"plain http origin", func(a *App) { a.WebAuthn = &WebAuthnConfig{Origins: []string{"http://wiki.example.com"}} }, []string{"must be https"}},
		{"user_verification", func(a *App) { a.WebAuthn = &WebAuthnConfig{UserVerification: "sometimes"} }, []string{"user_verification"}},
		{"attestation", func(a *App) { a.WebAuthn = &WebAuthnConfig{Attestation: "enterprise"} }, []string{"attestation"}},
		{"timeout", func(a *App) { a.WebAuthn = &WebAuthnConfig{Timeout: caddy.Duration(time.Hour)} }, []string{"timeout"}},
	})
}
