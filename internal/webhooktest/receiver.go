// Package webhooktest is an operator's webhook for end-to-end tests of the
// webhook SMS provider and the webhook push notifier: a real HTTP server on
// 127.0.0.1 that checks every request with webhook.Verify and the
// documented JSON body, and records what it accepted. The body's type says
// what it is: "sms" (a Text), "push" (a sign-in prompt, Push) or
// "fraud_reported" (a user's report of a prompt they did not ask for,
// Fraud). A request that breaks the format, a member missing or unknown
// included, fails the test (t.Errorf) and is answered 401 (signature) or
// 400 (anything else).
package webhooktest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/fakectl"
)

// MaxSkew is how far a request's timestamp may be from the receiver's
// clock.
const MaxSkew = 5 * time.Minute

// Text is a text message the receiver accepted.
type Text struct {
	// To is the recipient, in E.164.
	To string
	// Text is the message.
	Text string
	// SentAt is the request's sent_at.
	SentAt time.Time
}

// Receiver is a fake webhook. Its methods are safe for concurrent use.
//
// Its Control is the test's switches: FailNext(status) answers the next
// request, once checked, with status and does not record it; HangNext
// delays the next request; Rejected describes each request refused for
// breaking the format, oldest first.
type Receiver struct {
	fakectl.Control[int]

	tb     testing.TB
	secret []byte
	srv    *httptest.Server

	mu     sync.Mutex
	texts  box[Text]
	pushes box[Push]
	frauds box[Fraud]
}

// New starts a receiver checking signatures with secret; it closes when t
// ends.
func New(t testing.TB, secret []byte) *Receiver {
	t.Helper()
	r := &Receiver{
		tb:     t,
		secret: append([]byte(nil), secret...),
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		r.EndHangs() // which Close would wait for
		r.srv.Close()
	})
	return r
}

// URL is the address to configure as the webhook URL, for every type of
// request.
func (r *Receiver) URL() string { return r.srv.URL + "/sms" }

// Texts returns the texts accepted so far, oldest first.
func (r *Receiver) Texts() []Text {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.texts.list()
}

// WaitText waits up to timeout for a text to to that no earlier WaitText
// returned, and returns the oldest such; each text is returned once. It
// fails the test (t.Fatalf, so call it from the test's goroutine) on
// timeout.
func (r *Receiver) WaitText(t testing.TB, to string, timeout time.Duration) Text {
	t.Helper()
	return wait(t, r, &r.texts, "text to "+to, timeout, func(x Text) bool { return x.To == to })
}
