package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
)

func benchSink(tb testing.TB) *Sink {
	tb.Helper()
	c, err := New().Register(prometheus.NewRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	return c.Sink()
}

// Counting an event allocates nothing: the one on the signed-in hot path
// (an app password used) nor the others.
func TestSinkDoesNotAllocate(t *testing.T) {
	s := benchSink(t)
	for _, ev := range []struct {
		e      events.Event
		fields []zap.Field
	}{
		{events.AppPasswordUsed, []zap.Field{zap.String("app_password", "mail")}},
		{events.SignedIn, []zap.Field{events.Method("totp"), events.NewBrowser(false)}},
		{events.SignInFailed, []zap.Field{events.Reason("second_factor"), events.Method("sms")}},
		{events.SignInRefused, []zap.Field{events.Reason("locked")}},
		{events.MethodAdded, []zap.Field{events.Method("totp")}},
	} {
		if n := testing.AllocsPerRun(100, func() { s.Event(nil, ev.e, "alice", ev.fields) }); n != 0 {
			t.Errorf("%s: %v allocations per event", ev.e, n)
		}
	}
}

// BenchmarkSinkAppPasswordUsed is the event of the signed-in hot path.
func BenchmarkSinkAppPasswordUsed(b *testing.B) {
	s := benchSink(b)
	fields := []zap.Field{zap.String("app_password", "mail")}
	b.ReportAllocs()
	for b.Loop() {
		s.Event(nil, events.AppPasswordUsed, "alice", fields)
	}
}

// BenchmarkSinkSignInFailed looks up two fields and moves two counters.
func BenchmarkSinkSignInFailed(b *testing.B) {
	s := benchSink(b)
	fields := []zap.Field{events.Reason("second_factor"), events.Method("totp")}
	b.ReportAllocs()
	for b.Loop() {
		s.Event(nil, events.SignInFailed, "alice", fields)
	}
}

// BenchmarkWriterWithSink is a whole event written (to a disabled log) and
// counted, against BenchmarkWriterWithoutSink.
func BenchmarkWriterWithSink(b *testing.B) {
	w := events.New(zap.NewNop())
	w.AddSink(benchSink(b))
	b.ReportAllocs()
	for b.Loop() {
		w.Write(nil, events.AppPasswordUsed, "alice", zap.String("app_password", "mail"))
	}
}

// BenchmarkWriterWithoutSink is the writer alone.
func BenchmarkWriterWithoutSink(b *testing.B) {
	w := events.New(zap.NewNop())
	b.ReportAllocs()
	for b.Loop() {
		w.Write(nil, events.AppPasswordUsed, "alice", zap.String("app_password", "mail"))
	}
}
