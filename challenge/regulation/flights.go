package regulation

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// flights counts, per limit key, the app-password attempts this gateway
// has in hand: asking the limiter, or let through and being checked. A
// check let through holds a token of the per-user limit until it turns out
// right (the token comes back) or wrong. A right app password refused only
// because the others of its client were still in check would fail a sync
// client with more transfers at once than the limit's burst, so a refused
// attempt waits for one of those checks to end and asks again.
//
// An attempt is counted from before it asks the limiter, so that one whose
// token was just taken is never missed by another refused meanwhile. A
// refused attempt asks again only if a check let through has ended since
// it asked (the flight's ends moved): with the limit used up by wrong ones
// none is let through, so each refused attempt asks once, and waits only
// while others are still asking.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

// flight is the attempts in hand under one key. Its fields are guarded by
// flights.mu.
type flight struct {
	// n is the attempts counted.
	n int
	// ends counts the checks let through that ended.
	ends uint64
	// changed is closed (and replaced) when a check let through ends and
	// when the last attempt goes.
	changed chan struct{}
}

// maxFlightWait bounds how long an attempt waits for the checks in flight
// before it is refused: a check takes milliseconds (the app-password
// hashes are bounded by the password gate), so this is only reached under
// a stall.
const maxFlightWait = 2 * time.Second

// maxFlightTries bounds how often one attempt asks the limiter: each check
// that ends wakes every waiter, and only one gets its token.
const maxFlightTries = 64

// begin counts an attempt under key and returns its ticket.
func (f *flights) begin(key string) *flightTicket {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]*flight{}
	}
	fl := f.m[key]
	if fl == nil {
		fl = &flight{changed: make(chan struct{})}
		f.m[key] = fl
	}
	fl.n++
	return &flightTicket{f: f, key: key, fl: fl, ends: fl.ends}
}

// finish stops counting t's attempt; checked: it was let through, and its
// check has ended.
func (f *flights) finish(t *flightTicket, checked bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl := t.fl
	fl.n--
	if checked {
		fl.ends++
	}
	if checked || fl.n == 0 {
		close(fl.changed)
		fl.changed = make(chan struct{})
	}
	if fl.n == 0 && f.m[t.key] == fl {
		delete(f.m, t.key)
	}
}

// await waits, for the refused attempt of t (finished), until a check let
// through under its key has ended since t began, and reports whether one
// did: false once no other attempt is in hand without one having ended,
// and false when ctx ends or deadline passes first.
func (f *flights) await(ctx context.Context, t *flightTicket, deadline <-chan time.Time) bool {
	for {
		f.mu.Lock()
		ended, idle, ch := t.fl.ends != t.ends, t.fl.n == 0, t.fl.changed
		f.mu.Unlock()
		if ended {
			return true
		}
		if idle {
			return false
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		case <-deadline:
			return false
		}
	}
}

// flightTicket is one attempt in hand; finishing it again does nothing.
type flightTicket struct {
	f   *flights
	key string
	fl  *flight
	// ends is fl.ends when the attempt began.
	ends uint64
	done atomic.Bool
}

// end ends a check that was let through: its token was taken, and who
// waits for one may find it now.
func (t *flightTicket) end() { t.finishOnce(true) }

// drop ends an attempt the limiter refused.
func (t *flightTicket) drop() { t.finishOnce(false) }

func (t *flightTicket) finishOnce(checked bool) {
	if t != nil && t.done.CompareAndSwap(false, true) {
		t.f.finish(t, checked)
	}
}
