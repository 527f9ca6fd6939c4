package regulation

import (
	"context"
	"testing"
	"time"
)

// A refused attempt's wait ends at once when a check let through has ended
// since it began, ends when one ends, and ends, refused, when the last
// other attempt goes without one having ended.
func TestFlights(t *testing.T) {
	f := &flights{}
	ctx := context.Background()
	never := make(chan time.Time)

	// Alone: nothing to wait for.
	alone := f.begin("k")
	alone.drop()
	if f.await(ctx, alone, never) {
		t.Fatal("waited with nothing in hand")
	}

	// A check in flight: the refused attempt waits for its end, and another
	// refused attempt's going does not wake it.
	held := f.begin("k")
	w := f.begin("k")
	other := f.begin("k")
	w.drop()
	woke := make(chan bool, 1)
	go func() { woke <- f.await(ctx, w, never) }()
	time.Sleep(20 * time.Millisecond)
	other.drop()
	select {
	case <-woke:
		t.Fatal("another refused attempt woke the waiter while a check was in flight")
	case <-time.After(50 * time.Millisecond):
	}
	held.end()
	if !<-woke {
		t.Fatal("the end of the check did not let the waiter ask again")
	}
	held.end() // again: nothing
	if len(f.m) != 0 {
		t.Fatalf("flights left: %v", f.m)
	}

	// A check that ended between the refusal and the wait is not missed.
	held = f.begin("k")
	w = f.begin("k")
	w.drop()
	held.end()
	if !f.await(ctx, w, never) {
		t.Fatal("a check that ended before the wait was missed")
	}

	// Only refused attempts: the last to go ends the others' waits, refused.
	a, b := f.begin("k"), f.begin("k")
	a.drop()
	go func() { woke <- f.await(ctx, a, never) }()
	time.Sleep(20 * time.Millisecond)
	b.drop()
	if <-woke {
		t.Fatal("refused attempts alone made each other ask again")
	}

	// A deadline ends a wait.
	stuck, w := f.begin("k"), f.begin("k")
	w.drop()
	deadline := make(chan time.Time, 1)
	deadline <- time.Now()
	if f.await(ctx, w, deadline) {
		t.Fatal("the deadline did not end the wait")
	}
	stuck.end()
	if len(f.m) != 0 {
		t.Fatalf("flights left: %v", f.m)
	}
}
