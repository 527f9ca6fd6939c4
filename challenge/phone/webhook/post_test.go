package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

func TestPostJSON(t *testing.T) {
	type event struct {
		Type string `json:"type"`
		User string `json:"user"`
		Test bool   `json:"test"`
	}
	bodies := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		bodies <- string(body)
		if r.Method != http.MethodPost || r.URL.Path != "/hook" {
			t.Errorf("request %s %s", r.Method, r.URL)
		}
		if got := r.Header.Get(TimestampHeader); got != "1772568367" {
			t.Errorf("timestamp %q, want c.Now's", got)
		}
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type %q", got)
		}
		if err := Verify(testSecret, r.Header.Get(TimestampHeader), r.Header.Get(SignatureHeader), body, testNow, time.Minute); err != nil {
			t.Errorf("Verify: %v", err)
		}
		if strings.Contains(string(body), "refuse") {
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL+"/hook")
	ctx := context.Background()

	if err := c.PostJSON(ctx, event{Type: "push", User: "alice <admin>", Test: true}); err != nil {
		t.Fatal(err)
	}
	const want = `{"type":"push","user":"alice \u003cadmin\u003e","test":true}`
	if got := <-bodies; got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}

	err := c.PostJSON(ctx, map[string]string{"user": "refuse"})
	if !errors.Is(err, phone.ErrProvider) || !strings.Contains(err.Error(), "HTTP 403") {
		t.Errorf("error %v, want phone.ErrProvider giving HTTP 403", err)
	}
	if got := <-bodies; got != `{"user":"refuse"}` {
		t.Errorf("body %s", got)
	}

	// A value JSON cannot encode is our error, and nothing is sent.
	err = c.PostJSON(ctx, map[string]any{"f": func() {}})
	if err == nil || errors.Is(err, phone.ErrProvider) {
		t.Errorf("error %v, want an encoding error of ours", err)
	}
	if len(bodies) != 0 {
		t.Errorf("%d more requests", len(bodies))
	}
}
