package webhooktest

import (
	"testing"
	"time"
)

// Push is a sign-in prompt the receiver accepted (type "push").
type Push struct {
	// User is the user name.
	User string
	// Device is the user's device address (their topic).
	Device string
	// Title is the prompt's title.
	Title string
	// Message is its text.
	Message string
	// Action is the label of the button that opens URL.
	Action string
	// URL is the approval page.
	URL string
	// Site is the site the sign-in is for.
	Site string
	// IP is the client IP address of the sign-in.
	IP string
	// Browser describes the client; it may be empty.
	Browser string
	// Time is when the sign-in was asked for.
	Time time.Time
	// Expires is when URL stops working.
	Expires time.Time
	// Test marks the test prompt sent at registration.
	Test bool
}

// Fraud is a user's report, accepted by the receiver, that they did not
// ask for a sign-in (type "fraud_reported").
type Fraud struct {
	// User is the user who reported.
	User string
	// Method is the method of the sign-in reported, such as "push".
	Method string
	// Site is the site the sign-in was for.
	Site string
	// IP is the client IP address of the sign-in reported.
	IP string
	// Browser describes that client; it may be empty.
	Browser string
	// Time is when the sign-in was asked for.
	Time time.Time
}

// Pushes returns the prompts accepted so far, oldest first.
func (r *Receiver) Pushes() []Push {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pushes.list()
}

// Frauds returns the fraud reports accepted so far, oldest first.
func (r *Receiver) Frauds() []Fraud {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.frauds.list()
}

// WaitPush waits up to timeout for a prompt for user that no earlier
// WaitPush returned, and returns the oldest such; like WaitText, it fails
// the test on timeout.
func (r *Receiver) WaitPush(t testing.TB, user string, timeout time.Duration) Push {
	t.Helper()
	return wait(t, r, &r.pushes, "prompt for "+user, timeout, func(p Push) bool { return p.User == user })
}

// WaitFraud waits up to timeout for a fraud report by user that no earlier
// WaitFraud returned, and returns the oldest such; like WaitText, it fails
// the test on timeout.
func (r *Receiver) WaitFraud(t testing.TB, user string, timeout time.Duration) Fraud {
	t.Helper()
	return wait(t, r, &r.frauds, "fraud report by "+user, timeout, func(f Fraud) bool { return f.User == user })
}
