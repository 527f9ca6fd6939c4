package store

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// Deferred changes are made in memory at once, and reach the file with
// the next durable change, in its commit: with no flush due (an hour
// away), nothing else writes them.
func TestDeferredChangesGoWithTheNextDurableOne(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	f := openDurableEvery(t, filepath.Join(t.TempDir(), "accounts.db"), clock, time.Hour, time.Hour)
	kv := f.kv

	mustSet(t, kv, "session:old", "alice, one factor", time.Hour)
	if err := kv.SetAdd(ctx, "user-sessions:alice", "old", time.Hour); err != nil {
		t.Fatal(err)
	}
	// A sign-in's rotation: the old session out, the new one in.
	if err := kv.DeferDelete(ctx, "session:old"); err != nil {
		t.Fatal(err)
	}
	if err := kv.DeferSetRemove(ctx, "user-sessions:alice", "old"); err != nil {
		t.Fatal(err)
	}
	if err := kv.DeferSetAdd(ctx, "user-sessions:alice", "new", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "session:old"); err == nil {
		t.Fatal("a deferred delete is not seen at once")
	}
	if m, _ := kv.SetMembers(ctx, "user-sessions:alice"); !slices.Equal(m, []string{"new"}) {
		t.Fatalf("index in memory = %v, want [new]", m)
	}
	if f.onDisk(t, "session:old") == nil {
		t.Fatal("a deferred delete synced by itself")
	}
	mustSet(t, kv, "session:new", "alice, two factors", time.Hour)
	if f.onDisk(t, "session:old") != nil {
		t.Fatal("the deferred delete did not go with the durable write after it")
	}
	g := f.reopen(t)
	m, _ := g.kv.SetMembers(ctx, "user-sessions:alice")
	if !slices.Equal(m, []string{"new"}) {
		t.Fatalf("index after a restart = %v, want [new]", m)
	}
	mustGetKV(t, g.kv, "session:new", "alice, two factors")
}
