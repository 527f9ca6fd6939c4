package notify

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// The notice of a temporary access pass, written by the admin API
// (outside a request), says that an administrator issued it and until
// when it works, on both channels; the webhook body carries the expiry.
func TestTemporaryPassNoticeSaysUntilWhen(t *testing.T) {
	ctx := context.Background()
	o := &Outbox{KV: store.NewMemoryKV()}
	sink := &Sink{Outbox: o, Mail: true, Webhook: true, Logger: zap.NewNop(),
		Lookup: func(string) (string, string, bool) { return "alice@example.com", "Alice", true }}
	sink.Event(nil, events.TemporaryPassIssued, "alice", []zap.Field{zap.Duration("for", 8*time.Hour), zap.Int("uses", 2),
		events.Expires(passExpires), zap.String("by", "admin")})
	ids, err := o.IDs(ctx)
	if err != nil || len(ids) != 2 {
		t.Fatalf("%d notices queued (%v), want one a channel", len(ids), err)
	}
	renderer, err := ui.New()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewComposer(renderer, "Example Corp", "", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		n, ok, err := o.claim(ctx, id, "test", time.Minute)
		if err != nil || !ok {
			t.Fatalf("claim %s: %v %v", id, ok, err)
		}
		if n.Kind != TemporaryPassIssued || !n.Until.Equal(passExpires) {
			t.Errorf("%s notice: kind %s, until %v; want %s until %v", n.Channel, n.Kind, n.Until, TemporaryPassIssued, passExpires)
		}
		if n.Channel == ChannelWebhook {
			if b := Body(n); b.Until != "2026-12-02T04:30:00Z" {
				t.Errorf("webhook body until %q", b.Until)
			}
			continue
		}
		for lang, want := range map[string][]string{
			"en": {"An administrator issued a temporary access pass", "until Wednesday 2 December 2026, 04:30 UTC"},
			"ja": {"管理者が", "一時アクセスパスを発行しました", "2026年12月2日 04:30 UTC まで使えます"},
		} {
			n.Lang = lang
			m, err := c.Compose(n)
			if err != nil {
				t.Fatal(err)
			}
			for _, part := range []string{m.Text, m.HTML} {
				for _, w := range want {
					if !strings.Contains(part, w) {
						t.Errorf("%s: a part lacks %q:\n%s", lang, w, part)
					}
				}
			}
		}
	}
	// Other notices have no expiry: their webhook body leaves it out.
	if b := Body(Notice{Kind: MethodAdded, Time: passExpires}); b.Until != "" {
		t.Errorf("method_added webhook body until %q", b.Until)
	}
}
