package twilio

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

const (
	messageBody   = "Your sign-in code is 123456"
	messageAnswer = `{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}`
)

func TestSendText(t *testing.T) {
	c, got := checkedAPI(t, testFrom, "Messages", answerJSON(http.StatusCreated, messageAnswer))
	if err := c.SendText(context.Background(), phone.Text{To: testNumber, Body: messageBody}); err != nil {
		t.Fatal(err)
	}
	sameForm(t, receive(t, got).Form, url.Values{
		"To":   {"+819012345678"},
		"From": {testFrom},
		"Body": {messageBody},
	})
}

func TestSendTextAcceptsAny2xx(t *testing.T) {
	c, got := checkedAPI(t, testFrom, "Messages", answerJSON(http.StatusOK, messageAnswer))
	if err := c.SendText(context.Background(), phone.Text{To: testNumber, Body: messageBody}); err != nil {
		t.Fatal(err)
	}
	receive(t, got)
}

func TestSendTextMessagingService(t *testing.T) {
	c, got := checkedAPI(t, testMG, "Messages", answerJSON(http.StatusCreated, messageAnswer))
	if err := c.SendText(context.Background(), phone.Text{To: testNumber, Body: messageBody}); err != nil {
		t.Fatal(err)
	}
	sameForm(t, receive(t, got).Form, url.Values{
		"To":                  {"+819012345678"},
		"MessagingServiceSid": {testMG},
		"Body":                {messageBody},
	})
}

// TestSendTextFromSenderIDAndShortCode: an alphanumeric sender ID (even
// one that begins with MG) and a short code go as From.
func TestSendTextFromSenderIDAndShortCode(t *testing.T) {
	for _, from := range []string{"Example Co", "MGM Resorts", "12345"} {
		c, got := checkedAPI(t, from, "Messages", answerJSON(http.StatusCreated, messageAnswer))
		if err := c.SendText(context.Background(), phone.Text{To: testNumber, Body: messageBody}); err != nil {
			t.Fatalf("from %q: %v", from, err)
		}
		sameForm(t, receive(t, got).Form, url.Values{
			"To":   {"+819012345678"},
			"From": {from},
			"Body": {messageBody},
		})
	}
}

func TestSendTextTwilioError(t *testing.T) {
	c, got := checkedAPI(t, testFrom, "Messages", answerJSON(http.StatusBadRequest,
		`{"code": 21211, "message": "The 'To' number is not a valid phone number", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`))
	err := c.SendText(context.Background(), phone.Text{To: testNumber, Body: messageBody})
	receive(t, got)
	const want = "twilio: sending text: 21211 The 'To' number is not a valid phone number (HTTP 400)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	if !errors.Is(err, phone.ErrProvider) {
		t.Errorf("error does not wrap phone.ErrProvider")
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 21211 || apiErr.Status != 400 || apiErr.MoreInfo != "https://www.twilio.com/docs/errors/21211" {
		t.Errorf("APIError %+v", apiErr)
	}
	secretsAbsent(t, err)
}

// Twilio's messages may quote the number; it must not reach the log.
func TestSendTextErrorHidesNumbers(t *testing.T) {
	c, got := checkedAPI(t, testFrom, "Messages", answerJSON(http.StatusBadRequest,
		`{"code": 21610, "message": "Attempt to send to unsubscribed recipient +81 90-1234-5678 (from +15005550006)", "status": 400}`))
	err := c.SendText(context.Background(), phone.Text{To: testNumber, Body: messageBody})
	receive(t, got)
	const want = "twilio: sending text: 21610 Attempt to send to unsubscribed recipient [number] (from [number]) (HTTP 400)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

func TestSendTextHTML500(t *testing.T) {
	c, got := checkedAPI(t, testFrom, "Messages", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("<html><body><h1>500 Internal Server Error</h1></body></html>"))
	})
	err := c.SendText(context.Background(), phone.Text{To: testNumber, Body: messageBody})
	receive(t, got)
	const want = "twilio: sending text: HTTP 500 Internal Server Error"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	if !errors.Is(err, phone.ErrProvider) {
		t.Errorf("error does not wrap phone.ErrProvider")
	}
}

func TestSendTextHangingServer(t *testing.T) {
	release := make(chan struct{})
	c, got := checkedAPI(t, testFrom, "Messages", func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release) // before the server closes: it waits for handlers
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.SendText(ctx, phone.Text{To: testNumber, Body: messageBody})
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("returned after %v", elapsed)
	}
	receive(t, got)
	if !errors.Is(err, phone.ErrProvider) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want one wrapping phone.ErrProvider and context.DeadlineExceeded", err)
	}
	if !strings.HasPrefix(err.Error(), "twilio: sending text: ") {
		t.Errorf("error %q lacks context", err)
	}
	secretsAbsent(t, err)
}

func TestSendTextCanceled(t *testing.T) {
	c, got := checkedAPI(t, testFrom, "Messages", answerJSON(http.StatusCreated, messageAnswer))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.SendText(ctx, phone.Text{To: testNumber, Body: messageBody})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, phone.ErrProvider) {
		t.Fatalf("error %v, want context.Canceled and phone.ErrProvider", err)
	}
	noRequest(t, got)
}

func TestSendTextUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c, err := New(testSID, testToken, testFrom, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	err = c.SendText(context.Background(), phone.Text{To: testNumber, Body: messageBody})
	if !errors.Is(err, phone.ErrProvider) {
		t.Fatalf("error %v, want phone.ErrProvider", err)
	}
	secretsAbsent(t, err)
}

func TestSendTextRejectsBadInput(t *testing.T) {
	c, got := checkedAPI(t, testFrom, "Messages", answerJSON(http.StatusCreated, messageAnswer))
	for _, text := range []phone.Text{
		{To: phone.Number{E164: "09012345678"}, Body: messageBody},
		{To: testNumber, Body: ""},
	} {
		err := c.SendText(context.Background(), text)
		if err == nil || errors.Is(err, phone.ErrProvider) {
			t.Errorf("SendText(%+v) = %v, want an error of ours", text, err)
		}
	}
	noRequest(t, got)
}

// secretsAbsent fails if err shows the auth token or the message.
func secretsAbsent(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{testToken, messageBody, "123456"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q shows %q", err, s)
		}
	}
}
