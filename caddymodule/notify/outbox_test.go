package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
	"github.com/caddy-mfa/caddy-mfa/internal/smtptest"
)

func fastWorker(o *Outbox, m *Mailer, log *zap.Logger) *Worker {
	w := NewWorker(o, map[string]Sender{ChannelMail: m}, log)
	w.Timeout, w.PollEvery, w.Backoff, w.MaxBackoff = time.Second, 20*time.Millisecond, 50*time.Millisecond, 200*time.Millisecond
	return w
}

func runWorker(t *testing.T, w *Worker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// SMTP down: the notice waits in the outbox, is retried with backoff and
// delivered once when the server is back.
func TestOutboxRetriesUntilTheServerIsBack(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "smtp-pass-123"})
	s.Stop()
	core, logs := observer.New(zap.InfoLevel)
	o := &Outbox{KV: store.NewMemoryKV()}
	n := sampleNotice(MethodAdded, "en")
	if err := o.Enqueue(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	runWorker(t, fastWorker(o, testMailer(t, s, TLSStartTLS), zap.New(core)))
	time.Sleep(400 * time.Millisecond)
	if got := logs.FilterMessage("notice not sent; will retry").Len(); got < 2 {
		t.Fatalf("%d retries logged in 400ms with the server down, want at least 2: %v", got, logs.All())
	}
	s.Restart()
	msgs := s.Wait(t, 1, 3*time.Second)
	time.Sleep(300 * time.Millisecond) // no second copy
	if msgs = s.Messages(); len(msgs) != 1 || decodeMessage(t, msgs[0]).MessageID != "<"+n.ID+"@example.com>" {
		t.Fatalf("%d messages after the restart, want 1", len(msgs))
	}
	if ids, _ := o.IDs(context.Background()); len(ids) != 0 {
		t.Errorf("outbox still holds %v", ids)
	}
}

// SMTP slow (3 s before it answers DATA): queueing a notice, which is all
// a page does, stays fast; the worker delivers it later.
func TestSlowServerDoesNotSlowEnqueue(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "smtp-pass-123"})
	s.SetDelay(3 * time.Second)
	o := &Outbox{KV: store.NewMemoryKV()}
	m := testMailer(t, s, TLSStartTLS)
	w := fastWorker(o, m, zap.NewNop())
	w.Timeout = 5 * time.Second
	runWorker(t, w)
	var worst time.Duration
	for i := range 10 {
		n := sampleNotice(MethodAdded, "en")
		n.User = fmt.Sprintf("user%d", i)
		start := time.Now()
		if err := o.Enqueue(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		w.Wake()
		worst = max(worst, time.Since(start))
	}
	t.Logf("worst enqueue with a 3s-slow SMTP server: %v", worst)
	if worst > 50*time.Millisecond {
		t.Errorf("enqueue took %v, want under 50ms", worst)
	}
	s.Wait(t, 1, 6*time.Second)
}

// A worker that gives up logs a warn line with the notice id and event,
// never its body or address.
func TestWorkerGivesUp(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "smtp-pass-123"})
	s.Stop()
	core, logs := observer.New(zap.InfoLevel)
	o := &Outbox{KV: store.NewMemoryKV()}
	n := sampleNotice(LockedOut, "en")
	n.Event = "locked_out"
	if err := o.Enqueue(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	w := fastWorker(o, testMailer(t, s, TLSStartTLS), zap.New(core))
	w.MaxAttempts, w.Backoff, w.MaxBackoff = 3, 10*time.Millisecond, 10*time.Millisecond
	runWorker(t, w)
	deadline := time.Now().Add(3 * time.Second)
	for logs.FilterMessage("notice given up").Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	given := logs.FilterMessage("notice given up").All()
	if len(given) != 1 || given[0].Level != zapcore.WarnLevel {
		t.Fatalf("given up: %v", given)
	}
	m := given[0].ContextMap()
	if m["notice"] != n.ID || m["event"] != "locked_out" || m["attempts"] != int64(3) {
		t.Errorf("fields %v", m)
	}
	for _, e := range logs.All() {
		line := fmt.Sprint(e.ContextMap())
		if strings.Contains(line, "alice@example.com") || strings.Contains(line, "smtp-pass-123") || strings.Contains(line, "Tuesday") {
			t.Errorf("log line shows the address, password or body: %s", line)
		}
	}
	if ids, _ := o.IDs(context.Background()); len(ids) != 0 {
		t.Errorf("outbox still holds %v", ids)
	}
}

