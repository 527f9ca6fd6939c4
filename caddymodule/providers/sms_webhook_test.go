package providers

import (
	"context"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/internal/webhooktest"
)

const testSecret = "0123456789abcdef-test-secret"

func TestWebhookSMSCaddyfile(t *testing.T) {
	expectCaddyfile(t, []caddyfileCase[WebhookSMS]{
		{"url", "webhook https://sms.example.com/send", WebhookSMS{URL: "https://sms.example.com/send"}},
		{"secret", "webhook https://sms.example.com/send {\n\tsecret {env.HOOK_SECRET}\n}", WebhookSMS{URL: "https://sms.example.com/send", Secret: "{env.HOOK_SECRET}"}},
	})
}

func TestWebhookSMSCaddyfileErrors(t *testing.T) {
	expectCaddyfileErrors(t, func() caddyfile.Unmarshaler { return new(WebhookSMS) }, []errorCase{
		{"no URL", "webhook", []string{"sms webhook needs the URL to post to"}},
		{"two URLs", "webhook https://a.example https://b.example", []string{"wrong argument count"}},
		{"unknown option", "webhook https://x.example {\n\tauth_token x\n}", []string{`unknown sms webhook option "auth_token"`, "Testfile:2"}},
		{"secret without value", "webhook https://x.example {\n\tsecret\n}", []string{"secret needs a value"}},
	})
}

func TestWebhookSMSProvisionReplacesPlaceholders(t *testing.T) {
	t.Setenv("MFA_TEST_HOOK_SECRET", testSecret)
	t.Setenv("MFA_TEST_HOOK_URL", "https://sms.example.com/send")
	s := mustLoad[*WebhookSMS](t, "mfa.sms.webhook", `{"url":"{env.MFA_TEST_HOOK_URL}","secret":"{env.MFA_TEST_HOOK_SECRET}"}`)
	if s.client.URL != "https://sms.example.com/send" || string(s.client.Secret) != testSecret {
		t.Errorf("client posts to %q with secret %q; want the placeholders replaced", s.client.URL, s.client.Secret)
	}
}

func TestWebhookSMSValidateErrors(t *testing.T) {
	expectLoadErrors(t, "mfa.sms.webhook", []errorCase{
		{"short secret", `{"url":"https://x.example","secret":"short"}`, []string{"sms webhook", "secret"}},
		{"no secret", `{"url":"https://x.example"}`, []string{"sms webhook", "secret"}},
		{"relative URL", `{"url":"/send","secret":"0123456789abcdef"}`, []string{"sms webhook"}},
		{"plain http", `{"url":"http://sms.example.com/send","secret":"0123456789abcdef"}`, []string{"sms webhook", "https"}},
		{"no URL", `{"secret":"0123456789abcdef"}`, []string{"sms webhook"}},
		{"unknown field", `{"url":"https://x.example","secret":"0123456789abcdef","auth_token":"x"}`, []string{"auth_token"}},
	})
}

func TestWebhookSMSSendsTexts(t *testing.T) {
	r := webhooktest.New(t, []byte(testSecret))
	s := mustLoad[*WebhookSMS](t, "mfa.sms.webhook", `{"url":"`+r.URL()+`","secret":"`+testSecret+`"}`)
	to, err := phone.Parse("", "+16502530000", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendText(context.Background(), phone.Text{To: to, Body: "Your code is 123456"}); err != nil {
		t.Fatalf("SendText: %v", err)
	}
	if got := r.WaitText(t, to.E164, 5*time.Second); got.Text != "Your code is 123456" {
		t.Errorf("text %+v", got)
	}
}
