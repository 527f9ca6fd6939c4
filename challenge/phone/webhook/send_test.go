package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

var (
	testSecret = []byte("a-secret-of-32-bytes-for-testing")
	testNow    = time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("JST", 9*3600))
	testText   = phone.Text{
		To:   phone.Number{E164: "+819012345678", Ext: "99", CountryCode: 81, Region: "JP", Mobile: true},
		Body: `Your code is 314159 <&> "quoted"`,
	}
)

// wantBody is testText's request body, exactly.
const wantBody = `{"type":"sms","to":"+819012345678","text":"Your code is 314159 \u003c\u0026\u003e \"quoted\"","sent_at":"2026-03-03T20:06:07Z"}`

// newClient is a Client for url with a fixed clock.
func newClient(t *testing.T, url string) *Client {
	t.Helper()
	c, err := New(url, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	c.Now = func() time.Time { return testNow }
	return c
}

// receiver is a gateway answering status after checking every request
// exactly; it counts the requests on got.
func receiver(t *testing.T, status int) (*httptest.Server, <-chan struct{}) {
	t.Helper()
	got := make(chan struct{}, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- struct{}{}
		if r.Method != http.MethodPost || r.URL.Path != "/sms" || r.URL.RawQuery != "k=v" {
			t.Errorf("request %s %s", r.Method, r.URL)
		}
		for name, want := range map[string]string{
			"Content-Type":    "application/json",
			"User-Agent":      "caddy-mfa",
			"X-Mfa-Timestamp": "1772568367",
		} {
			if got := r.Header.Values(name); len(got) != 1 || got[0] != want {
				t.Errorf("header %s = %q, want %q", name, got, want)
			}
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		if string(body) != wantBody {
			t.Errorf("body\n got %s\nwant %s", body, wantBody)
		}
		if err := Verify(testSecret, r.Header.Get(TimestampHeader), r.Header.Get(SignatureHeader), body, testNow.Add(time.Minute), 5*time.Minute); err != nil {
			t.Errorf("Verify: %v", err)
		}
		var p struct {
			Type, To, Text string
			SentAt         string `json:"sent_at"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			t.Errorf("body does not decode strictly: %v", err)
		}
		if p.Type != "sms" || p.To != testText.To.E164 || p.Text != testText.Body {
			t.Errorf("decoded %+v", p)
		}
		if sent, err := time.Parse(time.RFC3339, p.SentAt); err != nil || !sent.Equal(testNow) {
			t.Errorf("sent_at %q: %v", p.SentAt, err)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<html>whatever</html>"))
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestSendText(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusAccepted, http.StatusNoContent} {
		srv, got := receiver(t, status)
		if err := newClient(t, srv.URL+"/sms?k=v").SendText(context.Background(), testText); err != nil {
			t.Fatalf("status %d: %v", status, err)
		}
		if len(got) != 1 {
			t.Errorf("%d requests", len(got))
		}
	}
}

func TestSendTextFailingReceiver(t *testing.T) {
	srv, got := receiver(t, http.StatusInternalServerError)
	err := newClient(t, srv.URL+"/sms?k=v").SendText(context.Background(), testText)
	if len(got) != 1 {
		t.Errorf("%d requests", len(got))
	}
	const want = "webhook: sending text: phone provider failed: gateway answered HTTP 500 Internal Server Error"
	if err == nil || err.Error() != want || !errors.Is(err, phone.ErrProvider) {
		t.Fatalf("error %v, want %q wrapping phone.ErrProvider", err, want)
	}
	secretsAbsent(t, err)
}

func TestSendTextRedirectIsAFailure(t *testing.T) {
	srv := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusFound))
	t.Cleanup(srv.Close)
	err := newClient(t, srv.URL).SendText(context.Background(), testText)
	if !errors.Is(err, phone.ErrProvider) || !strings.Contains(err.Error(), "HTTP 302") {
		t.Fatalf("error %v, want a provider error giving HTTP 302", err)
	}
}

func TestSendTextHangingReceiver(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := newClient(t, srv.URL).SendText(ctx, testText)
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %v", d)
	}
	if !errors.Is(err, phone.ErrProvider) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want phone.ErrProvider and context.DeadlineExceeded", err)
	}
	secretsAbsent(t, err)
}

func TestSendTextUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	err := newClient(t, srv.URL+"/?token=operator-token").SendText(context.Background(), testText)
	if !errors.Is(err, phone.ErrProvider) {
		t.Fatalf("error %v, want phone.ErrProvider", err)
	}
	if strings.Contains(err.Error(), "operator-token") {
		t.Errorf("error shows the URL's token: %v", err)
	}
	secretsAbsent(t, err)
}

func TestSendTextRejectsBadInput(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:9/")
	for _, text := range []phone.Text{
		{To: phone.Number{E164: "09012345678"}, Body: "x"},
		{To: phone.Number{E164: "+0123456789"}, Body: "x"},
		{To: testText.To, Body: ""},
	} {
		if err := c.SendText(context.Background(), text); err == nil || errors.Is(err, phone.ErrProvider) {
			t.Errorf("SendText(%+v) = %v, want an error of ours", text, err)
		}
	}
}

func TestNew(t *testing.T) {
	c, err := New("https://sms.example.com/hook", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP == nil || c.HTTP.Timeout != phone.SendTimeout || c.Now == nil {
		t.Errorf("defaults %+v", c)
	}
	for _, tc := range []struct {
		url    string
		secret []byte
	}{
		{"/hook", testSecret},
		{"sms.example.com/hook", testSecret},
		{"ftp://sms.example.com/hook", testSecret},
		{"https:///hook", testSecret},
		{"https://sms.example.com/hook#x", testSecret},
		{"https://sms.example.com/hook", []byte("fifteen bytes!!")},
		{"https://sms.example.com/hook", nil},
	} {
		if _, err := New(tc.url, tc.secret); err == nil {
			t.Errorf("New(%q, %d bytes) accepted", tc.url, len(tc.secret))
		}
	}
}

// secretsAbsent fails if err shows the secret or the text.
func secretsAbsent(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{string(testSecret), "314159", testText.Body} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q shows %q", err, s)
		}
	}
}
