package notify

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone/webhook"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// The webhook gets each notice as signed JSON, through the outbox: a
// failing receiver is retried until it answers 2xx.
func TestWebhookNoticeSignedAndRetried(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	var mu sync.Mutex
	var bodies []map[string]any
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header.Get(webhook.TimestampHeader), r.Header.Get(webhook.SignatureHeader), body, time.Now(), time.Minute); err != nil {
			t.Errorf("signature: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("body %s: %v", body, err)
		}
		bodies = append(bodies, m)
	}))
	t.Cleanup(srv.Close)
	c, err := webhook.New(srv.URL, secret)
	if err != nil {
		t.Fatal(err)
	}
	o := &Outbox{KV: store.NewMemoryKV()}
	w := NewWorker(o, map[string]Sender{ChannelWebhook: WebhookSender{Poster: c}}, zap.NewNop())
	w.PollEvery, w.Backoff = 20*time.Millisecond, 50*time.Millisecond
	sink := &Sink{Outbox: o, Webhook: true, Logger: zap.NewNop(), Wake: w.Wake,
		Lookup: func(string) (string, string, bool) { return "", "", true }}
	writer := events.New(zap.NewNop())
	writer.SetSink(sink)
	runWorker(t, w)
	writer.Write(request("en"), events.MethodAdded, "alice", events.Method("totp"))
	deadline := time.Now().Add(3 * time.Second)
	for {
		mu.Lock()
		n := len(bodies)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 || calls != 2 {
		t.Fatalf("%d bodies after %d calls, want 1 after 2", len(bodies), calls)
	}
	b := bodies[0]
	if b["type"] != "security_notice" || b["notice"] != "method_added" || b["event"] != "method_added" || b["user"] != "alice" ||
		b["address"] != "203.0.113.9" || b["method"] != "totp" || !strings.Contains(b["browser"].(string), "Firefox") || len(b["id"].(string)) != 32 {
		t.Errorf("body %v", b)
	}
	if _, err := time.Parse(time.RFC3339, b["time"].(string)); err != nil {
		t.Errorf("time: %v", err)
	}
	raw, _ := json.Marshal(b)
	for _, secret := range []string{"hunter2", "123456", "9012345678", "@"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("body shows %q: %s", secret, raw)
		}
	}
}
