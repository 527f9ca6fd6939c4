package webhooktest

import (
	"slices"
	"testing"
	"time"
)

// pollEvery is how often the Wait methods look at the records.
const pollEvery = 5 * time.Millisecond

// box holds the accepted requests of one type, oldest first; Receiver.mu
// guards it.
type box[T any] struct {
	items []T
	taken []bool // parallel to items: returned by a Wait method
}

// add records v.
func (b *box[T]) add(v T) {
	b.items = append(b.items, v)
	b.taken = append(b.taken, false)
}

// list returns a copy of the items.
func (b *box[T]) list() []T { return slices.Clone(b.items) }

// take marks and returns the oldest item not yet taken that match accepts.
func (b *box[T]) take(match func(T) bool) (T, bool) {
	for i, v := range b.items {
		if !b.taken[i] && match(v) {
			b.taken[i] = true
			return v, true
		}
	}
	var zero T
	return zero, false
}

// wait polls b until it can take an item match accepts, and fails the test
// (t.Fatalf) when timeout passes first; what names the item waited for.
func wait[T any](t testing.TB, r *Receiver, b *box[T], what string, timeout time.Duration, match func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r.mu.Lock()
		v, ok := b.take(match)
		seen := len(b.items)
		r.mu.Unlock()
		if ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhooktest: no new %s within %v (%d of its type in all)", what, timeout, seen)
		}
		time.Sleep(pollEvery)
	}
}
