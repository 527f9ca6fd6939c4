package caddymodule

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/metrics"
	"github.com/caddy-mfa/caddy-mfa/caddymodule/providers"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

const testSID = "AC0123456789abcdef0123456789abcdef"

func TestPhoneOptionsUnmarshalCaddyfile(t *testing.T) {
	expectGlobalApps(t, []globalCase{
		// Each provider module's own options are tested in package
		// providers; the app names the module under "provider".
		{"sms twilio", "mfa {\n\tsms twilio {\n\t\taccount_sid {env.TWILIO_SID}\n\t\tauth_token {env.TWILIO_TOKEN}\n\t\tfrom +15005550006\n\t\tapi_url http://127.0.0.1:9/\n\t}\n}",
			App{SMSRaw: rawJSON(`{"account_sid":"{env.TWILIO_SID}","api_url":"http://127.0.0.1:9/","auth_token":"{env.TWILIO_TOKEN}","from":"+15005550006","provider":"twilio"}`)}},
		{"sms webhook", "mfa {\n\tsms webhook https://sms.example.com/send {\n\t\tsecret {env.HOOK_SECRET}\n\t}\n}",
			App{SMSRaw: rawJSON(`{"provider":"webhook","secret":"{env.HOOK_SECRET}","url":"https://sms.example.com/send"}`)}},
		{"sms log", "mfa {\n\tsms log\n}", App{SMSRaw: rawJSON(`{"provider":"log"}`)}},
		{"voice twilio", "mfa {\n\tvoice twilio {\n\t\taccount_sid AC1\n\t\tauth_token t\n\t\tfrom +15005550006\n\t}\n}",
			App{VoiceRaw: rawJSON(`{"account_sid":"AC1","auth_token":"t","from":"+15005550006","provider":"twilio"}`)}},
		{"voice log", "mfa {\n\tvoice log\n}", App{VoiceRaw: rawJSON(`{"provider":"log"}`)}},
		{"sms_countries", "mfa {\n\tsms_countries +1 81\n\tsms_countries +44\n}", App{SMSCountries: []string{"+1", "81", "+44"}}},
		{"public_url", "mfa {\n\tpublic_url https://login.example.com\n}", App{PublicURL: "https://login.example.com"}},
		{"development", "mfa {\n\tdevelopment\n}", App{Development: true}},
		{"send limits", "mfa {\n\tlimits {\n\t\tsend_per_user 3/1h\n\t\tsend_per_number 4/2h\n\t\tsend_per_ip 9/30m\n\t\tsend_daily 500\n\t\tresend_after 45s\n\t}\n}",
			App{Limits: LimitsConfig{SendPerUser: "3/1h", SendPerNumber: "4/2h", SendPerIP: "9/30m", SendDaily: 500, ResendAfter: caddy.Duration(45 * time.Second)}}},
	})
}

func TestPhoneOptionsUnmarshalCaddyfileErrors(t *testing.T) {
	expectGlobalErrors(t, []globalErrorCase{
		{"sms without provider", "mfa {\n\tsms\n}", []string{"sms needs a provider", "twilio", "webhook", "log"}},
		{"unknown provider", "mfa {\n\tsms nexmo\n}", []string{`unknown provider "nexmo"`, "known: ", "twilio", "Testfile:2"}},
		{"voice webhook", "mfa {\n\tvoice webhook https://x.example\n}", []string{"voice", "texts only"}},
		// The module's own errors reach the user unchanged, with their line.
		{"webhook without URL", "mfa {\n\tsms webhook\n}", []string{"needs the URL"}},
		{"twilio with extra arg", "mfa {\n\tsms twilio AC1\n}", []string{"wrong argument count"}},
		{"twilio option in webhook", "mfa {\n\tsms webhook https://x.example {\n\t\tauth_token x\n\t}\n}", []string{`unknown sms webhook option "auth_token"`, "Testfile:3"}},
		{"webhook option in twilio", "mfa {\n\tvoice twilio {\n\t\tsecret x\n\t}\n}", []string{`unknown voice twilio option "secret"`}},
		{"option of log", "mfa {\n\tsms log {\n\t\tfrom +1\n\t}\n}", []string{`unknown sms log option "from"`}},
		{"missing account_sid value", "mfa {\n\tsms twilio {\n\t\taccount_sid\n\t}\n}", []string{"account_sid needs a value"}},
		{"sms twice", "mfa {\n\tsms log\n\tsms log\n}", []string{"sms may be given only once"}},
		{"voice twice", "mfa {\n\tvoice log\n\tvoice log\n}", []string{"voice may be given only once"}},
		{"empty sms_countries", "mfa {\n\tsms_countries\n}", []string{"sms_countries needs at least one"}},
		{"development with arg", "mfa {\n\tdevelopment yes\n}", []string{"wrong argument count"}},
		{"public_url two values", "mfa {\n\tpublic_url a b\n}", []string{"public_url takes one value"}},
		{"bad send_per_user", "mfa {\n\tlimits {\n\t\tsend_per_user lots\n\t}\n}", []string{"send_per_user"}},
		{"bad send_daily", "mfa {\n\tlimits {\n\t\tsend_daily many\n\t}\n}", []string{"send_daily", "not a whole number"}},
		{"bad resend_after", "mfa {\n\tlimits {\n\t\tresend_after 100ms\n\t}\n}", []string{"resend_after", "at least 1s"}},
	})
}

