package regulation

import (
	"context"
	"testing"
	"time"
)

// A wait ends when a check let through ends, at once when none is in
// flight, and never for a refused attempt's own end unless it was the last.
func TestFlights(t *testing.T) {
	f := &flights{}
	ctx := context.Background()
	never := make(chan time.Time)
	if f.await(ctx, "k", never) {
		t.Fatal("waited with nothing in flight")
	}
	held := f.begin("k")
	refused := f.begin("k")
	woke := make(chan bool, 1)
	go func() { woke <- f.await(ctx, "k", never) }()
	time.Sleep(20 * time.Millisecond)
	refused.drop()
	select {
	case <-woke:
		t.Fatal("a refused attempt's end woke the waiter while a check was in flight")
	case <-time.After(50 * time.Millisecond):
	}
	held.end()
	if !<-woke {
		t.Fatal("the end of the check did not wake the waiter")
	}
	held.end() // again: nothing
	if len(f.m) != 0 {
		t.Fatalf("flights left: %v", f.m)
	}
	// The last one out wakes the waiters, even refused.
	last := f.begin("k")
	go func() { woke <- f.await(ctx, "k", never) }()
	time.Sleep(20 * time.Millisecond)
	last.drop()
	if !<-woke {
		t.Fatal("the last refused attempt did not end the wait")
	}
	// A deadline ends a wait.
	stuck := f.begin("k")
	deadline := make(chan time.Time, 1)
	deadline <- time.Now()
	if f.await(ctx, "k", deadline) {
		t.Fatal("the deadline did not end the wait")
	}
	stuck.end()
}
