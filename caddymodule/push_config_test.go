package caddymodule

import (
	"reflect"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/metrics"
	"github.com/caddy-mfa/caddy-mfa/caddymodule/providers"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/push"
)

func TestPushOptionsUnmarshalCaddyfile(t *testing.T) {
	expectGlobalApps(t, []globalCase{
		// Each notifier module's own options are tested in package
		// providers; the app names the module under "notifier".
		{"push ntfy", "mfa {\n\tpush ntfy https://ntfy.example.com\n}", App{PushRaw: rawJSON(`{"notifier":"ntfy","url":"https://ntfy.example.com"}`)}},
		{"push ntfy token", "mfa {\n\tpush ntfy https://ntfy.example.com {\n\t\ttoken {env.NTFY_TOKEN}\n\t}\n}",
			App{PushRaw: rawJSON(`{"notifier":"ntfy","token":"{env.NTFY_TOKEN}","url":"https://ntfy.example.com"}`)}},
		{"push webhook", "mfa {\n\tpush webhook https://hooks.example.com/mfa {\n\t\tsecret {env.PUSH_SECRET}\n\t}\n}",
			App{PushRaw: rawJSON(`{"notifier":"webhook","secret":"{env.PUSH_SECRET}","url":"https://hooks.example.com/mfa"}`)}},
		{"fraud_webhook", "mfa {\n\tfraud_webhook https://soc.example.com/fraud {\n\t\tsecret {env.FRAUD_SECRET}\n\t}\n}",
			App{FraudWebhook: &Webhook{URL: "https://soc.example.com/fraud", Secret: "{env.FRAUD_SECRET}"}}},
		{"push_per_user", "mfa {\n\tlimits {\n\t\tpush_per_user 5/10m\n\t}\n}", App{Limits: LimitsConfig{PushPerUser: "5/10m"}}},
		{"app password limits", "mfa {\n\tlimits {\n\t\tapp_password_per_ip 5/1m\n\t\tapp_password_per_user 3/1m\n\t}\n}",
			App{Limits: LimitsConfig{AppPasswordPerIP: "5/1m", AppPasswordPerUser: "3/1m"}}},
		{"remember_device", "mfa {\n\tremember_device 14d\n}", App{RememberDevice: caddy.Duration(14 * 24 * time.Hour)}},
		{"methods push", "mfa {\n\tmethods push totp\n}", App{Methods: []string{"push", "totp"}}},
	})
}

func TestPushOptionsUnmarshalCaddyfileErrors(t *testing.T) {
	expectGlobalErrors(t, []globalErrorCase{
		{"push without notifier", "mfa {\n\tpush\n}", []string{"push needs a notifier", "ntfy", "webhook"}},
		{"unknown notifier", "mfa {\n\tpush pushover https://x.example\n}", []string{`unknown notifier "pushover"`, "known: ", "ntfy"}},
		// The module's own errors reach the user unchanged.
		{"ntfy without URL", "mfa {\n\tpush ntfy\n}", []string{"push ntfy needs a URL"}},
		{"extra argument", "mfa {\n\tpush ntfy https://a.example https://b.example\n}", []string{"wrong argument count"}},
		{"secret in ntfy", "mfa {\n\tpush ntfy https://a.example {\n\t\tsecret x\n\t}\n}", []string{`unknown push ntfy option "secret"`}},
		{"token in webhook", "mfa {\n\tpush webhook https://a.example {\n\t\ttoken x\n\t}\n}", []string{`unknown push webhook option "token"`}},
		{"token without value", "mfa {\n\tpush ntfy https://a.example {\n\t\ttoken\n\t}\n}", []string{"token needs a value"}},
		{"push twice", "mfa {\n\tpush ntfy https://a.example\n\tpush ntfy https://b.example\n}", []string{"push may be given only once"}},
		{"fraud_webhook without URL", "mfa {\n\tfraud_webhook\n}", []string{"fraud_webhook needs a URL"}},
		{"fraud_webhook without secret", "mfa {\n\tfraud_webhook https://soc.example.com\n}", []string{"fraud_webhook needs a secret"}},
		{"fraud_webhook unknown option", "mfa {\n\tfraud_webhook https://soc.example.com {\n\t\ttoken x\n\t}\n}", []string{`unknown fraud_webhook option "token"`}},
		{"fraud_webhook twice", "mfa {\n\tfraud_webhook https://a.example { \n\t\tsecret 0123456789abcdef\n\t}\n\tfraud_webhook https://a.example {\n\t\tsecret 0123456789abcdef\n\t}\n}", []string{"fraud_webhook may be given only once"}},
		{"bad push_per_user", "mfa {\n\tlimits {\n\t\tpush_per_user often\n\t}\n}", []string{"push_per_user"}},
	})
}