// rawJSON is a provider's JSON, as the Caddyfile adapter or an operator
// writes it.
func rawJSON(s string) json.RawMessage { return json.RawMessage(s) }

func phoneApp(t *testing.T) *App {
	t.Helper()
	return &App{UsersFile: validUsersFile(t), DataDir: t.TempDir(), StorageKey: testStorageKey}
}

func TestPhoneProvision(t *testing.T) {
	t.Setenv("MFA_TEST_TWILIO_TOKEN", "secret-token")
	a := phoneApp(t)
	a.SMSRaw = rawJSON(`{"provider":"webhook","url":"https://sms.example.com/hook","secret":"0123456789abcdef-webhook"}`)
	a.VoiceRaw = rawJSON(`{"provider":"twilio","account_sid":"` + testSID + `","auth_token":"{env.MFA_TEST_TWILIO_TOKEN}","from":"+15005550006","api_url":"http://127.0.0.1:9"}`)
	a.SMSCountries = []string{"+81", "1"}
	a.PublicURL = "https://login.example.com/"
	if err := provision(t, a); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if !reflect.DeepEqual(a.engine.Methods, []string{"webauthn", "totp", "sms", "voice"}) {
		t.Errorf("methods = %q; want webauthn, totp and both configured phone methods", a.engine.Methods)
	}
	if _, ok := metrics.Unwrap(a.engine.Phone.Text).(*providers.WebhookSMS); !ok {
		t.Errorf("text provider = %T, want the webhook", a.engine.Phone.Text)
	}
	// The placeholders of the modules' settings are replaced in their own
	// Provision (tested in package providers).
	tw, ok := metrics.Unwrap(a.engine.Phone.Voice).(*providers.TwilioVoice)
	if !ok || a.voiceCallbacks != phone.CallbackVerifier(tw) || a.voiceName != "twilio" {
		t.Fatalf("voice provider = %T, want the twilio module kept for callbacks", a.engine.Phone.Voice)
	}
	if c := a.engine.Phone.Countries; !c.Allows(81) || !c.Allows(1) || c.Allows(44) {
		t.Errorf("countries %v: want +1 and +81 only", c.Codes())
	}
	if a.public != "https://login.example.com" {
		t.Errorf("public = %q; want the URL without a trailing slash", a.public)
	}
}

func TestPhoneProvisionOnlyConfiguredMethodsByDefault(t *testing.T) {
	a := phoneApp(t)
	a.SMSRaw = rawJSON(`{"provider":"log"}`)
	a.Development = true
	if err := provision(t, a); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if !reflect.DeepEqual(a.engine.Methods, []string{"webauthn", "totp", "sms"}) {
		t.Errorf("methods = %q; want webauthn, totp and sms (no voice provider)", a.engine.Methods)
	}
}

