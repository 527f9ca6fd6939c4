package regulation

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// flights counts, per limit key, the app-password checks this gateway has
// let through and not finished: each holds a token of the per-user limit
// until it turns out right (the token comes back) or wrong. A right app
// password refused only because the others of its client were still in
// check would fail a sync client with more transfers at once than the
// limit's burst, so a refused attempt waits for those checks to end and
// asks again; with none in flight here, the limit was used up by wrong
// ones and it is refused at once.
//
// An attempt is counted from before it asks the limiter, so that one whose
// token was just taken is never missed by another that was refused
// meanwhile. An attempt refused stops counting without waking anyone,
// unless it was the last: so refused attempts do not wake each other into
// asking again (but for the last, which ends the waits), and an attempt
// asks again only after a check let through has ended. With the limit used
// up by wrong ones none is let through, so none waits; each asks at most
// maxFlightTries times.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

// flight is the checks in flight under one key.
type flight struct {
	n int
	// ended is closed (and replaced) whenever one of them ends.
	ended chan struct{}
}

// maxFlightWait bounds how long an attempt waits for the checks in flight
// before it is refused: a check takes milliseconds (the app-password
// hashes are bounded by the password gate), so this is only reached under
// a stall.
const maxFlightWait = 2 * time.Second

// maxFlightTries bounds how often one attempt asks the limiter: each
// check that ends wakes every waiter, and only one gets its token.
const maxFlightTries = 64

// begin counts a check under key and returns what ends it (once).
func (f *flights) begin(key string) *flightTicket {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]*flight{}
	}
	fl := f.m[key]
	if fl == nil {
		fl = &flight{ended: make(chan struct{})}
		f.m[key] = fl
	}
	fl.n++
	return &flightTicket{f: f, key: key}
}

// end ends one check under key, waking who waits for it if wake or if it
// was the last.
func (f *flights) end(key string, wake bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl := f.m[key]
	if fl == nil {
		return
	}
	fl.n--
	if fl.n <= 0 {
		close(fl.ended)
		delete(f.m, key)
		return
	}
	if wake {
		close(fl.ended)
		fl.ended = make(chan struct{})
	}
}

// busy returns a channel closed when one of key's checks in flight ends,
// or nil if none is in flight.
func (f *flights) busy(key string) <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl := f.m[key]; fl != nil {
		return fl.ended
	}
	return nil
}

// await waits until one of key's checks in flight ends, and reports
// whether one did: false at once if none is in flight, and false when ctx
// ends or deadline passes first.
func (f *flights) await(ctx context.Context, key string, deadline <-chan time.Time) bool {
	ch := f.busy(key)
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	case <-deadline:
		return false
	}
}

// flightTicket is one check in flight; ending it again does nothing.
type flightTicket struct {
	f    *flights
	key  string
	done atomic.Bool
}

// end ends a check that was let through: a token was taken, and who
// waits for one may find it now.
func (t *flightTicket) end() { t.finish(true) }

// drop ends an attempt the limiter refused.
func (t *flightTicket) drop() { t.finish(false) }

func (t *flightTicket) finish(wake bool) {
	if t != nil && t.done.CompareAndSwap(false, true) {
		t.f.end(t.key, wake)
	}
}
