package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// durableFixture is a DurableKV on a bbolt file, with a fake clock shared
// by the KV and its journal.
type durableFixture struct {
	path  string
	clock *fakeClock
	b     *BoltAccounts
	j     *Journal
	kv    *MemoryKV
}

// persistAllBut is a persist policy: every key but those starting with
// "mem:".
func persistAllBut(key string) bool { return !strings.HasPrefix(key, "mem:") }

func openDurable(t *testing.T, path string, clock *fakeClock) *durableFixture {
	t.Helper()
	return openDurableEvery(t, path, clock, FlushEvery, SweepEvery)
}

// openDurableEvery is openDurable with the journal's flush and sweep
// intervals.
func openDurableEvery(t *testing.T, path string, clock *fakeClock, flush, sweep time.Duration) *durableFixture {
	t.Helper()
	b, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	// The file is synced in production; here, where no machine crashes,
	// what a process wrote is on file all the same, and tests run faster.
	b.db.NoSync = true
	j := newJournal(b.db, clock.Now, func(err error) { t.Logf("lazy commit: %v", err) }, flush, sweep)
	kv, err := OpenDurableKV(j, persistAllBut)
	if err != nil {
		t.Fatal(err)
	}
	kv.SetClock(clock.Now)
	f := &durableFixture{path: path, clock: clock, b: b, j: j, kv: kv}
	t.Cleanup(f.close)
	return f
}

// close stops the journal (writing what it holds) and closes the file, as
// a clean stop of Caddy does.
func (f *durableFixture) close() {
	_ = f.j.Close()
	_ = f.b.Close()
}

// reopen closes cleanly and opens the same file again, as a restart does.
func (f *durableFixture) reopen(t *testing.T) *durableFixture {
	f.close()
	return openDurable(t, f.path, f.clock)
}