func TestPushProvision(t *testing.T) {
	t.Setenv("MFA_TEST_NTFY_TOKEN", "tk_abcdefghijklmnopqrstuvwxyz012")
	a := phoneApp(t)
	a.PushRaw = rawJSON(`{"notifier":"ntfy","url":"https://ntfy.example.com/","token":"{env.MFA_TEST_NTFY_TOKEN}"}`)
	a.FraudWebhook = &Webhook{URL: "https://soc.example.com/fraud", Secret: "0123456789abcdef"}
	a.PublicURL = "https://login.example.com"
	if err := provision(t, a); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if !reflect.DeepEqual(a.engine.Methods, []string{"webauthn", "totp", "push"}) {
		t.Errorf("methods = %q; want webauthn, totp and push by default", a.engine.Methods)
	}
	c, ok := metrics.Unwrap(a.engine.Notifier).(*providers.NtfyPush)
	if !ok {
		t.Fatalf("notifier = %T, want the ntfy module", a.engine.Notifier)
	}
	if sub := c.Subscription("mfa-aaaaaaaaaaaaaaaaaaaaaaaaaa"); sub.AppLink != "ntfy://ntfy.example.com/mfa-aaaaaaaaaaaaaaaaaaaaaaaaaa" {
		t.Errorf("subscription link %q", sub.AppLink)
	}
	if a.fraud == nil || a.fraud.URL != "https://soc.example.com/fraud" {
		t.Errorf("fraud webhook = %+v", a.fraud)
	}
	if !a.engine.PushReady() {
		t.Error("push is not ready")
	}

	w := phoneApp(t)
	w.PushRaw = rawJSON(`{"notifier":"webhook","url":"https://hooks.example.com/mfa","secret":"0123456789abcdef"}`)
	w.PublicURL = "https://login.example.com"
	if err := provision(t, w); err != nil {
		t.Fatalf("Provision webhook: %v", err)
	}
	if _, ok := metrics.Unwrap(w.engine.Notifier).(*providers.WebhookPush); !ok {
		t.Fatalf("notifier = %T, want the push webhook module", w.engine.Notifier)
	}
	if _, ok := w.engine.Notifier.(push.Subscriber); ok {
		t.Error("the webhook notifier offers an app subscription")
	}
}

func TestPushProvisionErrors(t *testing.T) {
	expectProvisionErrors(t, []provisionErrorCase{
		// A module's own refusals (each tested in package providers) stop
		// the app.
		{"ntfy plain http", func(a *App) { a.PushRaw = rawJSON(`{"notifier":"ntfy","url":"http://ntfy.example.com"}`) }, []string{"push ntfy"}},
		{"webhook short secret", func(a *App) {
			a.PushRaw = rawJSON(`{"notifier":"webhook","url":"https://hooks.example.com","secret":"short"}`)
		}, []string{"push webhook"}},
		{"no notifier name", func(a *App) { a.PushRaw = rawJSON(`{"provider":"ntfy","url":"https://x.example"}`) }, []string{"push", "notifier is required"}},
		{"unknown notifier", func(a *App) { a.PushRaw = rawJSON(`{"notifier":"gotify","url":"https://x.example"}`) }, []string{`unknown notifier "gotify"`}},
		{"fraud_webhook short secret", func(a *App) {
			a.FraudWebhook = &Webhook{URL: "https://soc.example.com", Secret: "short"}
		}, []string{"fraud_webhook"}},
		{"fraud_webhook plain http", func(a *App) {
			a.FraudWebhook = &Webhook{URL: "http://soc.example.com", Secret: "0123456789abcdef"}
		}, []string{"fraud_webhook"}},
		{"push without public_url", func(a *App) { a.PushRaw = rawJSON(`{"notifier":"ntfy","url":"https://ntfy.example.com"}`) }, []string{"push needs public_url"}},
		{"method push without notifier", func(a *App) { a.Methods = []string{challenge.MethodPush} }, []string{"method push needs a notifier"}},
	})
}
