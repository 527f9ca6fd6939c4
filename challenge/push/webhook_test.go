package push

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/internal/webhooktest"
)

var testSecret = []byte("push-webhook-secret-of-32-bytes!")

func newWebhook(t *testing.T, url string) *Webhook {
	t.Helper()
	w, err := NewWebhook(url, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWebhookNotify(t *testing.T) {
	r := webhooktest.New(t, testSecret)
	w := newWebhook(t, r.URL())
	n := validNotification()
	n.Test = true
	if err := w.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	got := r.WaitPush(t, "alice", time.Second)
	want := webhooktest.Push{
		User: n.User, Device: n.Topic, Title: n.Title, Message: n.Message, Action: n.Action,
		URL: n.URL, Site: n.Site, IP: n.IP, Browser: n.Browser,
		Time: n.Time.UTC(), Expires: n.Expires.UTC(), Test: true,
	}
	if got != want {
		t.Errorf("received\n %+v\nwant\n %+v", got, want)
	}
}

func TestWebhookFailures(t *testing.T) {
	r := webhooktest.New(t, testSecret)
	w := newWebhook(t, r.URL())
	ctx := context.Background()

	r.FailNext(http.StatusBadGateway)
	err := w.Notify(ctx, validNotification())
	if !errors.Is(err, ErrNotifier) || !errors.Is(err, phone.ErrProvider) || !strings.Contains(err.Error(), "HTTP 502") {
		t.Errorf("error %v, want ErrNotifier giving HTTP 502", err)
	}
	notShown(t, err)

	r.HangNext(time.Minute)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	err = w.Notify(short, validNotification())
	if !errors.Is(err, ErrNotifier) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want ErrNotifier and a time-out", err)
	}

	bad := validNotification()
	bad.Action = ""
	if err := w.Notify(ctx, bad); err == nil || errors.Is(err, ErrNotifier) {
		t.Errorf("invalid notification: error %v, want one of ours", err)
	}
	if len(r.Pushes()) != 0 {
		t.Errorf("pushes %+v", r.Pushes())
	}
}

func TestNewWebhook(t *testing.T) {
	for _, tc := range []struct {
		url    string
		secret []byte
	}{
		{"http://push.example.com/hook", testSecret},
		{"push.example.com/hook", testSecret},
		{"https://push.example.com/hook", []byte("short")},
	} {
		if _, err := NewWebhook(tc.url, tc.secret); err == nil {
			t.Errorf("NewWebhook(%q, %d bytes) accepted", tc.url, len(tc.secret))
		}
	}
}

// notShown fails if err shows the topic, the approval URL or the secret.
func notShown(t *testing.T, err error) {
	t.Helper()
	n := validNotification()
	for _, s := range []string{n.Topic, n.URL, "secret-request-id", string(testSecret)} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q shows %q", err, s)
		}
	}
}
