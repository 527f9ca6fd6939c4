// Package twiliotest is a fake Twilio for end-to-end tests: a real HTTP
// server on 127.0.0.1 that serves the two REST resources the gateway uses
// (Messages and Calls of API version 2010-04-01), holds every request to the
// rules Twilio documents, records what it accepted, and plays the callee's
// part of a call by posting signed callbacks, as Twilio does, to the URLs in
// the call's TwiML.
//
// A request that breaks the rules is answered as Twilio would (its JSON
// error body with HTTP 400, 401, 404 or 405), recorded in Rejected and
// reported at once with t.Errorf, so the test fails loudly.
package twiliotest

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/fakectl"
)

// Message is a text message the fake accepted.
type Message struct {
	// SID is the id the fake gave the message ("SM" and 32 hex digits).
	SID string
	// To is the recipient, in E.164.
	To string
	// From is the sender number; empty when MessagingServiceSID was used.
	From string
	// MessagingServiceSID is the Messaging Service the message was sent
	// through, if any.
	MessagingServiceSID string
	// Body is the text.
	Body string
}

// CallRecord is a call the fake accepted, with what its inline TwiML says.
type CallRecord struct {
	// SID is the id the fake gave the call ("CA" and 32 hex digits).
	SID string
	// To is the number called, in E.164.
	To string
	// From is the caller ID.
	From string
	// SendDigits is what is dialled once connected (an extension), if any.
	SendDigits string
	// Twiml is the call's inline instructions, as sent.
	Twiml string
	// GatherURL is the action of the TwiML's <Gather>.
	GatherURL string
	// StatusURL is the StatusCallback parameter.
	StatusURL string
	// Say is the text of the first <Say> (inside the <Gather> if any).
	Say string
	// Language is that <Say>'s language attribute.
	Language string
}

// Fake is a fake Twilio account's REST API. Its methods are safe for
// concurrent use.
//
// Its Control is the test's switches: FailNext(APIError{...}) answers the
// next API request, once checked, with that error and does not record it;
// HangNext delays the next API request; Rejected describes each request
// that broke the API's rules, oldest first.
type Fake struct {
	fakectl.Control[APIError]

	tb         testing.TB
	accountSID string
	authToken  string
	srv        *httptest.Server
	callbacks  *http.Client

	mu       sync.Mutex
	messages []Message
	calls    []CallRecord
	taken    map[string]bool // SIDs WaitMessage or WaitCall returned
}

// accountSIDPattern is the form of an account SID.
var accountSIDPattern = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)

// New starts a fake Twilio account with these credentials; it closes when t
// ends. accountSID must look like a real one ("AC" and 32 hex digits).
func New(t testing.TB, accountSID, authToken string) *Fake {
	t.Helper()
	if !accountSIDPattern.MatchString(accountSID) {
		t.Fatalf("twiliotest: account SID %q is not AC followed by 32 hex digits", accountSID)
	}
	if authToken == "" {
		t.Fatalf("twiliotest: empty auth token")
	}
	f := &Fake{
		tb:         t,
		accountSID: accountSID,
		authToken:  authToken,
		taken:      make(map[string]bool),
		callbacks: &http.Client{
			Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.EndHangs() // which Close would wait for
		f.srv.Close()
		f.callbacks.CloseIdleConnections()
	})
	return f
}

// URL is the base URL to configure as the API URL, such as
// "http://127.0.0.1:40123" (no trailing slash).
func (f *Fake) URL() string { return f.srv.URL }

// Messages returns the text messages accepted so far, oldest first.
func (f *Fake) Messages() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.messages)
}

// Calls returns the calls accepted so far, oldest first.
func (f *Fake) Calls() []CallRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}
