// Package ntfytest is a fake ntfy server for end-to-end tests of the ntfy
// notifier: a real HTTP server on 127.0.0.1 that takes messages published
// as JSON (https://docs.ntfy.sh/publish/#publish-as-json), checks every
// request against what ntfy documents, and records the messages it
// accepted.
//
// A request that breaks the format fails the test (t.Errorf) and is
// answered with ntfy's JSON error and HTTP 400, 404 or 405. A request whose
// credentials do not match is answered as ntfy answers it, 403 (401 for
// credentials where none are expected); that is recorded in Rejected but
// is not by itself a test failure, since a test may want it.
package ntfytest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/fakectl"
)

// Action is an action button of a message.
type Action struct {
	// Action is the kind of button: "view", "broadcast" or "http".
	Action string
	// Label is the button's text.
	Label string
	// URL is what the button opens (view) or requests (http).
	URL string
	// Clear is whether the notification is dismissed once the button is
	// tapped.
	Clear bool
}

// Message is a message the fake accepted.
type Message struct {
	// ID is the id the fake gave the message (12 characters).
	ID string
	// Time is when the fake took it.
	Time time.Time
	// Topic is the topic it was published to.
	Topic string
	// Title is its title, if any.
	Title string
	// Message is its text.
	Message string
	// Tags are its tags (emoji short codes and others).
	Tags []string
	// Priority is its priority, 1 to 5; 0 when not given (ntfy's default
	// is 3).
	Priority int
	// Click is the URL opened when the notification is tapped, if any.
	Click string
	// Actions are its action buttons.
	Actions []Action
	// Cached is whether ntfy would keep the message in its cache, for
	// anyone who can read the topic to fetch until it expires (ntfy's
	// cache-duration, 12 h by default): true unless the request said
	// "X-Cache: no" (https://docs.ntfy.sh/publish/#message-caching).
	Cached bool
}

// Fake is a fake ntfy server. Its methods are safe for concurrent use.
//
// Its Control is the test's switches: FailNext(status) answers the next
// request, once checked, with status and ntfy's JSON error for it, and
// does not record it; HangNext delays the next request; Rejected describes
// each request refused, for its format or its credentials, oldest first.
type Fake struct {
	fakectl.Control[int]

	tb   testing.TB
	auth string // the Authorization header expected, or "" for none
	srv  *httptest.Server

	mu       sync.Mutex
	messages []Message
	taken    map[string]bool // IDs WaitMessage returned
}

// New starts a fake ntfy server; it closes when t ends. If token is not
// empty, every request must carry it: "Authorization: Bearer <token>" for
// an access token, or HTTP Basic auth if token is "user:password". With
// an empty token the server takes anonymous requests only.
func New(t testing.TB, token string) *Fake {
	t.Helper()
	f := &Fake{
		tb:    t,
		auth:  authorization(token),
		taken: make(map[string]bool),
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.EndHangs() // which Close would wait for
		f.srv.Close()
	})
	return f
}

// URL is the server's base URL, such as "http://127.0.0.1:40123" (no
// trailing slash); messages are published to its root path.
func (f *Fake) URL() string { return f.srv.URL }

// Messages returns the messages accepted so far, oldest first.
func (f *Fake) Messages() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.messages)
	for i := range out {
		out[i].Tags = slices.Clone(out[i].Tags)
		out[i].Actions = slices.Clone(out[i].Actions)
	}
	return out
}

// WaitMessage waits up to timeout for a message to topic that no earlier
// WaitMessage returned, and returns the oldest such; each message is
// returned once. It fails the test (t.Fatalf, so call it from the test's
// goroutine) on timeout.
func (f *Fake) WaitMessage(t testing.TB, topic string, timeout time.Duration) Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		f.mu.Lock()
		for _, m := range f.messages {
			if m.Topic == topic && !f.taken[m.ID] {
				f.taken[m.ID] = true
				f.mu.Unlock()
				return m
			}
		}
		seen := len(f.messages)
		f.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("ntfytest: no new message to %s within %v (%d in all)", topic, timeout, seen)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
