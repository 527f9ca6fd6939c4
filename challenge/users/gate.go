package users

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// ErrBusy is a password check refused because as many checks as the gate
// allows are running and its queue is full, or the wait in the queue ran
// out. Nothing was checked: the caller answers 503 with Retry-After.
var ErrBusy = errors.New("too many password checks at once")

// Default bounds of the gate: one running check per core, a queue of
// QueuePerSlot waiting checks per core, each waiting at most DefaultWait.
const (
	QueuePerSlot = 8
	DefaultWait  = time.Second
)

// Gate bounds concurrent password hash checks, so that a flood of sign-in
// attempts (unknown names too, which check a fake hash) holds at most slots
// hashes' memory (19 MiB each at the default argon2id cost) and the CPU of
// slots cores. Beyond the running ones, up to queue callers wait, each at
// most wait; the rest are refused at once with ErrBusy, never hung.
type Gate struct {
	slots chan struct{}
	queue chan struct{}
	wait  time.Duration
	// after is the clock of the wait: time.After, or a test's.
	after func(time.Duration) <-chan time.Time
}

// NewGate returns a gate of slots concurrent checks, queue waiting ones and
// a longest wait; after is the clock (nil for time.After).
func NewGate(slots, queue int, wait time.Duration, after func(time.Duration) <-chan time.Time) *Gate {
	slots, queue = max(slots, 1), max(queue, 0)
	if after == nil {
		after = time.After
	}
	return &Gate{slots: make(chan struct{}, slots), queue: make(chan struct{}, queue), wait: wait, after: after}
}

// DefaultGate is a gate sized to the cores the process may use
// (runtime.GOMAXPROCS), with QueuePerSlot waiting per core and DefaultWait.
func DefaultGate() *Gate {
	n := runtime.GOMAXPROCS(0)
	return NewGate(n, n*QueuePerSlot, DefaultWait, nil)
}

// Slots is how many checks may run at once.
func (g *Gate) Slots() int { return cap(g.slots) }

// RetryAfter is what a refused caller should wait before trying again.
func (g *Gate) RetryAfter() time.Duration { return max(g.wait, time.Second) }

// Do runs check when a slot is free: at once, or after waiting in the
// queue. It returns ErrBusy without running check when the queue is full
// or the wait runs out, and ctx's error if ctx ends while waiting.
func (g *Gate) Do(ctx context.Context, check func()) error {
	select {
	case g.slots <- struct{}{}:
	default:
		if err := g.queued(ctx); err != nil {
			return err
		}
	}
	defer func() { <-g.slots }()
	check()
	return nil
}

// queued waits for a slot, holding a place in the queue; on success the
// caller holds a slot.
func (g *Gate) queued(ctx context.Context) error {
	select {
	case g.queue <- struct{}{}:
	default:
		return ErrBusy
	}
	defer func() { <-g.queue }()
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-g.after(g.wait):
		return ErrBusy
	case <-ctx.Done():
		return fmt.Errorf("waiting for a password check: %w", ctx.Err())
	}
}