func TestPhoneProvisionErrors(t *testing.T) {
	expectProvisionErrors(t, []provisionErrorCase{
		{"log without development", func(a *App) { a.SMSRaw = rawJSON(`{"provider":"log"}`) }, []string{"sms log", "development"}},
		{"voice log without development", func(a *App) { a.VoiceRaw = rawJSON(`{"provider":"log"}`) }, []string{"voice log", "development"}},
		{"voice webhook", func(a *App) {
			a.VoiceRaw = rawJSON(`{"provider":"webhook","url":"https://x.example","secret":"0123456789abcdef"}`)
		}, []string{"voice", "texts only"}},
		// A module's own refusals (each tested in package providers) stop
		// the app.
		{"twilio bad sid", func(a *App) {
			a.SMSRaw = rawJSON(`{"provider":"twilio","account_sid":"nope","auth_token":"t","from":"+15005550006"}`)
		}, []string{"sms twilio"}},
		{"twilio missing token", func(a *App) {
			a.SMSRaw = rawJSON(`{"provider":"twilio","account_sid":"` + testSID + `","auth_token":"{env.MFA_TEST_UNSET_TOKEN}","from":"+15005550006"}`)
		}, []string{"sms twilio"}},
		{"webhook short secret", func(a *App) {
			a.SMSRaw = rawJSON(`{"provider":"webhook","url":"https://x.example","secret":"short"}`)
		}, []string{"sms webhook"}},
		{"an option the module lacks", func(a *App) {
			a.SMSRaw = rawJSON(`{"provider":"webhook","url":"https://x.example","secret":"0123456789abcdef","from":"+1"}`)
		}, []string{"mfa.sms.webhook", "from"}},
		{"no provider name", func(a *App) { a.SMSRaw = rawJSON(`{"url":"https://x.example"}`) }, []string{"sms", "provider is required"}},
		{"provider name not a string", func(a *App) { a.SMSRaw = rawJSON(`{"provider":7}`) }, []string{"sms", "provider is required"}},
		{"unknown provider", func(a *App) { a.VoiceRaw = rawJSON(`{"provider":"vonage"}`) }, []string{`unknown provider "vonage"`, "twilio"}},
		{"unknown country code", func(a *App) { a.SMSCountries = []string{"+999"} }, []string{"sms_countries", "999"}},
		{"relative public_url", func(a *App) { a.PublicURL = "login.example.com" }, []string{"public_url"}},
		{"plain-http public_url", func(a *App) { a.PublicURL = "http://login.example.com" }, []string{"public_url", "https"}},
		{"voice twilio without public_url", func(a *App) {
			a.VoiceRaw = rawJSON(`{"provider":"twilio","account_sid":"` + testSID + `","auth_token":"t","from":"+15005550006"}`)
		}, []string{"voice twilio needs public_url"}},
	})
}

// The setup page names each method through "method.<m>.name" and
// ".hint", built at render time, which the catalogue tests of ui cannot
// see: every method needs both in every catalogue.
func TestMethodNamesHaveMessages(t *testing.T) {
	r, err := ui.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range challenge.KnownMethods {
		for _, id := range []string{"method." + m + ".name", "method." + m + ".hint"} {
			for _, lang := range ui.Languages {
				if !r.HasMessage(lang, id) {
					t.Errorf("no %s in the %s catalogue", id, lang)
				}
			}
		}
	}
}

// The form shows "error.phone.<reason>" for a refused number: every reason
// needs its message in every catalogue.
func TestPhoneReasonsHaveMessages(t *testing.T) {
	r, err := ui.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, reason := range phone.Reasons() {
		for _, lang := range ui.Languages {
			if !r.HasMessage(lang, "error.phone."+reason) {
				t.Errorf("no error.phone.%s in the %s catalogue", reason, lang)
			}
		}
	}
}

// provisionErrorCase changes a valid App so that provisioning or
// validation must fail with an error containing each of want.
type provisionErrorCase struct {
	name string
	mod  func(a *App)
	want []string
}

func expectProvisionErrors(t *testing.T, tests []provisionErrorCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := phoneApp(t)
			tc.mod(a)
			err := provision(t, a)
			if err == nil {
				err = a.Validate()
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, frag := range tc.want {
				if !strings.Contains(err.Error(), frag) {
					t.Errorf("error %q does not contain %q", err, frag)
				}
			}
		})
	}
}
