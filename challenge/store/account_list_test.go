package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// testAccountLister: Users lists exactly the accounts written, removed
// ones not, and no record of another prefix.
func testAccountLister(t *testing.T, s interface {
	Accounts
	AccountLister
}) {
	t.Helper()
	ctx := context.Background()
	if got, err := s.Users(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Users of an empty store = %q, %v", got, err)
	}
	for _, u := range []string{"alice", "bob", "carol"} {
		if err := s.Update(ctx, u, func(*Account) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"alice", "carol"}) {
		t.Fatalf("Users = %q, want alice and carol", got)
	}
}

func TestMemoryAccountsUsers(t *testing.T) { testAccountLister(t, NewMemoryAccounts()) }

func TestBoltAccountsUsers(t *testing.T) {
	testAccountLister(t, openTestBolt(t, t.TempDir()+"/accounts.db"))
}

// On Redis, a prefix with SCAN's wildcard characters matches only itself.
func TestRedisAccountsUsers(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	other := NewRedisAccounts(rdb, prefix+"x:")
	if err := other.Update(context.Background(), "mallory", func(*Account) error { return nil }); err != nil {
		t.Fatal(err)
	}
	testAccountLister(t, NewRedisAccounts(rdb, prefix+"[a]*:"))
	testAccountLister(t, NewRedisAccounts(rdb, prefix+"y:"))
}

// testKeyLister: Keys lists the live keys under a prefix, without it.
func testKeyLister(t *testing.T, kv interface {
	KV
	KeyLister
}) {
	t.Helper()
	ctx := context.Background()
	for _, k := range []string{"user-sessions:alice", "user-sessions:bob", "session:x", "user-sessionsX"} {
		if err := kv.SetAdd(ctx, k, "m", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if err := kv.Delete(ctx, "user-sessions:bob"); err != nil {
		t.Fatal(err)
	}
	got, err := kv.Keys(ctx, "user-sessions:")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"alice"}) {
		t.Fatalf("Keys = %q, want alice", got)
	}
}

func TestMemoryKVKeys(t *testing.T) { testKeyLister(t, NewMemoryKV()) }

func TestRedisKVKeys(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	testKeyLister(t, NewRedisKV(rdb, prefix+"[k]:"))
}
