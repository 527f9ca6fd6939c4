package regulation

import (
	"context"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// A sign-in from an address the user signed in from less than
// knownRefresh ago writes nothing (with the embedded store, every write
// syncs the disk); a later one renews the address for KnownAddressFor.
func TestSignedInFromRefreshesAtMostDaily(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	kv := store.NewMemoryKV()
	kv.SetClock(clock)
	r := New(DefaultLimits(), limit.NewMemory(), kv, clock)
	const addr = "192.0.2.10"
	recorded := func() string {
		t.Helper()
		v, err := kv.Get(ctx, knownKey("alice", addr))
		if err != nil {
			return ""
		}
		return string(v)
	}
	signIn := func() {
		t.Helper()
		if err := r.SignedInFrom(ctx, "alice", addr); err != nil {
			t.Fatal(err)
		}
	}
	signIn()
	first := recorded()
	if first == "" {
		t.Fatal("the address of a sign-in was not recorded")
	}
	now = now.Add(knownRefresh - time.Minute)
	signIn()
	if got := recorded(); got != first {
		t.Fatalf("a sign-in %v after the last one rewrote the address: %q, was %q", knownRefresh-time.Minute, got, first)
	}
	now = now.Add(2 * time.Minute)
	signIn()
	renewed := now
	if got := recorded(); got == first {
		t.Fatal("a sign-in past the refresh interval did not renew the address")
	}
	now = renewed.Add(KnownAddressFor - time.Minute)
	if recorded() == "" {
		t.Fatal("the renewed address was forgotten before KnownAddressFor")
	}
	now = renewed.Add(KnownAddressFor + time.Minute)
	if recorded() != "" {
		t.Fatal("the address outlived KnownAddressFor after the last renewal")
	}
}
