package challenge

import (
	"context"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// A session may start MaxKeyPages key pages in the time a ceremony lasts;
// other sessions are not held back, and the count ends with the timeout.
func TestStartKeyPageLimit(t *testing.T) {
	f := newKeyFixture(t)
	f.e.KV.(*store.MemoryKV).SetClock(f.clock.Now)
	ctx := context.Background()
	for i := range MaxKeyPages {
		if ok, err := f.e.StartKeyPage(ctx, "tag-1"); !ok || err != nil {
			t.Fatalf("key page %d = %v, %v", i+1, ok, err)
		}
	}
	if ok, err := f.e.StartKeyPage(ctx, "tag-1"); ok || err != nil {
		t.Fatalf("key page %d = %v, %v, want refused", MaxKeyPages+1, ok, err)
	}
	if ok, err := f.e.StartKeyPage(ctx, "tag-2"); !ok || err != nil {
		t.Fatalf("another session's first key page = %v, %v", ok, err)
	}
	f.clock.Advance(f.e.SecurityKeys.Timeout)
	if ok, err := f.e.StartKeyPage(ctx, "tag-1"); !ok || err != nil {
		t.Fatalf("key page after the timeout = %v, %v", ok, err)
	}
}
