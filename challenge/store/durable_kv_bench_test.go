package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// benchDurable is a durable KV on a synced file (as in production).
func benchDurable(b *testing.B) *MemoryKV {
	bolt, err := OpenBolt(filepath.Join(b.TempDir(), "accounts.db"))
	if err != nil {
		b.Fatal(err)
	}
	j := NewJournal(bolt, nil)
	b.Cleanup(func() { _ = j.Close(); _ = bolt.Close() })
	kv, err := OpenDurableKV(j, func(string) bool { return true })
	if err != nil {
		b.Fatal(err)
	}
	return kv
}

// BenchmarkDurableKVSet is one durable write (a sign-in's session) at a
// time: one commit, with its disk syncs, each.
func BenchmarkDurableKVSet(b *testing.B) {
	kv := benchDurable(b)
	v := make([]byte, 80)
	i := 0
	for b.Loop() {
		i++
		if err := kv.Set(context.Background(), fmt.Sprint("session:", i), v, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDurableKVSetParallel is many at once: they share commits.
func BenchmarkDurableKVSetParallel(b *testing.B) {
	kv := benchDurable(b)
	v := make([]byte, 80)
	var n atomic.Int64
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := kv.Set(context.Background(), fmt.Sprint("session:", n.Add(1)), v, time.Hour); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkDurableKVGet is a read: memory only.
func BenchmarkDurableKVGet(b *testing.B) {
	kv := benchDurable(b)
	if err := kv.Set(context.Background(), "session:a", make([]byte, 80), time.Hour); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := kv.Get(context.Background(), "session:a"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDurableKVTouch is a session refresh: memory, and a lazy write.
func BenchmarkDurableKVTouch(b *testing.B) {
	kv := benchDurable(b)
	v := make([]byte, 80)
	if err := kv.Set(context.Background(), "session:a", v, time.Hour); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := kv.Touch(context.Background(), "session:a", v, time.Hour); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
