package notify

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// benchSink measures what a page pays for a notice: the sink's handling
// of one method_added event (language, rate count, queue size, notice
// and queue writes) on kv, mail and webhook off the page.
func benchSink(b *testing.B, kv store.KV) {
	b.Run("outbox-empty", func(b *testing.B) { benchSinkWaiting(b, kv, 0) })
	b.Run("outbox-1000-waiting", func(b *testing.B) { benchSinkWaiting(b, kv, DefaultMaxQueued) })
}

// benchSinkWaiting keeps waiting notices in the outbox while it measures.
func benchSinkWaiting(b *testing.B, kv store.KV, waiting int) {
	ctx := context.Background()
	_ = kv.Delete(ctx, queueKey)
	for i := range waiting {
		if err := kv.SetAdd(ctx, queueKey, fmt.Sprint("waiting", i), DefaultKeep); err != nil {
			b.Fatal(err)
		}
	}
	renderer, err := ui.New()
	if err != nil {
		b.Fatal(err)
	}
	o := &Outbox{KV: kv, PerUserHour: 1 << 30, MaxQueued: waiting + 1}
	sink := &Sink{Outbox: o, Mail: true, Languages: renderer, Logger: zap.NewNop(),
		Lookup: func(string) (string, string, bool) { return "a@example.com", "A", true }}
	r := request("en")
	i := 0
	for b.Loop() {
		i++
		sink.Event(r, events.MethodAdded, fmt.Sprint("user", i%100), []zap.Field{events.Method("totp")})
		b.StopTimer()
		ids, _ := o.IDs(ctx)
		if len(ids) != waiting+1 {
			b.Fatalf("%d queued, want %d", len(ids), waiting+1)
		}
		for _, id := range ids {
			if !strings.HasPrefix(id, "waiting") {
				_ = kv.SetRemove(ctx, queueKey, id)
				_ = kv.Delete(ctx, noticeKey+id)
			}
		}
		b.StartTimer()
	}
}

func BenchmarkSinkEnqueueMemory(b *testing.B) { benchSink(b, store.NewMemoryKV()) }

// The embedded default: every write committed to the accounts file.
func BenchmarkSinkEnqueueDurable(b *testing.B) {
	bolt, err := store.OpenBolt(filepath.Join(b.TempDir(), "accounts.db"))
	if err != nil {
		b.Fatal(err)
	}
	j := store.NewJournal(bolt, nil)
	b.Cleanup(func() { _ = j.Close(); _ = bolt.Close() })
	kv, err := store.OpenDurableKV(j, func(string) bool { return true })
	if err != nil {
		b.Fatal(err)
	}
	benchSink(b, kv)
}

func BenchmarkSinkEnqueueRedis(b *testing.B) {
	r := redistest.StartServer(b)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	b.Cleanup(func() { rdb.Close() })
	benchSink(b, store.NewRedisKV(rdb, "mfa:"))
}
