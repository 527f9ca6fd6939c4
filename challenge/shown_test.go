package challenge

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// TestShownSecret: a secret kept for a session's result page is shown the
// same every time until ShownTTL is up, only to that session and user, and
// is sealed in the store (no plain codes there); a new one replaces it.
func TestShownSecret(t *testing.T) {
	f := newFixture(t)
	kv := store.NewMemoryKV()
	kv.SetClock(f.clock.Now)
	f.e.KV = kv
	ctx := context.Background()
	codes := []string{"aaaa-bbbb-cccc", "dddd-eeee-ffff"}
	if err := f.e.KeepShown(ctx, "tag1", "alice", ShownRecovery, Shown{Secrets: codes, Return: "/app"}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // a reload shows the same
		s, ok, err := f.e.ShownResult(ctx, "tag1", "alice", ShownRecovery)
		if err != nil || !ok || !slices.Equal(s.Secrets, codes) || s.Return != "/app" {
			t.Fatalf("ShownResult = %+v, %v, %v", s, ok, err)
		}
	}
	raw, err := f.e.KV.Get(ctx, "shown:"+ShownRecovery+":tag1")
	if err != nil || strings.Contains(string(raw), "aaaa-bbbb") {
		t.Fatalf("stored %q, %v: want it sealed", raw, err)
	}
	for _, c := range []struct{ session, user, kind string }{
		{"tag2", "alice", ShownRecovery}, {"tag1", "bob", ShownRecovery}, {"tag1", "alice", ShownAppPassword},
	} {
		if _, ok, err := f.e.ShownResult(ctx, c.session, c.user, c.kind); ok || err != nil {
			t.Errorf("ShownResult(%+v) = %v, %v; want none", c, ok, err)
		}
	}
	if err := f.e.KeepShown(ctx, "tag1", "alice", ShownRecovery, Shown{Secrets: []string{"new"}}); err != nil {
		t.Fatal(err)
	}
	if s, _, _ := f.e.ShownResult(ctx, "tag1", "alice", ShownRecovery); !slices.Equal(s.Secrets, []string{"new"}) {
		t.Fatalf("after a new set: %q", s.Secrets)
	}
	f.clock.Advance(ShownTTL + time.Second)
	if _, ok, err := f.e.ShownResult(ctx, "tag1", "alice", ShownRecovery); ok || err != nil {
		t.Fatalf("after ShownTTL: %v, %v; want none", ok, err)
	}
	if PersistKey("shown:" + ShownRecovery + ":tag1") {
		t.Error("a secret to show is written to disk")
	}
}
