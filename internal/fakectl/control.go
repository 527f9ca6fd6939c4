// Package fakectl is what the fake services in internal/ (twiliotest,
// ntfytest, webhooktest) share: the switches a test flips to make a fake's
// next request fail or hang, the list of requests it refused (Control),
// and a stand-in testing.TB with which the fakes' own tests watch a fake
// fail its test (Recorder).
package fakectl

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Control is a fake's control surface. F is how the fake describes an
// answer it gives instead of the real one (an HTTP status, or a service's
// error body); its zero value means "no failure". A fake embeds a Control,
// calls Next at the start of each request and Reject for each request it
// refuses, and EndHangs when it shuts down. The zero value is ready for use;
// its methods are safe for concurrent use.
type Control[F comparable] struct {
	mu       sync.Mutex
	fail     F
	hang     time.Duration
	rejected []string
	closing  chan struct{} // made on first use; closed by EndHangs
	closed   bool
}

// FailNext makes the next request, once checked, be answered with fail
// and not recorded. A second FailNext before that request replaces the
// first; FailNext of the zero F takes it back.
func (c *Control[F]) FailNext(fail F) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail = fail
}

// HangNext makes the next request wait d before it is handled; the wait
// ends early, without an answer, if the client gives up or the fake
// closes.
func (c *Control[F]) HangNext(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hang = d
}

// Rejected describes each request the fake refused, oldest first.
func (c *Control[F]) Rejected() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.rejected)
}

// Reject records a refused request, described by format and args, and
// returns the description.
func (c *Control[F]) Reject(format string, args ...any) string {
	problem := fmt.Sprintf(format, args...)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rejected = append(c.rejected, problem)
	return problem
}

// Next takes (and clears) the switches for one request and waits out a
// HangNext. It returns the failure to answer with (the zero F for none),
// and ok false when the wait ended because ctx (the request's context)
// ended or the fake closed: the request is then dropped without an answer.
func (c *Control[F]) Next(ctx context.Context) (fail F, ok bool) {
	c.mu.Lock()
	fail, hang := c.fail, c.hang
	var zero F
	c.fail, c.hang = zero, 0
	closing := c.closingLocked()
	c.mu.Unlock()
	if hang <= 0 {
		return fail, true
	}
	timer := time.NewTimer(hang)
	defer timer.Stop()
	select {
	case <-timer.C:
		return fail, true
	case <-ctx.Done():
	case <-closing:
	}
	return zero, false
}

// EndHangs ends every wait of Next, now and later. A fake calls it before
// closing its server, which would otherwise wait for hung requests.
func (c *Control[F]) EndHangs() {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := c.closingLocked()
	if !c.closed {
		c.closed = true
		close(ch)
	}
}

// closingLocked returns the channel EndHangs closes, making it if need be;
// c.mu must be held.
func (c *Control[F]) closingLocked() chan struct{} {
	if c.closing == nil {
		c.closing = make(chan struct{})
	}
	return c.closing
}
