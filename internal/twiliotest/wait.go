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
	return waitFor(t, f, "text message", to, timeout, func() []Message { return f.messages },
		func(m Message) (string, string) { return m.To, m.SID })
}

// WaitCall waits up to timeout for a call to to that no earlier WaitCall
// returned, and returns the oldest such; like WaitMessage, it fails the test
// on timeout.
func (f *Fake) WaitCall(t testing.TB, to string, timeout time.Duration) CallRecord {
	t.Helper()
	return waitFor(t, f, "call", to, timeout, func() []CallRecord { return f.calls },
		func(c CallRecord) (string, string) { return c.To, c.SID })
}

// waitFor polls list (read under f.mu) for an item to to not yet taken.
func waitFor[T any](t testing.TB, f *Fake, what, to string, timeout time.Duration, list func() []T, key func(T) (to, sid string)) T {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		f.mu.Lock()
		items := list()
		for _, it := range items {
			if dest, sid := key(it); dest == to && !f.taken[sid] {
				f.taken[sid] = true
				f.mu.Unlock()
				return it
			}
		}
		seen := len(items)
		f.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("twiliotest: no new %s to %s within %v (%d in all)", what, to, timeout, seen)
		}
		time.Sleep(pollEvery)
	}
}
