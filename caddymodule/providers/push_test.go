package providers

import (
	"context"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/challenge/push"
	"github.com/caddy-mfa/caddy-mfa/internal/ntfytest"
)

func TestNtfyCaddyfile(t *testing.T) {
	expectCaddyfile(t, []caddyfileCase[NtfyPush]{
		{"url", "ntfy https://ntfy.example.com", NtfyPush{URL: "https://ntfy.example.com"}},
		{"token", "ntfy https://ntfy.example.com {\n\ttoken {env.NTFY_TOKEN}\n}", NtfyPush{URL: "https://ntfy.example.com", Token: "{env.NTFY_TOKEN}"}},
		{"cache_prompts", "ntfy https://ntfy.example.com {\n\ttoken t\n\tcache_prompts\n}", NtfyPush{URL: "https://ntfy.example.com", Token: "t", CachePrompts: true}},
	})
}

func TestNtfyCaddyfileErrors(t *testing.T) {
	expectCaddyfileErrors(t, func() caddyfile.Unmarshaler { return new(NtfyPush) }, []errorCase{
		{"no URL", "ntfy", []string{"push ntfy needs a URL"}},
		{"two URLs", "ntfy https://a.example https://b.example", []string{"wrong argument count"}},
		{"secret", "ntfy https://a.example {\n\tsecret x\n}", []string{`unknown push ntfy option "secret"`}},
		{"token without value", "ntfy https://a.example {\n\ttoken\n}", []string{"token needs a value"}},
		{"cache_prompts with a value", "ntfy https://a.example {\n\tcache_prompts 12h\n}", []string{"cache_prompts takes no value"}},
	})
}

// Prompts reach the ntfy server kept out of its cache (a prompt lives two
// minutes, ntfy would keep it 12 h); with cache_prompts, cached.
func TestNtfyPromptsNotCached(t *testing.T) {
	for _, cache := range []bool{false, true} {
		f := ntfytest.New(t, "")
		raw := `{"url":"` + f.URL() + `"}`
		if cache {
			raw = `{"url":"` + f.URL() + `","cache_prompts":true}`
		}
		n := mustLoad[*NtfyPush](t, "mfa.push.ntfy", raw)
		topic, err := push.NewTopic()
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if err := n.Notify(context.Background(), push.Notification{Topic: topic, User: "alice", Title: "Approve sign-in?", Message: "wiki.example.com",
			Action: "Review sign-in", URL: "https://login.example.com/.mfa/push/approve?r=x", Site: "wiki.example.com", IP: "203.0.113.7",
			Time: now, Expires: now.Add(2 * time.Minute)}); err != nil {
			t.Fatalf("cache_prompts %v: Notify: %v", cache, err)
		}
		if m := f.WaitMessage(t, topic, 5*time.Second); m.Cached != cache {
			t.Errorf("cache_prompts %v: the prompt was cached: %v", cache, m.Cached)
		}
	}
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
