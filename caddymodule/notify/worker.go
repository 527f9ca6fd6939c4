package notify

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// Sender sends one notice on one channel.
type Sender interface {
	// Send delivers n, or fails; it must give up when ctx ends.
	Send(ctx context.Context, n Notice) error
}

// Worker sends the outbox's notices in the background, one at a time,
// retrying with exponential backoff. Several workers (on one gateway or
// many sharing Redis) may run on one outbox: a worker takes a notice only
// under a lease in the store, longer than a send may take, so no two
// send it at once.
//
// Delivery is at least once, with a stable Message-ID: a notice leaves
// the outbox only after the server accepted it. If a gateway dies after
// the mail server accepted a notice and before the outbox forgot it (a
// window of one store write), another worker sends it again once the
// lease runs out, under the same Message-ID, which lets mail systems
// and readers tell the copy. Losing a security notice silently would be
// worse than that rare copy.
type Worker struct {
	Outbox *Outbox
	// Senders send each channel's notices; a notice of a channel without
	// one is dropped.
	Senders map[string]Sender
	// Timeout bounds one send. Default 10s.
	Timeout time.Duration
	// PollEvery is how often the outbox is read when nothing woke the
	// worker. Default 1s.
	PollEvery time.Duration
	// MaxAttempts is how many failed sends end in giving up.
	// Default DefaultMaxAttempts.
	MaxAttempts int
	// Backoff is the wait after the first failure, doubled after each
	// next one up to MaxBackoff. Defaults DefaultBackoff, DefaultMaxBackoff.
	Backoff, MaxBackoff time.Duration
	Logger              *zap.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time

	holder string
	wake   chan struct{}
}

// NewWorker returns a worker on o with senders; set the other fields
// before Run.
func NewWorker(o *Outbox, senders map[string]Sender, logger *zap.Logger) *Worker {
	return &Worker{Outbox: o, Senders: senders, Logger: logger, holder: NewID(), wake: make(chan struct{}, 1)}
}

// Wake makes the worker read the outbox now (after an Enqueue); it never
// blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) timeout() time.Duration {
	if w.Timeout > 0 {
		return w.Timeout
	}
	return 10 * time.Second
}

// lease is how long a claim holds: longer than a send may take. go-mail
// applies the timeout to the dial and then again, in full, to the session
// and to the message (it resets the connection's deadline), so one send
// may take about three timeouts (measured: 5.1 s at a 2 s timeout).
func (w *Worker) lease() time.Duration { return 4*w.timeout() + 5*time.Second }

// Run sends notices until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	every := w.PollEvery
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		w.RunOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
	}
}

// RunOnce tries every notice that is due once.
func (w *Worker) RunOnce(ctx context.Context) {
	ids, err := w.Outbox.IDs(ctx)
	if err != nil {
		w.Logger.Warn("cannot read the notices outbox", zap.Error(err))
		return
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		w.try(ctx, id)
	}
}

func (w *Worker) try(ctx context.Context, id string) {
	// Read first: a notice waiting for its retry is passed over without
	// taking its lease (two writes each, on every poll, while the mail
	// server is down).
	if next, ok := w.Outbox.nextTry(ctx, id); ok && w.now().Before(next) {
		return
	}
	n, ok, err := w.Outbox.claim(ctx, id, w.holder, w.lease())
	if err != nil {
		w.Logger.Warn("cannot take a notice from the outbox", zap.String("notice", id), zap.Error(err))
	}
	if !ok {
		return
	}
	if w.now().Before(n.NextAt) {
		w.Outbox.release(ctx, id, w.holder)
		return
	}
	s := w.Senders[n.Channel]
	if s == nil {
		w.Logger.Warn("notice dropped: its channel is not configured", zap.String("notice", id), zap.String("channel", n.Channel))
		w.Outbox.done(ctx, id, w.holder)
		return
	}
	sctx, cancel := context.WithTimeout(ctx, w.timeout())
	err = s.Send(sctx, n)
	cancel()
	if err == nil {
		w.Outbox.done(ctx, id, w.holder)
		return
	}
	n.Attempts++
	fields := []zap.Field{zap.String("notice", id), zap.String("event", string(n.Event)), zap.String("kind", string(n.Kind)),
		zap.String("channel", n.Channel), zap.Int("attempts", n.Attempts), zap.Error(err)}
	if n.Attempts >= orInt(w.MaxAttempts, DefaultMaxAttempts) {
		w.Logger.Warn("notice given up", fields...)
		w.Outbox.done(ctx, id, w.holder)
		return
	}
	n.NextAt = w.now().Add(w.backoff(n.Attempts))
	w.Logger.Info("notice not sent; will retry", append(fields, zap.Time("next", n.NextAt))...)
	if err := w.Outbox.retry(ctx, n, w.holder); err != nil {
		w.Logger.Warn("cannot store a notice's retry", zap.String("notice", id), zap.Error(err))
	}
}

// backoff is the wait after the attempts-th failure.
func (w *Worker) backoff(attempts int) time.Duration {
	d, max := w.Backoff, w.MaxBackoff
	if d <= 0 {
		d = DefaultBackoff
	}
	if max <= 0 {
		max = DefaultMaxBackoff
	}
	for i := 1; i < attempts && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}
