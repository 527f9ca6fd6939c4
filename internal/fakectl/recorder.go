package fakectl

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// Recorder stands in for the test given to a fake, so that a fake's own
// tests can see it fail its test: it keeps the errors reported and the
// cleanups registered instead of failing the real test, and Fatalf records
// and ends its goroutine, as testing.T does. Anything else goes to the
// embedded TB. Its methods are safe for concurrent use.
type Recorder struct {
	testing.TB

	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

// NewRecorder returns a Recorder in front of t.
func NewRecorder(t testing.TB) *Recorder { return &Recorder{TB: t} }

// Helper does nothing: the Recorder reports nowhere.
func (r *Recorder) Helper() {}

// Errorf records an error.
func (r *Recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// Error records an error.
func (r *Recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

// Fatalf records an error and ends the calling goroutine (call it, or what
// calls it, on a goroutine of the test's own).
func (r *Recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

// Run calls f on a goroutine of its own and waits until f returns or a
// Fatalf of the Recorder ends it, as when f waits for something that
// never comes.
func (r *Recorder) Run(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

// Cleanup keeps f, for Finish.
func (r *Recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

// Errors returns the errors recorded so far, oldest first.
func (r *Recorder) Errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs)
}

// Finish runs the cleanups kept, last first, as the end of a test does.
func (r *Recorder) Finish() {
	r.mu.Lock()
	fs := r.cleanups
	r.cleanups = nil
	r.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}
