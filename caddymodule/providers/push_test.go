package providers

import (
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/challenge/push"
)

func TestNtfyCaddyfile(t *testing.T) {
	expectCaddyfile(t, []caddyfileCase[NtfyPush]{
		{"url", "ntfy https://ntfy.example.com", NtfyPush{URL: "https://ntfy.example.com"}},
		{"token", "ntfy https://ntfy.example.com {\n\ttoken {env.NTFY_TOKEN}\n}", NtfyPush{URL: "https://ntfy.example.com", Token: "{env.NTFY_TOKEN}"}},
	})
}

func TestNtfyCaddyfileErrors(t *testing.T) {
	expectCaddyfileErrors(t, func() caddyfile.Unmarshaler { return new(NtfyPush) }, []errorCase{
		{"no URL", "ntfy", []string{"push ntfy needs a URL"}},
		{"two URLs", "ntfy https://a.example https://b.example", []string{"wrong argument count"}},
		{"secret", "ntfy https://a.example {\n\tsecret x\n}", []string{`unknown push ntfy option "secret"`}},
		{"token without value", "ntfy https://a.example {\n\ttoken\n}", []string{"token needs a value"}},
	})
}

func TestNtfyProvision(t *testing.T) {
	t.Setenv("MFA_TEST_NTFY_TOKEN", "tk_abcdefghijklmnopqrstuvwxyz012")
	n := mustLoad[*NtfyPush](t, "mfa.push.ntfy", `{"url":"https://ntfy.example.com/","token":"{env.MFA_TEST_NTFY_TOKEN}"}`)
	if sub := n.Subscription("mfa-aaaaaaaaaaaaaaaaaaaaaaaaaa"); sub.AppLink != "ntfy://ntfy.example.com/mfa-aaaaaaaaaaaaaaaaaaaaaaaaaa" || sub.Server != "https://ntfy.example.com" {
		t.Errorf("subscription %+v", sub)
	}
	if n.client == nil || n.token != "tk_abcdefghijklmnopqrstuvwxyz012" {
		t.Errorf("token %q; want the placeholder replaced", n.token)
	}
}

func TestNtfyValidateErrors(t *testing.T) {
	expectLoadErrors(t, "mfa.push.ntfy", []errorCase{
		{"plain http", `{"url":"http://ntfy.example.com"}`, []string{"push ntfy"}},
		{"relative", `{"url":"ntfy.example.com"}`, []string{"push ntfy"}},
		{"no URL", `{}`, []string{"push ntfy"}},
		{"token with space", `{"url":"https://ntfy.example.com","token":"tk_a b"}`, []string{"push ntfy"}},
		{"unknown field", `{"url":"https://ntfy.example.com","secret":"x"}`, []string{"secret"}},
	})
}

func TestWebhookPushCaddyfile(t *testing.T) {
	expectCaddyfile(t, []caddyfileCase[WebhookPush]{
		{"url", "webhook https://hooks.example.com/mfa", WebhookPush{URL: "https://hooks.example.com/mfa"}},
		{"secret", "webhook https://hooks.example.com/mfa {\n\tsecret {env.PUSH_SECRET}\n}", WebhookPush{URL: "https://hooks.example.com/mfa", Secret: "{env.PUSH_SECRET}"}},
	})
}

func TestWebhookPushCaddyfileErrors(t *testing.T) {
	expectCaddyfileErrors(t, func() caddyfile.Unmarshaler { return new(WebhookPush) }, []errorCase{
		{"no URL", "webhook", []string{"push webhook needs a URL"}},
		{"token", "webhook https://a.example {\n\ttoken x\n}", []string{`unknown push webhook option "token"`}},
		{"secret without value", "webhook https://a.example {\n\tsecret\n}", []string{"secret needs a value"}},
	})
}

func TestWebhookPushProvision(t *testing.T) {
	t.Setenv("MFA_TEST_PUSH_SECRET", testSecret)
	w := mustLoad[*WebhookPush](t, "mfa.push.webhook", `{"url":"https://hooks.example.com/mfa","secret":"{env.MFA_TEST_PUSH_SECRET}"}`)
	if w.notifier == nil || w.secret != testSecret {
		t.Errorf("secret %q; want the placeholder replaced", w.secret)
	}
	// No app to subscribe in: the setup page shows no QR code.
	if _, ok := any(w).(push.Subscriber); ok {
		t.Error("the webhook notifier offers an app subscription")
	}
}

func TestWebhookPushValidateErrors(t *testing.T) {
	expectLoadErrors(t, "mfa.push.webhook", []errorCase{
		{"short secret", `{"url":"https://hooks.example.com","secret":"short"}`, []string{"push webhook"}},
		{"plain http", `{"url":"http://hooks.example.com","secret":"0123456789abcdef"}`, []string{"push webhook"}},
	})
}