// The bounds: at most MaxQueued notices wait, at most PerUserHour a user
// and hour.
func TestOutboxBounds(t *testing.T) {
	ctx := context.Background()
	o := &Outbox{KV: store.NewMemoryKV(), MaxQueued: 5, PerUserHour: 3}
	for i := range 3 {
		if err := o.Enqueue(ctx, sampleNotice(MethodAdded, "en")); err != nil {
			t.Fatalf("notice %d of alice: %v", i+1, err)
		}
	}
	if err := o.Enqueue(ctx, sampleNotice(MethodAdded, "en")); !errors.Is(err, ErrUserRate) {
		t.Fatalf("4th notice of alice in the hour: %v, want ErrUserRate", err)
	}
	for i := range 3 {
		n := sampleNotice(MethodAdded, "en")
		n.User = fmt.Sprintf("u%d", i)
		err := o.Enqueue(ctx, n)
		if i < 2 && err != nil || i == 2 && !errors.Is(err, ErrFull) {
			t.Fatalf("notice %d of the queue: %v", 4+i, err)
		}
	}
	if ids, _ := o.IDs(ctx); len(ids) != 5 {
		t.Errorf("%d notices queued, want 5", len(ids))
	}
	// The next hour, alice may have notices again (once the queue has room).
	o.Now = func() time.Time { return time.Now().Add(time.Hour) }
	o.MaxQueued = 6
	if err := o.Enqueue(ctx, sampleNotice(MethodAdded, "en")); err != nil {
		t.Fatalf("alice the next hour: %v", err)
	}
}

// Two workers on one Redis: every notice arrives exactly once.
func TestTwoWorkersOnRedisSendEachOnce(t *testing.T) {
	r := redistest.StartServer(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { rdb.Close() })
	kv := store.NewRedisKV(rdb, "mfa:")
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "smtp-pass-123"})
	s.SetDelay(20 * time.Millisecond)
	o := &Outbox{KV: kv, PerUserHour: 100}
	const total = 30
	want := map[string]bool{}
	for range total {
		n := sampleNotice(MethodAdded, "en")
		want["<"+n.ID+"@example.com>"] = true
		if err := o.Enqueue(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	for range 2 {
		w := fastWorker(&Outbox{KV: store.NewRedisKV(rdb, "mfa:")}, testMailer(t, s, TLSStartTLS), zap.NewNop())
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(ctx) }()
	}
	s.Wait(t, total, 20*time.Second)
	time.Sleep(300 * time.Millisecond)
	cancel()
	wg.Wait()
	msgs := s.Messages()
	seen := map[string]int{}
	for _, m := range msgs {
		seen[decodeMessage(t, m).MessageID]++
	}
	if len(msgs) != total || len(seen) != total {
		t.Fatalf("%d messages, %d distinct; want %d of each", len(msgs), len(seen), total)
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("%s arrived %d times", id, seen[id])
		}
	}
}

// A gateway that dies holding a notice's lease: once the lease runs out,
// another worker sends it, under the same Message-ID (at least once).
func TestLeaseOfADeadWorkerRunsOut(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "smtp-pass-123"})
	kv := store.NewMemoryKV()
	o := &Outbox{KV: kv}
	n := sampleNotice(MethodAdded, "en")
	if err := o.Enqueue(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := o.claim(context.Background(), n.ID, "dead-gateway", 500*time.Millisecond); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	start := time.Now()
	runWorker(t, fastWorker(o, testMailer(t, s, TLSStartTLS), zap.NewNop()))
	msgs := s.Wait(t, 1, 3*time.Second)
	if took := time.Since(start); took < 450*time.Millisecond {
		t.Errorf("sent after %v, while the dead worker's lease held", took)
	}
	if got := decodeMessage(t, msgs[0]).MessageID; got != "<"+n.ID+"@example.com>" {
		t.Errorf("Message-ID %q", got)
	}
}
