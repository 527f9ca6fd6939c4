package webhooktest

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone/webhook"
	"github.com/caddy-mfa/caddy-mfa/internal/fakectl"
)

var secret = []byte("webhooktest-secret-32-bytes-long")

func client(t *testing.T, r *Receiver, key []byte) *webhook.Client {
	t.Helper()
	c, err := webhook.New(r.URL(), key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func text(to, body string) phone.Text {
	return phone.Text{To: phone.Number{E164: to}, Body: body}
}

func TestReceivesTexts(t *testing.T) {
	r := New(t, secret)
	c := client(t, r, secret)
	ctx := context.Background()
	for _, body := range []string{"first", "second"} {
		if err := c.SendText(ctx, text("+819012345678", body)); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.WaitText(t, "+819012345678", time.Second); got.Text != "first" || time.Since(got.SentAt) > time.Minute {
		t.Errorf("first text %+v", got)
	}
	if got := r.WaitText(t, "+819012345678", time.Second); got.Text != "second" {
		t.Errorf("second text %+v", got)
	}
	if n := len(r.Texts()); n != 2 {
		t.Errorf("%d texts", n)
	}
}

func TestBadSignatureFailsTheTest(t *testing.T) {
	rec := fakectl.NewRecorder(t)
	defer rec.Finish()
	r := New(rec, secret)
	err := client(t, r, []byte("another-secret-of-enough-length")).SendText(context.Background(), text("+819012345678", "x"))
	if !errors.Is(err, phone.ErrProvider) || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("error %v, want HTTP 401", err)
	}
	if len(rec.Errors()) != 1 || len(r.Rejected()) != 1 || len(r.Texts()) != 0 {
		t.Errorf("reported %q, rejected %q, texts %v", rec.Errors(), r.Rejected(), r.Texts())
	}
}

func TestBadBodyFailsTheTest(t *testing.T) {
	rec := fakectl.NewRecorder(t)
	defer rec.Finish()
	r := New(rec, secret)
	body := []byte(`{"type":"sms","to":"+819012345678","text":"x","sent_at":"2026-01-01T00:00:00Z","extra":1}`)
	ts := time.Now().Unix()
	req, _ := http.NewRequest(http.MethodPost, r.URL(), strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "caddy-mfa")
	req.Header.Set(webhook.TimestampHeader, strconv.FormatInt(ts, 10))
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, ts, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || len(rec.Errors()) != 1 {
		t.Errorf("answer %d, reported %q", resp.StatusCode, rec.Errors())
	}
}

func TestFailAndHangNext(t *testing.T) {
	r := New(t, secret)
	c := client(t, r, secret)
	r.FailNext(http.StatusServiceUnavailable)
	err := c.SendText(context.Background(), text("+819012345678", "x"))
	if !errors.Is(err, phone.ErrProvider) || !strings.Contains(err.Error(), "HTTP 503") {
		t.Errorf("error %v, want HTTP 503", err)
	}
	r.HangNext(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.SendText(ctx, text("+819012345678", "x")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want a time-out", err)
	}
	if err := c.SendText(context.Background(), text("+819012345678", "y")); err != nil {
		t.Fatal(err)
	}
	if texts := r.Texts(); len(texts) != 1 || texts[0].Text != "y" {
		t.Errorf("texts %+v", texts)
	}
}
