package twiliotest

import (
	"testing"
	"time"
)

// pollEvery is how often the Wait methods look at the records.
const pollEvery = 5 * time.Millisecond

// WaitMessage waits up to timeout for a message to to that no earlier
// WaitMessage returned, and returns the oldest such; each message is
// returned once, so a resent code is waited for with a second call. It
// fails the test (t.Fatalf, so call it from the test's goroutine) on timeout.
func (f *Fake) WaitMessage(t testing.TB, to string, timeout time.Duration) Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		f.mu.Lock()
		for _, m := range f.messages {
			if m.To == to && !f.taken[m.SID] {
				f.taken[m.SID] = true
				f.mu.Unlock()
				return m
			}
		}
		seen := len(f.messages)
		f.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("twiliotest: no new text message to %s within %v (%d messages in all)", to, timeout, seen)
		}
		time.Sleep(pollEvery)
	}
}

// WaitCall waits up to timeout for a call to to that no earlier WaitCall
// returned, and returns the oldest such; like WaitMessage, it fails the test
// on timeout.
func (f *Fake) WaitCall(t testing.TB, to string, timeout time.Duration) CallRecord {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		f.mu.Lock()
		for _, c := range f.calls {
			if c.To == to && !f.taken[c.SID] {
				f.taken[c.SID] = true
				f.mu.Unlock()
				return c
			}
		}
		seen := len(f.calls)
		f.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("twiliotest: no new call to %s within %v (%d calls in all)", to, timeout, seen)
		}
		time.Sleep(pollEvery)
	}
}