// onDisk reads key from the file directly, bypassing memory: nil if absent.
func (f *durableFixture) onDisk(t *testing.T, key string) []byte {
	t.Helper()
	var out []byte
	if err := f.b.db.View(func(tx *bolt.Tx) error {
		if bk := tx.Bucket([]byte(KVBucket)); bk != nil {
			out = slices.Clone(bk.Get([]byte(key)))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *durableFixture) entriesOnDisk(t *testing.T) int {
	t.Helper()
	n := 0
	if err := f.b.db.View(func(tx *bolt.Tx) error {
		if bk := tx.Bucket([]byte(KVBucket)); bk != nil {
			n = bk.Stats().KeyN
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// The durable KV is a KV like the others: the whole contract holds.
func TestDurableKV(t *testing.T) {
	testKV(t, func(t *testing.T) (KV, func(time.Duration)) {
		f := openDurable(t, filepath.Join(t.TempDir(), "accounts.db"), newFakeClock())
		return f.kv, f.clock.Advance
	})
}

// And the contract holds again after a restart in the middle: every
// subtest's KV is reopened from its file before it is handed out, and
// again (through the file alone) at each step of time.
func TestDurableKVAfterReopen(t *testing.T) {
	testKV(t, func(t *testing.T) (KV, func(time.Duration)) {
		f := openDurable(t, filepath.Join(t.TempDir(), "accounts.db"), newFakeClock())
		mustSet(t, f.kv, "warm", "up", time.Hour)
		f = f.reopen(t)
		mustGetKV(t, f.kv, "warm", "up")
		return f.kv, f.clock.Advance
	})
}

// What a restart must not lose: values, counters, sets, once-only guards,
// and what it must not bring back: deleted, taken and used-up keys. Keys
// the policy keeps in memory only are gone.
func TestDurableKVSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	for _, crash := range []bool{false, true} {
		t.Run(map[bool]string{false: "clean stop", true: "crash"}[crash], func(t *testing.T) {
			f := openDurable(t, filepath.Join(t.TempDir(), "accounts.db"), newFakeClock())
			kv := f.kv
			mustSet(t, kv, "session:a", "alice", time.Hour)
			mustSet(t, kv, "session:gone", "x", time.Hour)
			mustSet(t, kv, "lock:bob", "until", time.Hour)
			for range 9 {
				if _, err := kv.Incr(ctx, "codefail:carol", time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			for _, m := range []string{"s1", "s2", "s3"} {
				if err := kv.SetAdd(ctx, "user-sessions:alice", m, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			if err := kv.SetRemove(ctx, "user-sessions:alice", "s2"); err != nil {
				t.Fatal(err)
			}
			if ok, _ := kv.Create(ctx, "once", []byte("1"), time.Hour); !ok {
				t.Fatal("Create")
			}
			mustSet(t, kv, "bypass:dave", "pass", time.Hour)
			if _, err := kv.Take(ctx, "bypass:dave"); err != nil {
				t.Fatal(err)
			}
			mustSet(t, kv, "code:erin", "c1", time.Hour)
			if ok, _ := kv.DeleteIf(ctx, "code:erin", []byte("c1")); !ok {
				t.Fatal("DeleteIf")
			}
			if err := kv.Delete(ctx, "session:gone"); err != nil {
				t.Fatal(err)
			}
			mustSet(t, kv, "mem:push", "in flight", time.Hour)
			if crash {
				// Durable writes are on disk when they return: stop the
				// journal without letting it write anything more.
				f.b.db.Close()
				f.j.Close()
			}
			g := f.reopen(t)
			mustGetKV(t, g.kv, "session:a", "alice")
			mustGetKV(t, g.kv, "lock:bob", "until")
			if n, err := g.kv.Incr(ctx, "codefail:carol", time.Hour); err != nil || n != 10 {
				t.Fatalf("failure run after restart: Incr = %d, %v; want 10", n, err)
			}
			m, _ := g.kv.SetMembers(ctx, "user-sessions:alice")
			slices.Sort(m)
			if !slices.Equal(m, []string{"s1", "s3"}) {
				t.Fatalf("session index after restart = %v, want [s1 s3]", m)
			}
			if ok, _ := g.kv.Create(ctx, "once", []byte("2"), time.Hour); ok {
				t.Fatal("a once-only guard was forgotten by the restart")
			}
			for _, k := range []string{"session:gone", "bypass:dave", "code:erin", "mem:push"} {
				if _, err := g.kv.Get(ctx, k); !errors.Is(err, ErrNotFound) {
					t.Errorf("%s after restart: err = %v, want ErrNotFound", k, err)
				}
			}
			if g.onDisk(t, "mem:push") != nil {
				t.Error("a memory-only key reached the file")
			}
		})
	}
}

// A durable change is committed before the call returns; a Touch reaches
// the file within the flush interval, and never brings back a key deleted
// after it.
func TestDurableKVWriteOrder(t *testing.T) {
	ctx := context.Background()
	f := openDurable(t, filepath.Join(t.TempDir(), "accounts.db"), newFakeClock())
	mustSet(t, f.kv, "session:a", "v1", time.Hour)
	if v := f.onDisk(t, "session:a"); v == nil || !strings.HasSuffix(string(v), "v1") {
		t.Fatalf("after Set returned, the file holds %q", v)
	}
	if ok, err := f.kv.Touch(ctx, "session:a", []byte("v2"), time.Hour); err != nil || !ok {
		t.Fatalf("Touch = %v, %v", ok, err)
	}
	mustGetKV(t, f.kv, "session:a", "v2")
	if err := f.j.Flush(); err != nil {
		t.Fatal(err)
	}
	if v := f.onDisk(t, "session:a"); !strings.HasSuffix(string(v), "v2") {
		t.Fatalf("after a flush, the touched entry on file is %q", v)
	}
	if ok, _ := f.kv.Touch(ctx, "session:none", []byte("x"), time.Hour); ok {
		t.Fatal("Touch created a missing key")
	}

	// Touch, then sign out before the lazy write went out: the sign-out wins.
	if _, err := f.kv.Touch(ctx, "session:a", []byte("v3"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := f.kv.Delete(ctx, "session:a"); err != nil {
		t.Fatal(err)
	}
	if v := f.onDisk(t, "session:a"); v != nil {
		t.Fatalf("after Delete returned, the file still holds %q", v)
	}
	if err := f.j.Flush(); err != nil {
		t.Fatal(err)
	}
	if v := f.onDisk(t, "session:a"); v != nil {
		t.Fatalf("a touch before the sign-out brought the session back: %q", v)
	}
	g := f.reopen(t)
	if _, err := g.kv.Get(ctx, "session:a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("signed-out session after restart: err = %v", err)
	}
}

// Concurrent changes all reach the file, each before its call returns
// (they share commits), and the file agrees with memory afterwards.
func TestDurableKVConcurrentWritesAllLand(t *testing.T) {
	ctx := context.Background()
	f := openDurable(t, filepath.Join(t.TempDir(), "accounts.db"), newFakeClock())
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				k := fmt.Sprintf("session:%d-%d", w, i)
				if err := f.kv.Set(ctx, k, []byte(k), time.Hour); err != nil {
					t.Error(err)
					return
				}
				if f.onDisk(t, k) == nil {
					t.Errorf("%s not on file when Set returned", k)
				}
				if _, err := f.kv.Incr(ctx, "shared-counter", time.Hour); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	g := f.reopen(t)
	if n := g.entriesOnDisk(t); n != 8*25+1 {
		t.Fatalf("%d entries on file, want %d", n, 8*25+1)
	}
	if n, _ := g.kv.Incr(ctx, "shared-counter", time.Hour); n != 8*25+1 {
		t.Fatalf("counter after 200 concurrent increments and a restart: next is %d, want 201", n)
	}
}

// Expired entries leave the file (the journal's sweep), and are not loaded
// back: churn through many short-lived sessions keeps the file bounded by
// the live ones. Bound: after 20 rounds of 1000 sessions that each expire,
// the file is no larger than after the second round, and holds only the
// round still alive.
func TestDurableKVSweepBoundsFile(t *testing.T) {
	ctx := context.Background()
	f := openDurable(t, filepath.Join(t.TempDir(), "accounts.db"), newFakeClock())
	value := []byte(strings.Repeat("s", 100))
	var afterSecond int64
	for round := range 20 {
		for i := range 1000 {
			if err := f.kv.Set(ctx, fmt.Sprintf("session:%d-%d", round, i), value, 30*time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		f.clock.Advance(31 * time.Minute)   // this round has expired
		if err := f.j.Flush(); err != nil { // the next commit sweeps
			t.Fatal(err)
		}
		if round == 1 {
			afterSecond = fileSize(t, f.path)
		}
	}
	if n := f.entriesOnDisk(t); n != 0 {
		t.Fatalf("%d expired entries left on file after the sweep", n)
	}
	if size := fileSize(t, f.path); size > afterSecond {
		t.Fatalf("file grew from %d bytes (round 2) to %d (round 20) with no more live entries", afterSecond, size)
	}
	// Expired entries still on file (before a sweep) are not loaded.
	mustSet(t, f.kv, "session:late", "x", time.Minute)
	f.clock.Advance(2 * time.Minute)
	if err := f.b.db.Close(); err != nil { // a crash before any sweep
		t.Fatal(err)
	}
	f.j.Close()
	g := openDurable(t, f.path, f.clock)
	if n := g.kv.Len(); n != 0 {
		t.Fatalf("%d expired entries loaded after a restart", n)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// When the file cannot be written, a change fails (as a store that cannot
// be reached: the gateway answers 503) and memory keeps the old value:
// never a sign-out that only happened in memory, or a session only there.
func TestDurableKVWriteFailureChangesNothing(t *testing.T) {
	ctx := context.Background()
	f := openDurable(t, filepath.Join(t.TempDir(), "accounts.db"), newFakeClock())
	mustSet(t, f.kv, "session:a", "v1", time.Hour)
	if err := f.b.db.Close(); err != nil {
		t.Fatal(err)
	}
	for name, op := range map[string]func() error{
		"Set":    func() error { return f.kv.Set(ctx, "session:a", []byte("v2"), time.Hour) },
		"Delete": func() error { return f.kv.Delete(ctx, "session:a") },
		"Incr":   func() error { _, err := f.kv.Incr(ctx, "n", time.Hour); return err },
		"SetAdd": func() error { return f.kv.SetAdd(ctx, "s", "m", time.Hour) },
		"Take":   func() error { _, err := f.kv.Take(ctx, "session:a"); return err },
	} {
		if err := op(); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s on an unwritable file: err = %v, want ErrUnavailable", name, err)
		}
	}
	mustGetKV(t, f.kv, "session:a", "v1")
	if _, err := f.kv.Get(ctx, "n"); !errors.Is(err, ErrNotFound) {
		t.Error("a failed Incr changed memory")
	}
}

// A hung disk (here: a write transaction held by someone else, so the
// journal's commit cannot start) fails a durable write as unavailable
// within DurableWait instead of holding the request; memory is left as it
// was; and the write lands once the disk answers, the file ahead of
// memory, never behind.
func TestDurableWriteOnAHungDiskFailsClosed(t *testing.T) {
	f := openDurable(t, filepath.Join(t.TempDir(), "accounts.db"), newFakeClock())
	f.j.durableWait = 200 * time.Millisecond
	ctx := context.Background()
	hold, err := f.b.db.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.kv.Set(ctx, "session:abc", []byte("alice"), time.Hour) }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Set on a hung disk = %v; want ErrUnavailable", err)
		}
	case <-time.After(3 * time.Second):
		_ = hold.Rollback()
		t.Fatal("Set on a hung disk still waiting after 3 s (bound 200ms)")
	}
	if _, err := f.kv.Get(ctx, "session:abc"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a write that failed changed memory: Get = %v", err)
	}
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := f.j.Flush(); err != nil {
		t.Fatal(err)
	}
	g := f.reopen(t)
	if v, err := g.kv.Get(ctx, "session:abc"); err != nil || string(v) != "alice" {
		t.Fatalf("after the disk answered and a restart: Get = %q, %v; want the late commit on file", v, err)
	}
}
