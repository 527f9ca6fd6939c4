package users

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"
)

// auth is db.Authenticate for tests, which never expect the gate to refuse.
func auth(t *testing.T, db *DB, name, password string) *User {
	t.Helper()
	u, err := db.Authenticate(context.Background(), name, password)
	if err != nil {
		t.Fatalf("Authenticate(%q): %v", name, err)
	}
	return u
}

// fakeClock hands out wait timers that fire only when the test says so.
type fakeClock struct {
	mu     sync.Mutex
	timers []chan time.Time
	asked  chan time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{asked: make(chan time.Duration, 100)} }

func (c *fakeClock) after(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	c.timers = append(c.timers, ch)
	c.mu.Unlock()
	c.asked <- d
	return ch
}

// fire makes every wait given out so far run out.
func (c *fakeClock) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.timers {
		ch <- time.Time{}
	}
	c.timers = nil
}

// holder runs a check that blocks until released, and reports when it runs.
type holder struct {
	running chan struct{}
	release chan struct{}
	done    chan error
}

func hold(g *Gate) *holder {
	h := &holder{running: make(chan struct{}), release: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		h.done <- g.Do(context.Background(), func() {
			close(h.running)
			<-h.release
		})
	}()
	return h
}

// The gate runs at most its slots at once, lets a bounded queue wait for a
// slot, refuses at once beyond the queue, and refuses a waiter whose wait
// ran out: never more running than slots, never an unbounded wait.
func TestGateBoundsConcurrentChecks(t *testing.T) {
	clk := newFakeClock()
	g := NewGate(2, 1, time.Second, clk.after)

	// Two checks take the two slots.
	a, b := hold(g), hold(g)
	<-a.running
	<-b.running

	// A third waits in the queue, for at most the gate's wait.
	c := hold(g)
	if d := <-clk.asked; d != time.Second {
		t.Fatalf("the queued check waits up to %v, want 1s", d)
	}
	select {
	case <-c.running:
		t.Fatal("a third check ran while two held both slots")
	default:
	}

	// A fourth finds the queue full: refused at once, its check not run.
	ran := false
	if err := g.Do(context.Background(), func() { ran = true }); !errors.Is(err, ErrBusy) || ran {
		t.Fatalf("with both slots held and the queue full: err %v, ran %v; want ErrBusy without running", err, ran)
	}

	// A slot frees: the queued one runs.
	close(a.release)
	if err := <-a.done; err != nil {
		t.Fatal(err)
	}
	<-c.running

	// Now b and c hold the slots; d queues and its wait runs out.
	d := hold(g)
	<-clk.asked
	clk.fire()
	if err := <-d.done; !errors.Is(err, ErrBusy) {
		t.Fatalf("a check whose wait ran out: %v, want ErrBusy", err)
	}
	select {
	case <-d.running:
		t.Fatal("the check whose wait ran out was run")
	default:
	}

	// Everything released: the gate is whole again, both slots free.
	close(b.release)
	close(c.release)
	<-b.done
	<-c.done
	e, f := hold(g), hold(g)
	<-e.running
	<-f.running
	close(e.release)
	close(f.release)
	<-e.done
	<-f.done
}

// A caller that goes away while queued stops waiting.
func TestGateQueuedCallerCancelled(t *testing.T) {
	clk := newFakeClock()
	g := NewGate(1, 4, time.Minute, clk.after)
	a := hold(g)
	<-a.running
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Do(ctx, func() {}) }()
	<-clk.asked
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled while queued: %v, want context.Canceled", err)
	}
	close(a.release)
	<-a.done
}

// Authenticate goes through the gate, for known and unknown names alike:
// with the gate full, neither is checked and both say ErrBusy.
func TestAuthenticateGoesThroughTheGate(t *testing.T) {
	db, _ := openTestDB(t, usersFile(t, "alice-pw"))
	g := NewGate(1, 0, time.Second, newFakeClock().after)
	db.SetGate(g)
	a := hold(g)
	<-a.running
	for _, name := range []string{"alice", "mallory", "bob"} {
		if u, err := db.Authenticate(context.Background(), name, "alice-pw"); !errors.Is(err, ErrBusy) || u != nil {
			t.Errorf("Authenticate(%q) with the gate full = %v, %v; want nil, ErrBusy", name, u, err)
		}
	}
	close(a.release)
	<-a.done
	if u := auth(t, db, "alice", "alice-pw"); u == nil {
		t.Fatal("alice's right password is refused once the gate is free")
	}
}

// The default gate is sized to the cores the process may use.
func TestDefaultGateSizedToCores(t *testing.T) {
	g := DefaultGate()
	if g.Slots() != runtime.GOMAXPROCS(0) || cap(g.queue) != g.Slots()*QueuePerSlot || g.wait != DefaultWait {
		t.Fatalf("default gate: %d slots, queue %d, wait %v", g.Slots(), cap(g.queue), g.wait)
	}
}
